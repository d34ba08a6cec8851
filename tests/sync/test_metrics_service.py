"""Issue #15: ``gta sync`` as a service seen from outside: Prometheus metrics, health and
readiness on ``--metrics-address``, and JSON logs that carry no secret.

The end-to-end tests run ``gta sync`` as a subprocess against the emulator, scrape ``/metrics``
with prometheus_client's own text parser and compare it with what the sink and the state hold.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests._support.hec_receiver import HecState, run_receiver

from gta.emulator import RunningEmulator

REQUIRED_KEYS = {"time", "level", "logger", "message"}
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _gta(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gta.cli import main; main()", *args]


class Service:
    """A ``gta sync`` child whose stderr is read line by line on a thread."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)

    def metrics_url(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(r"metrics on (http://127\.0\.0\.1:\d+)/metrics", line)
                if found:
                    return found.group(1)
            assert self.proc.poll() is None, "\n".join(self.lines)
            time.sleep(0.05)
        raise AssertionError("no metrics address line: " + "\n".join(self.lines))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


def _wait_for(predicate: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by (name, sorted labels), read by Prometheus' own parser."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _config(tmp_path: Path, emu: RunningEmulator, sink: str, streams: str = '["events"]') -> Path:
    config = tmp_path / "gta.toml"
    config.write_text(
        f'state = "{tmp_path / "state.db"}"\n[tenants.t]\nclient_id = "env:SECUREX_CLIENT_ID"\n'
        f'client_password = "env:SECUREX_CLIENT_PASSWORD"\nvisibility_host = "{emu.url}"\n'
        f'api_url = "{emu.url}"\napp_url = "{emu.url}"\n'
        f'[jobs.j]\ntenant = "t"\nstreams = {streams}\nsink = "{sink}"\n'
    )
    return config


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def _ready(base: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base}/readyz", timeout=10)
    return response.status_code, response.json()


@pytest.mark.slow
def test_metrics_count_what_the_sink_holds_and_readiness_follows_a_broken_sink(
    make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(seed=3, events=300, flows_per_event=0.0)
    out = tmp_path / "out.jsonl"
    config = _config(tmp_path, emu, str(out), '["events", "alerts"]')
    cmd = _gta("sync", "--config", str(config), "--every", "1s")
    service = Service([*cmd, "--metrics-address", "127.0.0.1:0"], emu.env())
    try:
        base = service.metrics_url()
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200

        def settled() -> bool:
            samples = _scrape(base)
            delivered = sum(
                _value(samples, "gta_records_delivered_total", tenant="t", job="j", stream=s)
                for s in ("events", "alerts")
            )
            return _ready(base)[0] == 200 and delivered > 0 and delivered == _lines(out)

        _wait_for(settled)
        samples = _scrape(base)
        labels = {"tenant": "t", "job": "j", "stream": "events"}
        assert _value(samples, "gta_pages_total", **labels) >= 1
        assert _value(samples, "gta_api_requests_total", **labels, status_class="2xx") > 0
        assert _value(samples, "gta_last_success_timestamp_seconds", **labels) > 0
        lag = _value(samples, "gta_freshness_lag_seconds", **labels)
        newest = _value(samples, "gta_newest_delivered_timestamp_seconds", **labels)
        assert newest > 0 and lag >= 0
        with sqlite3.connect(tmp_path / "state.db") as conn:
            cursors = dict(conn.execute("SELECT stream, cursor FROM checkpoints").fetchall())
        assert _value(samples, "gta_cursor_sequence_number", **labels) == int(cursors["events"])
        since = json.loads(cursors["alerts"])["since"]
        alerts_since = _value(
            samples, "gta_alerts_cursor_timestamp_seconds", tenant="t", job="j", stream="alerts"
        )
        assert alerts_since == pytest.approx(datetime.fromisoformat(since).timestamp())
        assert any(name == "process_cpu_seconds_total" for name, _ in samples)
        assert any(name == "python_info" for name, _ in samples)

        # Break the sink: writes fail (ENOSPC), so every pass with something to deliver fails.
        aside = tmp_path / "kept.jsonl"
        out.rename(aside)
        out.symlink_to("/dev/full")
        httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 5}).raise_for_status()

        def not_ready() -> bool:
            code, body = _ready(base)
            return code == 503 and body["failing"] == ["j"]

        _wait_for(not_ready)
        _, body = _ready(base)
        (job,) = body["jobs"]
        assert job["job"] == "j" and job["tenant"] == "t" and not job["ready"]
        assert "last pass failed" in job["reason"] and "No space left" in job["reason"]
        passes = _scrape(base)
        assert _value(passes, "gta_job_passes_total", tenant="t", job="j", outcome="failed") >= 1

        # Fixed: the backlog is delivered, readiness recovers, the counter still matches.
        out.unlink()
        aside.rename(out)
        _wait_for(settled)
    finally:
        code = service.stop()
    assert code == 0, "\n".join(service.lines)


def test_readiness_turns_503_when_no_pass_completes_for_three_intervals() -> None:
    from gta.sync._metrics import SyncMetrics

    now = [100.0]
    metrics = SyncMetrics(interval=10.0, monotonic=lambda: now[0])
    metrics.watch("t", "j")
    assert metrics.readiness()[0]
    now[0] += 29
    assert metrics.readiness()[0]
    now[0] += 2
    ready, body = metrics.readiness()
    assert not ready and body["failing"] == ["j"]
    assert "no pass completed for 31s" in body["jobs"][0]["reason"]
    metrics.job_done("t", "j")
    assert metrics.readiness()[0]
    metrics.job_done("t", "j", error="sink down")
    ready, body = metrics.readiness()
    assert not ready and body["jobs"][0]["reason"] == "last pass failed: sink down"


def test_json_logs_parse_line_by_line_and_a_debug_run_leaks_no_secret(
    make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(seed=5, events=200, flows_per_event=0.0)
    issued: list[str] = []
    tokens = emu.state.tokens
    original = tokens.issue

    def recording_issue(*args: Any, **kwargs: Any) -> dict[str, object]:
        body = original(*args, **kwargs)
        issued.append(str(body["access_token"]))
        return body

    tokens.issue = recording_issue  # type: ignore[method-assign]
    hec_token = "hec-secret-0123456789"
    with run_receiver(HecState(tokens={hec_token})) as receiver:
        config = _config(tmp_path, emu, receiver.url)
        with config.open("a") as f:
            f.write('sink_options = { token = "env:HEC_TOKEN" }\n')
        env = {**os.environ, **emu.env(), "HEC_TOKEN": hec_token, "GTA_LOG_FORMAT": "json"}
        run = subprocess.run(
            _gta("--debug", "sync", "--config", str(config), "--once"),
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        indexed = len(receiver.state.indexed)
    assert run.returncode == 0, run.stderr
    assert indexed > 0 and issued
    lines = run.stderr.splitlines()
    assert len(lines) > 10
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) and r.keys() >= REQUIRED_KEYS for r in records)
    assert all(RFC3339_UTC.match(r["time"]) for r in records)
    assert {r["level"] for r in records} >= {"debug", "info"}
    pages = [r for r in records if r["logger"] == "gta.sync" and "page" in r["message"]]
    assert pages and all(r.get("job") == "j" and r.get("tenant") == "t" for r in pages)
    assert all(r.get("stream") == "events" for r in pages)
    everything = run.stdout + run.stderr
    assert emu.client_password not in everything
    assert hec_token not in everything
    for token in issued:
        assert token not in everything


def test_json_log_format_makes_pass_and_error_lines_records(
    make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(seed=3, events=100, flows_per_event=0.0)
    out = tmp_path / "missing-dir" / "out.jsonl"
    config = _config(tmp_path, emu, str(tmp_path / "out.jsonl"))
    cmd = _gta("sync", "--config", str(config), "--every", "1s", "--log-format", "json", "-v")
    service = Service(cmd, emu.env())
    try:
        _wait_for(lambda: any('"pass 2:' in line or "pass 2:" in line for line in service.lines))
    finally:
        assert service.stop() == 0
    records = [json.loads(line) for line in service.lines]
    passes = [r for r in records if r["message"].startswith("pass ")]
    assert passes and all(r["logger"] == "gta.service" and r["level"] == "info" for r in passes)
    assert passes[0]["pass"] == 1 and passes[0]["records"] > 0
    assert records[-1]["message"].startswith("stopped by SIGTERM")
    # A failing command's last line is a record too.
    bad = subprocess.run(
        _gta("export", "events", "--output", str(out), "--log-format", "json"),
        env={**os.environ, **emu.env()}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    (last,) = [json.loads(line) for line in bad.stderr.splitlines()][-1:]
    assert last["level"] == "error" and last["message"].startswith("error: cannot write")
