"""Destinations for records: JSON lines (file or stdout), Splunk HEC, syslog (RFC 5424, CEF),
Elasticsearch / OpenSearch, Microsoft Sentinel, and any sink registered with
:func:`register_sink` (or the ``gta.sinks`` entry point group)."""

from typing import Any

from gta.sinks._base import Record, Sink, SinkConfigError, SinkError
from gta.sinks._options import (
    Count,
    Flag,
    Positive,
    PositiveInt,
    SinkOptions,
    Text,
    option,
    option_rows,
    read_options,
)
from gta.sinks._registry import (
    check_sink,
    destination_key,
    open_sink,
    redact_url,
    schemes,
    sink_specs,
)
from gta.sinks._spec import Check, SinkSpec, register_sink, unregister_sink

__all__ = [
    "SCHEMES",
    "Check",
    "Count",
    "Flag",
    "Positive",
    "PositiveInt",
    "Record",
    "Sink",
    "SinkConfigError",
    "SinkError",
    "SinkOptions",
    "SinkSpec",
    "Text",
    "check_sink",
    "destination_key",
    "open_sink",
    "option",
    "option_rows",
    "read_options",
    "redact_url",
    "register_sink",
    "sink_specs",
    "unregister_sink",
]


def __getattr__(name: str) -> Any:
    # Every registered scheme, read when asked (a plugin may register after import).
    if name == "SCHEMES":
        return schemes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
