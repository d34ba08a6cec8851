"""Syslog sink units: RFC 5424 layout, PRI from risk, octet counting, size rule, URL options,
and reconnect + re-send of the unflushed batch against a local TCP server that drops us."""

from __future__ import annotations

import logging
import re
import socket
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from gta.sinks import SinkConfigError, SinkError, open_sink
from gta.sinks._syslog import SyslogSink, parse_syslog_url, syslog_severity

FIXED = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)


def _sink(url: str, **options: Any) -> SyslogSink:
    options.setdefault("hostname", "gta-host")
    return SyslogSink(parse_syslog_url(url, options), now=lambda: FIXED, sleep=lambda _s: None)


def test_message_layout_is_rfc5424() -> None:
    sink = _sink("syslog+tcp://127.0.0.1:514")
    record = {"recordId": "r1", "stream": "alerts", "risk": "High"}
    message = sink.message(record).decode()
    pattern = (
        r"<131>1 2026-11-27T10:00:00\.123456Z gta-host gta \d+ alerts "
        r'\[origin software="gta" swVersion="[^"]+"\] (.*)'
    )
    match = re.fullmatch(pattern, message)
    assert match and orjson.loads(match[1]) == record


def test_octet_counting_frame() -> None:
    sink = _sink("syslog+tcp://127.0.0.1:514")
    msg = "é <x>".encode()
    assert sink.frame(msg) == b"%d %s" % (len(msg), msg)
    assert _sink("syslog+udp://127.0.0.1:514").frame(msg) == msg


@pytest.mark.parametrize(
    ("record", "severity"),
    [
        ({"risk": "Critical"}, 2),
        ({"risk": "High"}, 3),
        ({"risk": "Medium"}, 4),
        ({"risk": "Low"}, 5),
        ({"risk": "None"}, 6),
        ({}, 6),
        ({"severity_id": 5}, 2),
    ],
)
def test_severity_from_risk(record: dict[str, Any], severity: int) -> None:
    assert syslog_severity(record) == severity


def test_facility_option_changes_pri() -> None:
    sink = _sink("syslog+tcp://h:514?facility=local7")
    assert sink.message({"risk": "Low"}).startswith(b"<189>1 ")  # 23*8+5
    assert _sink("syslog+tcp://h:514", facility="4").message({}).startswith(b"<38>1 ")


def test_oversized_message_is_cut_on_a_character(caplog: pytest.LogCaptureFixture) -> None:
    sink = _sink("syslog+udp://127.0.0.1:514")
    with caplog.at_level(logging.WARNING, "gta.sinks.syslog"):
        message = sink.message({"recordId": "big", "text": "ü" * 5000})
    assert len(message) <= 2048 and len(message) >= 2040
    message.decode("utf-8")
    assert sink.truncated == 1 and "big" in caplog.text
    tcp = _sink("syslog+tcp://127.0.0.1:514", max_message_bytes=1000)
    assert len(tcp.message({"text": "x" * 5000})) == 1000


def test_cef_payload() -> None:
    sink = _sink("syslog+tls://h?format=cef")
    assert sink.config.port == 6514
    assert b"CEF:0|Cisco|Global Threat Alerts|" in sink.message({"recordId": "r", "risk": "Low"})


@pytest.mark.parametrize(
    ("url", "options", "error"),
    [
        ("syslog+tcp://h:514?format=xml", {}, "json or cef"),
        ("syslog+tcp://h:514?facility=bogus", {}, "facility"),
        ("syslog+tcp://h:514?colour=1", {}, "unknown syslog option 'colour'"),
        ("syslog+tcp://h:514", {"max_message_bytes": 100}, "at least 480"),
        ("syslog+tls://h", {"ca_bundle": "/nonexistent"}, "ca_bundle"),
        ("syslog+tcp://:514", {}, "needs a host"),
    ],
)
def test_bad_settings_are_one_line_config_errors(
    url: str, options: dict[str, Any], error: str
) -> None:
    with pytest.raises(SinkConfigError, match=error) as err:
        open_sink(url, **options)
    assert "\n" not in str(err.value)


