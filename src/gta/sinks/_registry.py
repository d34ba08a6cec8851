"""Choose a sink by URL: the scheme names a registered :class:`~gta.sinks.SinkSpec`, whose
``open`` imports the sink's module only then, so a sink's dependencies load only when it is
used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gta._urls import redact_url as redact_url  # moved below every package; re-exported here
from gta.sinks._base import Sink, SinkConfigError
from gta.sinks._spec import Check, SinkSpec, registered, spec_for


def schemes() -> tuple[str, ...]:
    """Every registered scheme, built-ins first."""
    return tuple(scheme for spec in registered() for scheme in spec.schemes)


def sink_specs() -> tuple[SinkSpec, ...]:
    """Every registered sink spec once (what ``gta sinks list`` shows)."""
    return registered()


def _spec(url: str) -> SinkSpec:
    scheme = _scheme_of(url)
    spec = spec_for(scheme)
    if spec is None:
        valid = ", ".join(spec.scheme_form(s) for spec in registered() for s in spec.schemes)
        raise SinkConfigError(
            f"unknown sink scheme {scheme!r} in {redact_url(url)!r}; "
            f"use '-', a file path, or one of: {valid}"
        )
    return spec


def open_sink(url: str, **options: Any) -> Sink:
    """Open the sink for ``url``: ``-`` is stdout, a bare path or ``jsonl:PATH`` a JSON lines
    file, otherwise the scheme picks the sink. An unknown scheme lists the valid ones."""
    return _spec(url).open(url, dict(options))


def check_sink(url: str, options: Mapping[str, Any]) -> list[Check]:
    """Run ``gta sinks check`` for ``url``; raises ``SinkConfigError`` for a URL that cannot
    work or a sink that has nothing to check."""
    spec = _spec(url)
    if spec.check is None:
        covered = ", ".join(
            spec.scheme_form(s) for spec in registered() if spec.check for s in spec.schemes
        )
        raise SinkConfigError(
            f"nothing to check for {redact_url(url)!r}: checks cover {covered} URLs"
        )
    return spec.check(url, dict(options))


def destination_key(url: str, options: Mapping[str, Any] | None = None) -> str | None:
    """What a sink URL writes to, as one string: two jobs with the same key write the same
    place. ``None`` for stdout (each run has its own). Holds no secret (no token, no userinfo).

    Each sink says what names its destination (``SinkSpec.destination_key``): a file is its
    absolute path with symlinks resolved; Splunk HEC is host, port, path prefix and index;
    syslog is transport, host and port; otherwise the URL with secrets redacted."""
    spec = spec_for(_scheme_of(url))
    if spec is None or spec.destination_key is None:
        return redact_url(url)
    return spec.destination_key(url, options or {})


def _scheme_of(url: str) -> str:
    if url == "-":
        return "jsonl"
    head, sep, _ = url.partition(":")
    # A bare path ("out.jsonl", "/var/log/gta.jsonl", "C:\\x") has no scheme of ours.
    if not sep or "/" in head or "\\" in head or len(head) == 1:
        return "jsonl"
    return head.lower()
