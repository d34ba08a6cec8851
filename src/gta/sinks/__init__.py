"""Destinations for records: JSON lines, Splunk HEC, syslog."""

from gta.sinks._base import Record, Sink, SinkConfigError, SinkError

__all__ = ["Record", "Sink", "SinkConfigError", "SinkError"]