def test_udp_warns_that_it_is_lossy(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "gta.sinks.syslog"):
        open_sink("syslog+udp://127.0.0.1:514").close()
    assert "lossy" in caplog.text


class DroppingServer:
    """Accepts a connection, reads ``drop_after`` bytes, closes it; then reads the next
    connection until the test stops it. Keeps the bytes of each connection."""

    def __init__(self, drop_after: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.drop_after = drop_after
        self.received: list[bytearray] = []
        self.dropped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        first = bytearray()
        self.received.append(first)
        while len(first) < self.drop_after:
            chunk = conn.recv(65536)
            if not chunk:
                break
            first.extend(chunk)
        conn.close()
        self.dropped.set()
        conn, _ = self.listener.accept()
        second = bytearray()
        self.received.append(second)
        with conn:
            while chunk := conn.recv(65536):
                second.extend(chunk)

    def stop(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()


def _frames(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        out.append(data[space + 1 : space + 1 + length])
        pos = space + 1 + length
    return out


def test_broken_connection_reconnects_and_resends_the_unflushed_batch() -> None:
    batch_a = [{"recordId": f"a{i}", "stream": "events", "pad": "p" * 200} for i in range(10)]
    batch_b = [{"recordId": f"b{i}", "stream": "events", "pad": "p" * 200} for i in range(2000)]
    sink = _sink("syslog+tcp://127.0.0.1:1")
    size_a = sum(len(sink.frame(sink.message(r))) for r in batch_a)
    size_b = sum(len(sink.frame(sink.message(r))) for r in batch_b)
    server = DroppingServer(drop_after=size_a + size_b)
    sink = _sink(f"syslog+tcp://127.0.0.1:{server.port}")
    sink.write(batch_a)
    sink.flush()  # A is flushed: never sent again
    sink.write(batch_b)  # over the write threshold: B goes to the socket now
    assert server.dropped.wait(10)  # the receiver read B, then went away
    sink.flush()  # sees the closed connection, reconnects, sends B again
    sink.close()
    server.stop()
    first, second = (_frames(bytes(c)) for c in server.received)
    ids = [orjson.loads(f.split(b"] ", 1)[1])["recordId"] for f in second]
    assert len(first) == len(batch_a) + len(batch_b)
    assert ids == [r["recordId"] for r in batch_b]  # duplicates: exactly the unflushed batch
    assert sink.connections == 2


def test_unreachable_receiver_gives_up_after_retries() -> None:
    sleeps: list[float] = []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = parse_syslog_url(f"syslog+tcp://127.0.0.1:{port}", {"max_retries": 2})
    sink = SyslogSink(config, sleep=sleeps.append, rand=lambda: 1.0)
    sink.write([{"recordId": "r"}])
    with pytest.raises(SinkError, match="unreachable after 3 attempts"):
        sink.flush()
    assert sleeps == [0.5, 1.0]


def test_header_fields_are_printable_ascii_without_spaces() -> None:
    sink = _sink("syslog+tcp://h:514", hostname="my host\tname", app_name="G T A" + "x" * 60)
    fields = sink.message({"stream": "threat-detections"}).split(b" ")
    assert fields[2] == b"myhostname"
    assert fields[3] == b"GTA" + b"x" * 45  # APP-NAME is at most 48 characters
    assert fields[5] == b"threat-detections"
    assert _sink("syslog+tcp://h:514").message({}).split(b" ")[5] == b"-"  # no stream: NILVALUE


def test_nested_event_severity_comes_from_its_alerts() -> None:
    nested = {"threatDetections": [{"alerts": [{"risk": "Medium"}, {"risk": "Critical"}]}]}
    assert syslog_severity(nested) == 2
