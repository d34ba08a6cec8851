"""Syslog sink settings: ``syslog+udp|tcp|tls://HOST:PORT?format=json|cef&...`` plus options
(options win over query parameters), checked before any connection."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gta.sinks._base import SinkConfigError, split_sink_url
from gta.sinks._options import (
    PositiveInt,
    RetryOptions,
    RetrySettings,
    Text,
    TlsOptions,
    option,
    read_options,
)
from gta.sinks._spec import SinkSpec, on_call
from gta.sinks._tls import ca_file

FACILITIES = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    "local0": 16,
    "local1": 17,
    "local2": 18,
    "local3": 19,
    "local4": 20,
    "local5": 21,
    "local6": 22,
    "local7": 23,
}


class SyslogOptions(TlsOptions, RetryOptions):
    """The options of ``syslog+tls://``, ``syslog+tcp://`` and ``syslog+udp://``."""

    format: Text = option("json", "message payload: json or cef")
    facility: Text = option("local0", "facility name or number 0-23")
    app_name: Text = option("gta", "APP-NAME of the messages")
    hostname: Text | None = option(None, "HOSTNAME of the messages", shown="this host")
    max_message_bytes: PositiveInt | None = option(
        None, "longer messages are cut", shown="65536 (UDP 2048)"
    )


@dataclass(frozen=True)
class SyslogConfig(RetrySettings):
    transport: str  # "udp" | "tcp" | "tls"
    host: str
    port: int
    format: str = "json"
    facility: int = 16
    app_name: str = "gta"
    hostname: str = "-"
    ca_bundle: str | None = None
    insecure: bool = False
    max_message_bytes: int = 65536


def ascii_field(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces (RFC 5424 PRINTUSASCII), or ``-``."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or "-"


def parse_syslog_url(url: str, options: Mapping[str, Any]) -> SyslogConfig:
    """Config from ``syslog+udp|tcp|tls://HOST:PORT?format=json|cef&...`` plus options
    (options win over query parameters)."""
    parts = split_sink_url(url)
    transport = parts.scheme.lower().removeprefix("syslog+")
    if transport not in ("udp", "tcp", "tls"):
        raise SinkConfigError(f"not a syslog URL: {parts.scheme!r}; use syslog+udp|tcp|tls://")
    if not parts.hostname:
        raise SinkConfigError("syslog URL needs a host, e.g. syslog+tls://siem.example:6514")
    port = parts.port or (6514 if transport == "tls" else 514)
    given = read_options("syslog", SyslogOptions, parts.query, options, url_word="option")
    fmt = given.format.lower()
    if fmt not in ("json", "cef"):
        raise SinkConfigError(f"syslog format {fmt!r} is not supported; use json or cef")
    facility_value = given.facility.lower()
    if facility_value.isdigit() and 0 <= int(facility_value) <= 23:
        facility = int(facility_value)
    elif facility_value in FACILITIES:
        facility = FACILITIES[facility_value]
    else:
        raise SinkConfigError(
            f"syslog facility {facility_value!r} is unknown; use 0-23 or one of: "
            + ", ".join(FACILITIES)
        )
    ca_bundle = ca_file("syslog", given.ca_bundle)
    default_max = 2048 if transport == "udp" else 65536
    max_bytes = given.max_message_bytes or default_max
    if max_bytes < 480:
        raise SinkConfigError("syslog max_message_bytes must be at least 480 (RFC 5424 §6.1)")
    if transport == "udp" and max_bytes > 65507:
        raise SinkConfigError(
            "syslog max_message_bytes over UDP cannot exceed 65507 (one datagram)"
        )
    return SyslogConfig(
        **given.retry_settings(),
        transport=transport,
        host=parts.hostname,
        port=port,
        format=fmt,
        facility=facility,
        app_name=ascii_field(given.app_name, 48),
        hostname=ascii_field(given.hostname or socket.gethostname(), 255),
        ca_bundle=ca_bundle,
        insecure=given.insecure,
        max_message_bytes=max_bytes,
    )


def syslog_destination(url: str, options: Mapping[str, Any]) -> str | None:
    """Transport, host and port."""
    from gta.sinks._registry import redact_url

    try:
        parts = split_sink_url(url)
    except SinkConfigError:
        return redact_url(url)  # the sink itself will refuse it with its own message
    scheme = parts.scheme.lower()
    default = 6514 if scheme == "syslog+tls" else 514
    return f"{scheme}://{(parts.hostname or '').lower()}:{parts.port or default}"


SPEC = SinkSpec(
    name="syslog",
    schemes=("syslog+udp", "syslog+tcp", "syslog+tls"),
    summary="syslog RFC 5424 over TLS (6514), TCP (514) or UDP (514, lossy)",
    url="syslog+tls://HOST:6514?format=json|cef",
    options=SyslogOptions,
    open=on_call("gta.sinks._syslog:open_syslog"),
    check=on_call("gta.sinks._check:check_syslog"),
    destination_key=syslog_destination,
)
