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
from datetime import UTC, datetime
from typing import Any

import orjson

from gta._time import format_rfc3339
from gta._version import __version__
from gta.formats import encode_cef, record_risk
from gta.sinks._base import Record, SinkConfigError
from gta.sinks._retrying import Backoff
from gta.sinks._syslog_config import SyslogConfig, ascii_field, parse_syslog_url
from gta.sinks._tls import tls_context

__all__ = ["SyslogConfig", "SyslogSink", "parse_syslog_url", "syslog_severity"]

log = logging.getLogger("gta.sinks.syslog")

_RISK_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}
_OCSF_SEVERITY = {6: 2, 5: 2, 4: 3, 3: 4, 2: 5}
_SEND_THRESHOLD = 256 * 1024  # bytes buffered by write() before they go to the socket


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
        self._now = now
        self._retry = Backoff(f"syslog {self.name}", log, config.max_retries, config.backoff_base,
                              config.backoff_cap, sleep, rand, verb="reconnecting")  # fmt: skip
        self._sock: socket.socket | None = None
        self._unflushed: list[bytes] = []  # frames written since the last successful flush
        self._sent = 0  # how many of them went out on the current connection
        self._unsent_bytes = 0
        self.truncated = 0
        self.rejected = 0  # syslog cannot refuse a message
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
        if self.config.insecure:
            log.warning("syslog TLS certificate verification is OFF (insecure=true)")
        return tls_context("syslog", self.config.ca_bundle, insecure=self.config.insecure)

    # -- message building --------------------------------------------------------------------
    def payload(self, record: Record) -> bytes:
        if self.config.format == "cef":
            return encode_cef(record).encode("utf-8")
        return orjson.dumps(record)

    def message(self, record: Record) -> bytes:
        """One RFC 5424 message (without transport framing), cut to ``max_message_bytes``."""
        pri = self.config.facility * 8 + syslog_severity(record)
        stamp = format_rfc3339(self._now(), "microseconds")
        msgid = ascii_field(str(record.get("stream", "-")), 32)
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
        where = f"{self.config.host}:{self.config.port}"
        give_up = f"syslog {where} unreachable after {attempt + 1} attempts: {exc}"
        return self._retry.wait(attempt, str(exc), give_up=give_up)


def open_syslog(url: str, options: dict[str, Any]) -> SyslogSink:
    """Registry factory for ``syslog+udp://``, ``syslog+tcp://`` and ``syslog+tls://``."""
    return SyslogSink(parse_syslog_url(url, options))
