"""Choose a sink by URL. Each scheme names a factory ``open_x(url, options) -> Sink``,
imported lazily so a sink's dependencies load only when it is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gta.sinks._base import Sink, SinkConfigError

SinkFactory = Callable[[str, dict[str, Any]], Sink]

# scheme -> "module:factory"
_SCHEMES: dict[str, str] = {
    "jsonl": "gta.sinks._jsonl:open_jsonl",
    "splunk-hec+https": "gta.sinks._splunk_hec:open_splunk_hec",
    "splunk-hec+http": "gta.sinks._splunk_hec:open_splunk_hec",
    "syslog+udp": "gta.sinks._syslog:open_syslog",
    "syslog+tcp": "gta.sinks._syslog:open_syslog",
    "syslog+tls": "gta.sinks._syslog:open_syslog",
    # Elasticsearch / OpenSearch _bulk (one sink for both)
    "elasticsearch+https": "gta.sinks._elasticsearch:open_elasticsearch",
    "elasticsearch+http": "gta.sinks._elasticsearch:open_elasticsearch",
    "opensearch+https": "gta.sinks._elasticsearch:open_elasticsearch",
    "opensearch+http": "gta.sinks._elasticsearch:open_elasticsearch",
}

SCHEMES = tuple(_SCHEMES)


def open_sink(url: str, **options: Any) -> Sink:
    """Open the sink for ``url``: ``-`` is stdout, a bare path or ``jsonl:PATH`` a JSON lines
    file, otherwise the scheme picks the sink. An unknown scheme lists the valid ones."""
    scheme = _scheme_of(url)
    try:
        target = _SCHEMES[scheme]
    except KeyError:
        valid = ", ".join(f"{s}:" if s == "jsonl" else f"{s}://" for s in _SCHEMES)
        raise SinkConfigError(
            f"unknown sink scheme {scheme!r} in {redact_url(url)!r}; "
            f"use '-', a file path, or one of: {valid}"
        ) from None
    module_name, attribute = target.split(":")
    factory: SinkFactory = getattr(importlib.import_module(module_name), attribute)
    return factory(url, dict(options))


def _scheme_of(url: str) -> str:
    if url == "-":
        return "jsonl"
    head, sep, _ = url.partition(":")
    # A bare path ("out.jsonl", "/var/log/gta.jsonl", "C:\\x") has no scheme of ours.
    if not sep or "/" in head or "\\" in head or len(head) == 1:
        return "jsonl"
    return head.lower()


def redact_url(url: str) -> str:
    """The URL with any userinfo and query values that look secret replaced by ``***``."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = [
        (k, "***" if any(w in k.lower() for w in ("token", "password", "secret", "key")) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, safe="*"), parts.fragment)
    )
