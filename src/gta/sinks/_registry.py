"""Choose a sink by URL. Each scheme names a factory ``open_x(url, options) -> Sink``,
imported lazily so a sink's dependencies load only when it is used."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping
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
    # Microsoft Sentinel / Azure Monitor Logs Ingestion API
    "sentinel+https": "gta.sinks._sentinel:open_sentinel",
}

SCHEMES = tuple(_SCHEMES)


# -- What a scheme list (``gta sinks list``) shows: scheme -> (description, option names). ------
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


def destination_key(url: str, options: Mapping[str, Any] | None = None) -> str | None:
    """What a sink URL writes to, as one string: two jobs with the same key write the same
    place. ``None`` for stdout (each run has its own). Holds no secret (no token, no userinfo).

    A file is its absolute path with symlinks resolved; Splunk HEC is host, port, path prefix
    and index (options win over the URL, as in the sink); syslog is transport, host and port."""
    from urllib.parse import parse_qsl, urlsplit

    scheme = _scheme_of(url)
    if scheme == "jsonl":
        target = url[len("jsonl:") :] if url.startswith("jsonl:") else url
        if target == "-" or not target:
            return None
        return "file:" + os.path.realpath(os.path.expanduser(target))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return redact_url(url)  # the sink itself will refuse it with its own message
    host = (parts.hostname or "").lower()
    if scheme.startswith("splunk-hec+"):
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        index = (options or {}).get("index") or query.get("index") or ""
        path = re.sub(r"/services/collector(/event(/1\.0)?|/raw)?/?$", "", parts.path).rstrip("/")
        return f"splunk-hec://{host}:{port or 8088}{path}?index={index}"
    if scheme.startswith("syslog+"):
        default = 6514 if scheme == "syslog+tls" else 514
        return f"{scheme}://{host}:{port or default}"
    return redact_url(url)


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
