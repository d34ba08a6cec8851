"""Issue #15 pieces that need no server: the metrics address, object times, JSON log records,
the context that names tenant/job/stream on worker threads, and the metrics of one job run."""

from __future__ import annotations

import io
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tests._support.clients import emulator_client

from gta._context import bound, current, in_context
from gta.cli._logging import JsonFormatter, _ContextFilter
from gta.emulator import RunningEmulator
from gta.sync import CheckpointStore, Job, run_job
from gta.sync._engine import prefetch
from gta.sync._freshness import newest_time
from gta.sync._health import MetricsAddressError, is_loopback, parse_metrics_address
from gta.sync._metrics import SyncMetrics, status_class


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9464", ("127.0.0.1", 9464)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("localhost:9464", ("localhost", 9464)),
        ("[::1]:9464", ("::1", 9464)),
        ("0.0.0.0:9464", ("0.0.0.0", 9464)),  # explicit: allowed (with a warning line)
    ],
)
def test_metrics_address_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_metrics_address(text) == expected


@pytest.mark.parametrize("text", [":9464", "host", "1.2.3.4:70000", "a:b:9", "", "[::1]"])
def test_metrics_address_refused(text: str) -> None:
    with pytest.raises(MetricsAddressError):
        parse_metrics_address(text)


def test_an_empty_host_is_refused_with_the_two_explicit_choices() -> None:
    with pytest.raises(MetricsAddressError, match=r"127\.0\.0\.1:9464 .* 0\.0\.0\.0:9464"):
        parse_metrics_address(":9464")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("10.0.0.1", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_newest_time_takes_each_objects_change_time() -> None:
    items: list[Any] = [
        {"modifiedAt": "2026-01-02T00:00:00Z", "detectedAt": "2026-03-01T00:00:00Z"},
        {"timeStamp": "2026-01-05T10:00:00+00:00"},  # a flow
        {"modifiedAt": "not a time"},
        {"modifiedAt": "9" * 100},
        "junk",
        {"detectedAt": "2026-01-03T00:00:00"},  # no offset: UTC
    ]
    assert newest_time(items) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert newest_time([{}, {"id": "x"}]) is None


@pytest.mark.parametrize(("status", "klass"), [(200, "2xx"), (429, "4xx"), (503, "5xx"),
                                               (99, "other"), (700, "other")])  # fmt: skip
def test_status_class(status: int, klass: str) -> None:
    assert status_class(status) == klass


def test_context_reaches_engine_threads() -> None:
    seen: list[dict[str, str]] = []

    def source() -> Any:
        seen.append(dict(current()))
        yield 1

    with bound(tenant="t", job="j"), bound(stream="events"):
        assert list(prefetch(source(), 1, threading.Event(), "t")) == [1]
        other = threading.Thread(target=in_context(lambda: seen.append(dict(current()))))
        other.start()
        other.join()
    assert seen == [{"tenant": "t", "job": "j", "stream": "events"}] * 2
    assert dict(current()) == {}


def test_json_formatter_writes_the_required_keys_and_the_context() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gta.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with bound(tenant="t", job="j"):
            logger.warning("page %d", 3, extra={"gta_attempt": 2})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "page 3" and first["level"] == "warning"
    assert first["logger"] == "gta.test.json" and first["attempt"] == 2
    assert (first["tenant"], first["job"]) == ("t", "j") and "stream" not in first
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "RuntimeError: boom" in second["exception"] and "job" not in second


def test_a_job_run_feeds_the_metrics(emulator: RunningEmulator, tmp_path: Path) -> None:

    metrics = SyncMetrics(interval=None)
    out = tmp_path / "o.jsonl"
    job = Job(name="j", streams=["events", "flows"], format="annotation", sink_url=str(out))
    with (
        emulator_client(emulator, customer_id=None) as client,  # discovers the customer id
        CheckpointStore(tmp_path / "s.db") as store,
        bound(tenant="t", job="j"),
    ):  # fmt: skip
        client.transport.on_response = metrics.on_response
        results = run_job(client, job, store, reporter=metrics.reporter("t", "j"))
    samples = {
        (s.name, s.labels.get("stream"), s.labels.get("kind"), s.labels.get("status_class")):
        s.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for s in family.samples
    }  # fmt: skip
    for r in results:
        assert samples[("gta_records_delivered_total", r.stream, None, None)] == r.records
        assert samples[("gta_pages_total", r.stream, None, None)] == r.pages
        assert samples[("gta_cursor_sequence_number", r.stream, None, None)] == int(r.cursor or 0)
        for kind, count in r.gaps.items():
            assert samples[("gta_enrichment_gaps_total", r.stream, kind, None)] == count
        assert samples[("gta_api_requests_total", r.stream, None, "2xx")] >= r.pages
    assert sum(r.records for r in results) == len(out.read_bytes().splitlines())
    assert samples[("gta_freshness_lag_seconds", "events", None, None)] >= 0


def _sync_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "gta.toml"
    config.write_text(
        f'{extra}state = "{tmp_path / "state.db"}"\n[tenants.t]\nclient_id = "id"\n'
        'client_password = "pw"\nvisibility_host = "https://127.0.0.1:9"\n'
        f'[jobs.j]\ntenant = "t"\nsink = "{tmp_path / "o.jsonl"}"\n'
    )
    return config


def _exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from gta.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0), capsys.readouterr().err


