"""Splunk HEC sink against a strict HEC receiver on loopback (tests/_support/hec_receiver.py)."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rsyslog_server import make_certificates
from tests._support.hec_receiver import HecState, run_receiver

from gta.sinks import SinkConfigError, SinkError, open_sink
from gta.sinks._hec_config import parse_hec_url
from gta.sinks._splunk_hec import SplunkHecSink, event_time


def _records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "recordId": f"r{i:06d}",
            "stream": "events",
            "indexTime": "2026-11-27T10:00:00Z",
            "eventDetectedAt": f"2026-11-27T09:{i % 60:02d}:00.123Z",
            "eventTitle": f"title {i} " + "x" * (i % 50),
        }
        for i in range(start, start + n)
    ]


_OPEN: list[SplunkHecSink] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop()._client.close()


def _sink(url: str, sleeps: list[float] | None = None, **options: Any) -> SplunkHecSink:
    options.setdefault("token", "good-token")
    config, token = parse_hec_url(url, options)
    assert token is not None
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    sink = SplunkHecSink(config, token, sleep=record, rand=lambda: 0.5)
    _OPEN.append(sink)
    return sink


def test_batches_are_gzipped_concatenated_envelopes_with_metadata() -> None:
    with run_receiver() as rx:
        sink = _sink(
            rx.url + "?index=gta&sourcetype=gta:event&source=gta&host=h1", batch_events=100
        )
        records = _records(250)
        sink.write(records)
        sink.flush()
        sink.close()
        assert rx.state.indexed_record_ids() == [r["recordId"] for r in records]
        assert rx.state.requests == 3  # 100 + 100 + 50
        assert rx.state.gzip_requests == 3
        first = rx.state.indexed[0]
        assert first["index"] == "gta" and first["sourcetype"] == "gta:event"
        assert first["source"] == "gta" and first["host"] == "h1"
        assert first["time"] == pytest.approx(event_time(records[0]))
        assert first["event"] == records[0]


def test_batches_split_by_bytes() -> None:
    with run_receiver() as rx:
        sink = _sink(rx.url, batch_bytes=2000, gzip="false")
        sink.write(_records(100))
        sink.flush()
        assert rx.state.gzip_requests == 0
        assert len(rx.state.indexed) == 100
        assert rx.state.requests >= 100 * 150 // 2000  # every request under 2000 bytes


def test_event_time_is_epoch_seconds_with_ms_from_the_object() -> None:
    assert event_time({"eventDetectedAt": "2020-10-14T13:59:54.047Z"}) == 1602683994.047
    assert event_time({"time": 1602683994047}) == 1602683994.047
    assert event_time({"triggeredAt": "2020-10-14T13:59:54Z"}) == 1602683994.0
    assert event_time({"recordId": "x"}) is None


def test_no_loss_no_duplicate_across_injected_503s() -> None:
    state = HecState(busy_next=3)
    with run_receiver(state) as rx:
        sleeps: list[float] = []
        sink = _sink(rx.url, sleeps, batch_events=50)
        records = _records(200)
        sink.write(records)
        sink.flush()
        ids = rx.state.indexed_record_ids()
        assert sorted(ids) == [r["recordId"] for r in records]
        assert len(ids) == len(set(ids))
        # three 503s, three back-offs with full jitter (rand=0.5): 0.25, 0.5, 1.0
        assert sleeps == [0.25, 0.5, 1.0]


def test_partial_batch_400_resends_only_after_the_bad_event() -> None:
    records = _records(100)
    bad = records[37]["recordId"]
    state = HecState(reject_record_ids={bad})
    with run_receiver(state) as rx:
        sink = _sink(rx.url, batch_events=100)
        sink.write(records)
        sink.flush()
        ids = rx.state.indexed_record_ids()
        expected = [r["recordId"] for r in records if r["recordId"] != bad]
        assert ids == expected  # prefix once, suffix once, the bad one never
        assert sink.rejected == 1 and sink.rejected_ids == [bad]
        assert rx.state.requests == 2


def test_bad_record_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    records = _records(5)
    state = HecState(reject_record_ids={records[0]["recordId"]})
    with run_receiver(state) as rx, caplog.at_level(logging.ERROR, "gta.sinks.splunk_hec"):
        sink = _sink(rx.url)
        sink.write(records)
        sink.flush()
    assert records[0]["recordId"] in caplog.text and "undeliverable" in caplog.text
    assert "good-token" not in caplog.text


@pytest.mark.parametrize(
    ("token", "disabled", "code"),
    [("wrong", set(), 4), ("good-token", {"good-token"}, 1)],
)
def test_bad_or_disabled_token_is_a_config_error(token: str, disabled: set[str], code: int) -> None:
    state = HecState(disabled_tokens=disabled)
    with run_receiver(state) as rx:
        sink = _sink(rx.url, token=token)
        sink.write(_records(3))
        with pytest.raises(SinkConfigError, match=f"code {code}") as err:
            sink.flush()
        assert token not in str(err.value)
        assert rx.state.indexed == []


def test_ack_waits_for_every_batch() -> None:
    state = HecState(ack_enabled=True)
    with run_receiver(state) as rx:
        sink = _sink(rx.url, ack="true", batch_events=10, ack_poll_interval=0.01)
        sink.write(_records(35))
        sink.flush()
        assert len(rx.state.indexed) == 35
        assert sink._unacked == {}
        assert all(not pending for pending in rx.state.pending_acks.values())


def test_ack_timeout_resends_only_the_unacked_batch() -> None:
    state = HecState(ack_enabled=True, never_ack={1})
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    with run_receiver(state) as rx:
        config, token = parse_hec_url(
            rx.url,
            {
                "token": "good-token",
                "ack": True,
                "batch_events": 10,
                "ack_timeout": 5,
                "ack_poll_interval": 1,
            },
        )
        sink = SplunkHecSink(config, token or "", sleep=sleep, clock=lambda: clock[0])
        _OPEN.append(sink)
        records = _records(30)
        sink.write(records)
        sink.flush()
        ids = rx.state.indexed_record_ids()
        counts = Counter(ids)
        duplicated = sorted(rid for rid, n in counts.items() if n > 1)
        assert set(ids) == {r["recordId"] for r in records}  # nothing lost
        assert duplicated == [r["recordId"] for r in records[10:20]]  # only batch with ackId 1
        assert all(counts[rid] == 2 for rid in duplicated)
        assert clock[0] >= 5  # it waited the ack timeout before re-sending


def test_ack_missing_channel_is_a_config_error() -> None:
    state = HecState(ack_enabled=True)
    with run_receiver(state) as rx:
        sink = _sink(rx.url, ack="true")
        sink._client.headers.pop("X-Splunk-Request-Channel")
        sink.write(_records(1))
        with pytest.raises(SinkConfigError, match="code 10"):
            sink.flush()


def test_network_errors_are_retried_then_give_up() -> None:
    sleeps: list[float] = []
    sink = _sink("splunk-hec+http://127.0.0.1:9", sleeps, max_retries=2)
    sink.write(_records(1))
    with pytest.raises(SinkError, match="giving up after 3 attempts"):
        sink.flush()
    assert len(sleeps) == 2


def test_token_in_url_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SinkConfigError) as err:
        open_sink("splunk-hec+https://splunk:8088?index=main&token=abc123")
    message = str(err.value)
    assert "abc123" not in message and "\n" not in message and "token" in message


def test_token_from_env_and_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GTA_SPLUNK_HEC_TOKEN", raising=False)
    with pytest.raises(SinkConfigError, match="needs a token"):
        open_sink("splunk-hec+https://splunk:8088")
    monkeypatch.setenv("GTA_SPLUNK_HEC_TOKEN", "from-env")
    sink = open_sink("splunk-hec+https://splunk:8088/?index=main")
    assert "from-env" not in repr(sink)
    assert isinstance(sink, SplunkHecSink)
    _OPEN.append(sink)
    assert sink._client.headers["Authorization"] == "Splunk from-env"


def test_unknown_parameter_and_bad_values_are_config_errors() -> None:
    with pytest.raises(SinkConfigError, match="unknown splunk-hec URL parameter 'colour'"):
        parse_hec_url("splunk-hec+https://s:8088?colour=red", {})
    with pytest.raises(SinkConfigError, match="batch_bytes"):
        parse_hec_url("splunk-hec+https://s:8088?batch_bytes=lots", {})
    with pytest.raises(SinkConfigError, match="ca_bundle"):
        parse_hec_url("splunk-hec+https://s:8088", {"ca_bundle": "/nonexistent.pem"})


def test_plain_http_and_insecure_warn_every_run(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "gta.sinks.splunk_hec"):
        a = _sink("splunk-hec+http://127.0.0.1:9")
        b = _sink("splunk-hec+https://127.0.0.1:9", insecure="true")
    assert "plain http" in caplog.text and "verification is OFF" in caplog.text
    assert b.config.verify is False and a.config.verify is True


@pytest.mark.skipif(shutil.which("certtool") is None, reason="certtool (gnutls-bin) not installed")
def test_tls_is_verified_against_the_ca_bundle(tmp_path: Path) -> None:
    make_certificates(tmp_path)
    tls = {"certfile": str(tmp_path / "cert.pem"), "keyfile": str(tmp_path / "key.pem")}
    with run_receiver(**tls) as rx:
        assert rx.url.startswith("splunk-hec+https://")
        sink = _sink(rx.url, ca_bundle=str(tmp_path / "ca.pem"))
        sink.write(_records(3))
        sink.flush()
        assert len(rx.state.indexed) == 3
        untrusted = _sink(rx.url)
        untrusted.write(_records(1))
        with pytest.raises(SinkConfigError, match="not trusted"):
            untrusted.flush()
        assert len(rx.state.indexed) == 3
        sink.close()  # before the server stops: it waits for open TLS connections


def test_acks_that_never_come_fail_after_the_allowed_resends() -> None:
    state = HecState(ack_enabled=True, never_ack=set(range(100)))
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    with run_receiver(state) as rx:
        options = {"token": "good-token", "ack": True, "ack_timeout": 2, "ack_poll_interval": 1,
                   "ack_resends": 2}  # fmt: skip
        config, token = parse_hec_url(rx.url, options)
        sink = SplunkHecSink(config, token or "", sleep=sleep, clock=lambda: clock[0])
        _OPEN.append(sink)
        sink.write(_records(5))
        with pytest.raises(SinkError, match="still unacknowledged after 2 re-send"):
            sink.flush()
        assert len(rx.state.indexed) == 15  # the batch, then two re-sends, each waited for
        assert clock[0] >= 6


def _mock_sink(handler: Any, sleeps: list[float], **options: Any) -> SplunkHecSink:
    config, _ = parse_hec_url("splunk-hec+https://hec.invalid:8088", {"gzip": False, **options})
    sink = SplunkHecSink(
        config, "t", sleep=sleeps.append, rand=lambda: 0.5, transport=httpx.MockTransport(handler)
    )
    _OPEN.append(sink)
    return sink


def test_retry_after_is_honoured_and_capped() -> None:
    answers = iter([(429, {"Retry-After": "7"}), (503, {"Retry-After": "3600"}), (200, {})])

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers = next(answers)
        return httpx.Response(status, headers=headers, json={"text": "x", "code": 0})

    sleeps: list[float] = []
    sink = _mock_sink(handler, sleeps, backoff_cap=60)
    sink.write(_records(1))
    sink.flush()
    assert sleeps == [7.0, 60.0]


def test_too_large_batches_are_halved_and_a_lone_giant_is_rejected() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        events = request.content.count(b'"event":')
        seen.append(events)
        if b"x" * 3000 in request.content:  # any request holding the giant is too large
            return httpx.Response(413, json={"text": "Content too large", "code": 6})
        return httpx.Response(200, json={"text": "Success", "code": 0})

    records = _records(8)
    records[5]["eventTitle"] = "giant " + "x" * 3000
    sink = _mock_sink(handler, [])
    sink.write(records)
    sink.flush()
    assert sink.rejected_ids == [records[5]["recordId"]]
    assert sink.sent_events == 7
    assert seen[0] == 8 and 1 in seen


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("splunk-hec+https://s:8088", "https://s:8088"),
        ("splunk-hec+https://s:8088/", "https://s:8088"),
        ("splunk-hec+https://s/services/collector", "https://s"),
        ("splunk-hec+https://s:443/services/collector/event", "https://s:443"),
        ("splunk-hec+http://s:8088/proxy/hec/", "http://s:8088/proxy/hec"),
    ],
)
def test_base_url(url: str, base: str) -> None:
    assert parse_hec_url(url, {})[0].base_url == base


def test_invalid_port_is_a_config_error() -> None:
    with pytest.raises(SinkConfigError, match="invalid port"):
        parse_hec_url("splunk-hec+https://s:99999", {})
