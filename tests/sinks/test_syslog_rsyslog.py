"""Syslog sink end to end against a real rsyslogd on loopback (TCP octet counting, TLS, UDP).

The test starts its own rsyslogd (``-n -f conf -i pidfile``, its own work directory) with
imptcp (plain TCP), imtcp + gtls (TLS, a CA and server certificate made here with certtool) and
imudp, each writing the raw messages to a file; the messages are then parsed back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rsyslog_server import AVAILABLE, Rsyslog, running_rsyslog
from tests._support.cef_parser import parse_cef

from gta.emulator import RunningEmulator
from gta.sinks import open_sink
from gta.sinks._syslog import SyslogSink

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="rsyslogd not installed")

LINE = re.compile(r"^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[[^\]]*\]|-) (.*)$")


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rsyslog]:
    with running_rsyslog(tmp_path_factory.mktemp("rsyslog")) as rs:
        yield rs


def _records(n: int, tag: str) -> list[dict[str, Any]]:
    risks = ["Critical", "High", "Medium", "Low", None]
    return [
        {
            "recordId": f"{tag}-{i:06d}",
            "stream": "events",
            "indexTime": "2026-11-27T10:00:00Z",
            "eventId": f"ev-{i}",
            "eventDetectedAt": "2020-10-14T13:59:54.047Z",
            "eventTitle": f'Title {i}: quote " back\\slash pipe| eq= ünï',
            "eventSubtitle": f"line one\nline two {tag} {i}",
            "alertId": f"{i:064x}",
            "risk": risks[i % 5],
            "threatDetectionIds": [f"td-{i}", f"td-{i + 1}"],
        }
        for i in range(n)
    ]


def _send(url: str, records: list[dict[str, Any]], batch: int = 500, **options: Any) -> SyslogSink:
    sink = open_sink(url, **options)
    assert isinstance(sink, SyslogSink)
    with sink:
        for start in range(0, len(records), batch):
            sink.write(records[start : start + batch])
            sink.flush()
    return sink


def _payloads(lines: list[str]) -> list[tuple[int, str, str]]:
    out = []
    for line in lines:
        match = LINE.match(line)
        assert match, line
        out.append((int(match[1]), match[6], match[8]))
    return out


EXPECTED_PRI = {
    "Critical": 16 * 8 + 2,
    "High": 16 * 8 + 3,
    "Medium": 16 * 8 + 4,
    "Low": 16 * 8 + 5,
    None: 16 * 8 + 6,
}


def test_10k_records_over_tcp_arrive_complete_and_parse_back(rsyslog: Rsyslog) -> None:
    records = _records(10_000, "tcp10k")
    _send(f"syslog+tcp://127.0.0.1:{rsyslog.tcp_port}", records)
    lines = rsyslog.lines("tcp", "tcp10k-", len(records))
    parsed = _payloads(lines)
    assert [json.loads(msg) for _, _, msg in parsed] == records
    assert [pri for pri, _, _ in parsed] == [EXPECTED_PRI[r["risk"]] for r in records]
    assert {msgid for _, msgid, _ in parsed} == {"events"}


def test_10k_records_over_tls_arrive_complete_and_parse_back(rsyslog: Rsyslog) -> None:
    records = _records(10_000, "tls10k")
    _send(f"syslog+tls://127.0.0.1:{rsyslog.tls_port}", records, ca_bundle=str(rsyslog.ca))
    lines = rsyslog.lines("tls", "tls10k-", len(records))
    assert [json.loads(msg) for _, _, msg in _payloads(lines)] == records


def test_cef_over_tls_parses_back_to_the_same_values(rsyslog: Rsyslog) -> None:
    records = _records(1000, "ceftls")
    url = f"syslog+tls://127.0.0.1:{rsyslog.tls_port}?format=cef"
    _send(url, records, ca_bundle=str(rsyslog.ca))
    lines = rsyslog.lines("tls", "ceftls-", len(records))
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        event = parse_cef(line)
        assert event.name == record["eventTitle"]
        assert event.extension["externalId"] == record["recordId"]
        assert event.extension["msg"] == record["eventSubtitle"]
        assert event.extension["cs1"] == record["alertId"]
        assert event.extension["rt"] == "1602683994047"


def test_tls_without_the_ca_is_refused_clearly(rsyslog: Rsyslog) -> None:
    from gta.sinks import SinkConfigError

    sink = open_sink(f"syslog+tls://127.0.0.1:{rsyslog.tls_port}")
    with pytest.raises(SinkConfigError, match="not trusted"), sink:
        sink.write(_records(1, "untrusted"))


def test_udp_delivers_and_cuts_oversized_messages(rsyslog: Rsyslog) -> None:
    records = _records(20, "udp")
    records[5]["eventSubtitle"] = "é" * 3000  # 6000 bytes, over the 2048 default
    sink = _send(f"syslog+udp://127.0.0.1:{rsyslog.udp_port}", records)
    assert sink.truncated == 1
    lines = rsyslog.lines("udp", "udp-", len(records) - 1, timeout=10)
    by_id = {}
    for line in lines:
        by_id[line.split('"recordId":"', 1)[1][:10]] = line
    assert len(by_id) >= 19
    raw = rsyslog.directory.joinpath("udp.log").read_bytes().split(b"\n")
    cut = [line for line in raw if b'"udp-000005"' in line]
    assert cut and len(cut[0]) <= 2048
    cut[0].decode("utf-8")  # cut on a character boundary


def test_sinks_check_trusts_tls_only_with_the_ca(rsyslog: Rsyslog) -> None:
    from gta.sinks._check import check_sink

    url = f"syslog+tls://127.0.0.1:{rsyslog.tls_port}"
    good = check_sink(url, {"ca_bundle": str(rsyslog.ca)})
    assert [(c.name, c.ok) for c in good] == [("reachability", True), ("tls", True)]
    assert "verified" in good[1].detail
    bad = check_sink(url, {})
    assert [(c.name, c.ok) for c in bad] == [("reachability", True), ("tls", False)]
    assert "not trusted" in bad[1].detail


def test_export_all_to_syslog_tls_end_to_end(
    rsyslog: Rsyslog,
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from gta.cli import main

    emu = make_emulator(events=300)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)

    def export(*args: str) -> None:
        try:
            main(["export", "all", *args, "-q"])
        except SystemExit as exc:
            assert not exc.code

    url = f"syslog+tls://127.0.0.1:{rsyslog.tls_port}?ca_bundle={rsyslog.ca}"
    export("--to", url)
    reference = tmp_path / "ref.jsonl"
    export("--output", str(reference))  # the same records, as a JSON lines file
    expected = {r["recordId"]: r for r in map(json.loads, reference.read_text().splitlines())}
    assert {r["stream"] for r in expected.values()} == {"events", "alerts", "threat-detections",
                                                         "flows"}  # fmt: skip
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = rsyslog.lines("tls", '"recordId"', 0, timeout=0)
        records = [json.loads(msg) for _, _, msg in _payloads(lines)]
        got = [r for r in records if r.get("recordId") in expected]
        if len(got) >= len(expected):
            break
        time.sleep(0.2)
    assert sorted(r["recordId"] for r in got) == sorted(expected)  # every record, once
    for record in got:  # same content (indexTime differs between the two runs)
        assert {**record, "indexTime": ""} == {**expected[record["recordId"]], "indexTime": ""}