def test_an_empty_metrics_host_is_a_usage_error_before_anything_is_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _sync_config(tmp_path)
    code, err = _exit(["sync", "-c", str(config), "--once", "--metrics-address", ":9464"], capsys)
    assert code == 2 and "has no host: give 127.0.0.1:9464" in err
    assert err.count("\n") == 1 and not (tmp_path / "state.db").exists()


def test_the_metrics_address_key_is_checked_when_the_file_is_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _sync_config(tmp_path, 'metrics_address = "nowhere"\n')
    code, err = _exit(["sync", "-c", str(config), "--once"], capsys)
    assert code == 2 and "gta.toml: metrics_address:" in err and "HOST:PORT" in err


def test_a_port_in_use_is_a_failure_not_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _sync_config(tmp_path)
        argv = ["sync", "-c", str(config), "--once", "--metrics-address", f"127.0.0.1:{port}"]
        code, err = _exit(argv, capsys)
    assert code == 1 and f"cannot listen on 127.0.0.1:{port} for metrics" in err


@pytest.mark.parametrize(("fmt", "level"), [("xml", None), ("json", "loud")])
def test_unknown_log_options_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, level: str | None
) -> None:
    argv = ["sync", "-c", str(_sync_config(tmp_path)), "--once", "--log-format", fmt]
    code, err = _exit([*argv, "--log-level", level] if level else argv, capsys)
    assert code == 2 and ("unknown log format 'xml'" in err or "unknown log level 'loud'" in err)


def test_a_non_loopback_address_is_served_with_a_warning(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    from gta.cli._service import metrics_endpoint

    with caplog.at_level(logging.WARNING, logger="gta.service"):
        with metrics_endpoint("0.0.0.0:0", 60.0, {"j": "t"}) as metrics:
            assert metrics is not None
            line = capsys.readouterr().err
            port = int(line.split("metrics on http://0.0.0.0:")[1].split("/")[0])
            base = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{base}/healthz").json() == {"status": "up"}
            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 200 and ready.json()["jobs"][0]["job"] == "j"
            assert httpx.get(f"{base}/nope").status_code == 404
            assert "gta_job_passes" in httpx.get(f"{base}/metrics").text
        with pytest.raises(httpx.ConnectError):  # stopped with the block
            httpx.get(f"{base}/healthz", timeout=2)
    assert any("reachable beyond this machine" in r.message for r in caplog.records)
