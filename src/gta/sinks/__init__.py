"""Destinations for records: JSON lines (file or stdout), Splunk HEC, syslog (RFC 5424, CEF)."""

from gta.sinks._base import Record, Sink, SinkConfigError, SinkError
from gta.sinks._registry import SCHEMES, destination_key, open_sink, redact_url

__all__ = [
    "SCHEMES",
    "Record",
    "Sink",
    "SinkConfigError",
    "SinkError",
    "destination_key",
    "open_sink",
    "redact_url",
]
