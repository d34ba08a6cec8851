"""Syslog sink: RFC 5424 messages over UDP (RFC 5426), TCP with octet counting (RFC 6587
§3.4.1) or TLS (RFC 5425), with the record as JSON or as CEF in MSG.

``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [origin software="gta" swVersion=".."] MSG``

- PRI = facility * 8 + severity; facility ``local0`` by default; severity from the alert risk
  (Critical 2 crit, High 3 err, Medium 4 warning, Low 5 notice, otherwise 6 info).
- TIMESTAMP is when the message was made (RFC 5424 §6.2.3); the object's own times are in MSG.
- MSGID is the record's stream (``events``, ``alerts``, ...), so a receiver can route on it.
- Size: a message longer than ``max_message_bytes`` (UDP 2048, TCP/TLS 65536 by default) has its
  MSG cut at a UTF-8 character boundary to fit; each cut is logged and counted (``truncated``).
- Delivery: TCP/TLS ``flush`` returns once every byte was handed to the socket with ``sendall``
  (syslog has no application ack). On a broken connection the sink reconnects with backoff and
  sends again everything written since the last flush, so duplicates are bounded by that batch.
  UDP is fire-and-forget: lossy, and a warning says so every run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from gta._time import format_rfc3339
from gta._version import __version__
from gta.formats._cef import encode_cef, record_risk
from gta.sinks._base import Record, SinkConfigError, SinkError, split_sink_url

log = logging.getLogger("gta.sinks.syslog")

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
_RISK_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}
_OCSF_SEVERITY = {6: 2, 5: 2, 4: 3, 3: 4, 2: 5}
_OPTIONS = (
    "format",
    "facility",
    "app_name",
    "hostname",
    "ca_bundle",
    "insecure",
    "max_message_bytes",
    "timeout",
    "max_retries",
    "backoff_base",
    "backoff_cap",
)
_SEND_THRESHOLD = 256 * 1024  # bytes buffered by write() before they go to the socket


@dataclass(frozen=True)
class SyslogConfig:
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
    timeout: float = 30.0
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


def _ascii_field(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces (RFC 5424 PRINTUSASCII), or ``-``."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or "-"


def _flag(value: Any, name: str) -> bool:
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value if isinstance(value, bool) else text in ("1", "true", "yes", "on")
    raise SinkConfigError(f"syslog option {name}={value!r} is not a boolean (use true/false)")


def _positive(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SinkConfigError(f"syslog option {name}={value!r} is not a number") from None
    if number < (0 if name == "max_retries" else 1e-9):
        raise SinkConfigError(f"syslog option {name} must be positive, got {value!r}")
    return number


def parse_syslog_url(url: str, options: Mapping[str, Any]) -> SyslogConfig:
    """Config from ``syslog+udp|tcp|tls://HOST:PORT?format=json|cef&...`` plus options
    (options win over query parameters)."""
    parts = split_sink_url(url)
    transport = parts.scheme.lower().removeprefix("syslog+")
    if transport not in ("udp", "tcp", "tls"):
        raise SinkConfigError(f"not a syslog URL: {parts.scheme!r}; use syslog+udp|tcp|tls://")
    if not parts.hostname:
        raise SinkConfigError("syslog URL needs a host, e.g. syslog+tls://siem.example:6514")
    try:
        port = parts.port or (6514 if transport == "tls" else 514)
    except ValueError:
        raise SinkConfigError("syslog URL has an invalid port") from None
    settings: dict[str, Any] = {}
    for name, value in [*parse_qsl(parts.query, keep_blank_values=True), *options.items()]:
        if name not in _OPTIONS:
            raise SinkConfigError(f"unknown syslog option {name!r}; valid: {', '.join(_OPTIONS)}")
        settings[name] = value
    fmt = str(settings.get("format", "json")).lower()
    if fmt not in ("json", "cef"):
        raise SinkConfigError(f"syslog format {fmt!r} is not supported; use json or cef")
    facility_value = str(settings.get("facility", "local0")).lower()
    if facility_value.isdigit() and 0 <= int(facility_value) <= 23:
        facility = int(facility_value)
    elif facility_value in FACILITIES:
        facility = FACILITIES[facility_value]
    else:
        raise SinkConfigError(
            f"syslog facility {facility_value!r} is unknown; use 0-23 or one of: "
            + ", ".join(FACILITIES)
        )
    ca_bundle = settings.get("ca_bundle") or None
    if ca_bundle is not None and not os.path.isfile(str(ca_bundle)):
        raise SinkConfigError(f"syslog ca_bundle {ca_bundle!r} is not a readable file")
    default_max = 2048 if transport == "udp" else 65536
    max_bytes = _positive(settings.get("max_message_bytes", default_max), "max_message_bytes", int)
    if max_bytes < 480:
        raise SinkConfigError("syslog max_message_bytes must be at least 480 (RFC 5424 §6.1)")
    if transport == "udp" and max_bytes > 65507:
        raise SinkConfigError(
            "syslog max_message_bytes over UDP cannot exceed 65507 (one datagram)"
        )
    return SyslogConfig(
        transport=transport,
        host=parts.hostname,
        port=port,
        format=fmt,
        facility=facility,
        app_name=_ascii_field(str(settings.get("app_name", "gta")), 48),
        hostname=_ascii_field(str(settings.get("hostname") or socket.gethostname()), 255),
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        insecure=_flag(settings.get("insecure", False), "insecure"),
        max_message_bytes=max_bytes,
        timeout=_positive(settings.get("timeout", 30.0), "timeout", float),
        max_retries=_positive(settings.get("max_retries", 8), "max_retries", int),
        backoff_base=_positive(settings.get("backoff_base", 0.5), "backoff_base", float),
        backoff_cap=_positive(settings.get("backoff_cap", 30.0), "backoff_cap", float),
    )


def syslog_severity(record: Mapping[str, Any]) -> int:
    """RFC 5424 severity from the alert risk (or an OCSF ``severity_id``); 6 (info) otherwise."""
    risk = record_risk(record)
    if isinstance(risk, str) and risk.lower() in _RISK_SEVERITY:
        return _RISK_SEVERITY[risk.lower()]
    severity_id = record.get("severity_id")
    if isinstance(severity_id, int) and not isinstance(severity_id, bool):
        return _OCSF_SEVERITY.get(severity_id, 6)
    return 6


def _cut_utf8(data: bytes, limit: int) -> bytes:
    """The longest prefix of ``data`` of at most ``limit`` bytes that ends on a character."""
    if len(data) <= limit:
        return data
    cut = data[: max(limit, 0)]
    return cut.decode("utf-8", errors="ignore").encode("utf-8")


class SyslogSink:
    """Writes RFC 5424 messages; see the module docstring for framing and delivery rules."""

    def __init__(
        self,
        config: SyslogConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.name = f"syslog+{config.transport}://{config.host}:{config.port}"
        self._sleep, self._rand, self._now = sleep, rand, now
        self._sock: socket.socket | None = None
        self._unflushed: list[bytes] = []  # frames written since the last successful flush
        self._sent = 0  # how many of them went out on the current connection
        self._unsent_bytes = 0
        self.truncated = 0
        self.connections = 0
        self._procid = str(os.getpid())
        self._sd = f'[origin software="gta" swVersion="{__version__}"]'
        self._ssl = self._ssl_context() if config.transport == "tls" else None
        if config.transport == "udp":
            log.warning(
                "syslog over UDP is lossy (no delivery confirmation, messages over "
                "%d bytes are cut); prefer syslog+tls",
                config.max_message_bytes,
            )

    def _ssl_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.config.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise SinkConfigError(f"syslog ca_bundle could not be loaded: {exc}") from None
        if self.config.insecure:
            log.warning("syslog TLS certificate verification is OFF (insecure=true)")
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # -- message building --------------------------------------------------------------------
    def payload(self, record: Record) -> bytes:
        if self.config.format == "cef":
            return encode_cef(record).encode("utf-8")
        return orjson.dumps(record)

    def message(self, record: Record) -> bytes:
        """One RFC 5424 message (without transport framing), cut to ``max_message_bytes``."""
        pri = self.config.facility * 8 + syslog_severity(record)
        stamp = format_rfc3339(self._now(), "microseconds")
        msgid = _ascii_field(str(record.get("stream", "-")), 32)
        head = (
            f"<{pri}>1 {stamp} {self.config.hostname} "
            f"{self.config.app_name} {self._procid} {msgid} {self._sd} "
        ).encode("ascii")
        body = self.payload(record)
        limit = self.config.max_message_bytes - len(head)
        if len(body) > limit:
            self.truncated += 1
            log.warning(
                "syslog: record %s is %d bytes, over max_message_bytes=%d; MSG cut",
                record.get("recordId", "?"),
                len(head) + len(body),
                self.config.max_message_bytes,
            )
            body = _cut_utf8(body, limit)
        return head + body

    def frame(self, message: bytes) -> bytes:
        if self.config.transport == "udp":
            return message
        return b"%d %s" % (len(message), message)  # RFC 6587 §3.4.1 / RFC 5425 §4.3

    # -- the Sink protocol -------------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            frame = self.frame(self.message(record))
            self._unflushed.append(frame)
            self._unsent_bytes += len(frame)
        if self._unsent_bytes >= _SEND_THRESHOLD:
            self._send()

    def flush(self) -> None:
        if self._unflushed:
            self._send(verify=True)
        self._unflushed, self._sent = [], 0

    def close(self) -> None:
        try:
            if self._unflushed:
                self.flush()
        finally:
            self._disconnect()

    def __enter__(self) -> SyslogSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------
    def _send(self, *, verify: bool = False) -> None:
        """Hand every unsent frame to the socket. With ``verify`` (flush), also check that the
        peer did not close meanwhile: if it did, the frames may be lost in its buffers, so they
        all go again on a new connection (duplicates bounded by the unflushed batch)."""
        attempt = 0
        while True:
            try:
                if self._sock is None or not self._alive():
                    self._connect()
                sock = self._sock
                assert sock is not None
                if self.config.transport == "udp":
                    for frame in self._unflushed[self._sent :]:
                        sock.send(frame)
                        self._sent += 1
                elif self._sent < len(self._unflushed):
                    sock.sendall(b"".join(self._unflushed[self._sent :]))
                    self._sent = len(self._unflushed)
                self._unsent_bytes = 0
                if not verify or self._alive():
                    return
                raise ConnectionResetError("the receiver closed the connection")
            except ssl.SSLCertVerificationError as exc:
                self._disconnect()
                raise SinkConfigError(
                    f"syslog TLS certificate of {self.config.host} not trusted: "
                    f"{exc.verify_message}; set ca_bundle"
                ) from None
            except OSError as exc:
                self._disconnect()
                attempt = self._backoff(attempt, exc)

    def _alive(self) -> bool:
        """False when the peer closed or reset the connection (a syslog receiver never
        talks back, so anything readable on the socket means the end of the stream)."""
        sock = self._sock
        if sock is None or self.config.transport == "udp":
            return sock is not None
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        # Readable: EOF/reset, or (TLS 1.3) a session ticket sent after the handshake.
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.setblocking(False)
                return bool(sock.recv(4096))
            return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        except OSError:
            return False
        finally:
            sock.settimeout(self.config.timeout)

    def _connect(self) -> None:
        self._disconnect()
        family_type = socket.SOCK_DGRAM if self.config.transport == "udp" else socket.SOCK_STREAM
        infos = socket.getaddrinfo(self.config.host, self.config.port, type=family_type)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.settimeout(self.config.timeout)
        try:
            sock.connect(address)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self.config.host)
        except BaseException:
            sock.close()
            raise
        self.connections += 1
        self._sock = sock
        if self.config.transport != "udp":
            self._sent = 0  # a new stream: everything since the last flush goes again

    def _disconnect(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _backoff(self, attempt: int, exc: OSError) -> int:
        if attempt >= self.config.max_retries:
            raise SinkError(
                f"syslog {self.config.host}:{self.config.port} unreachable after {attempt + 1} "
                f"attempts: {exc}"
            ) from None
        delay = self._rand() * min(self.config.backoff_cap, self.config.backoff_base * 2**attempt)
        log.warning("syslog %s: %s; reconnecting in %.2fs", self.name, exc, delay)
        self._sleep(delay)
        return attempt + 1


def open_syslog(url: str, options: dict[str, Any]) -> SyslogSink:
    """Registry factory for ``syslog+udp://``, ``syslog+tcp://`` and ``syslog+tls://``."""
    return SyslogSink(parse_syslog_url(url, options))
