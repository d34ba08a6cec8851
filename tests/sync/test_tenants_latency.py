"""Issue #15 acceptance: two tenants, one behind 500 ms of latency per request; with
``gta sync --every 1s`` the fast tenant's passes keep their solo pace (measured, printed).

Each tenant is its own emulator (the emulator's latency applies to all its customers), both get
new events every second. The fast job runs alone for a while, then next to the slow one; its
pass durations and its number of passes are compared (generous bounds: the box is loaded).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from gta.emulator import RunningEmulator

WINDOW_S = 9.0


def _config(tmp_path: Path, fast: RunningEmulator, slow: RunningEmulator) -> Path:
    text = f'state = "{tmp_path / "state.db"}"\n'
    for name, emu in (("fast", fast), ("slow", slow)):
        text += (
            f'[tenants.{name}]\nclient_id = "{emu.client_id}"\n'
            f'client_password = "{emu.client_password}"\nvisibility_host = "{emu.url}"\n'
            f'api_url = "{emu.url}"\napp_url = "{emu.url}"\n'
            f'[jobs.{name}]\ntenant = "{name}"\nstreams = ["events", "alerts"]\n'
            f'sink = "{tmp_path / (name + ".jsonl")}"\n'
        )
    config = tmp_path / "gta.toml"
    config.write_text(text)
    return config


def _activity(emus: list[RunningEmulator], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        for emu in emus:
            httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 3}, timeout=10)


def _passes(config: Path, emus: list[RunningEmulator], *jobs: str) -> dict[str, list[float]]:
    """Durations of each job's passes during the window (its first, catch-up pass aside)."""
    cmd = [sys.executable, "-c", "from gta.cli import main; main()", "sync", "-c", str(config)]
    cmd += ["--every", "1s", "-v", "--log-format", "json", *jobs]
    proc = subprocess.Popen(cmd, env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    feeder = threading.Thread(target=_activity, args=(emus, stop), daemon=True)
    feeder.start()
    try:
        time.sleep(WINDOW_S)
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        feeder.join(timeout=15)
    assert proc.returncode == 0, err
    records = [orjson.loads(line) for line in err.splitlines() if line.startswith("{")]
    out: dict[str, list[float]] = {}
    for job in ("fast", "slow"):
        passes = [r for r in records if r.get("job") == job and "pass" in r]
        assert [r["pass"] for r in passes] == list(range(1, len(passes) + 1)), err
        out[job] = [float(r["seconds"]) for r in passes][1:]
    return out


def test_a_slow_tenant_does_not_slow_the_fast_one(make_emulator: Any, tmp_path: Path) -> None:
    fast: RunningEmulator = make_emulator(seed=4, events=200, flows_per_event=0.0)
    slow: RunningEmulator = make_emulator(seed=5, events=200, flows_per_event=0.0, latency_ms=500)
    config = _config(tmp_path, fast, slow)
    solo = _passes(config, [fast], "--job", "fast")["fast"]
    (tmp_path / "state.db").unlink()
    both = _passes(config, [fast, slow])
    mixed, slowest = both["fast"], both["slow"]
    print(
        f"\nfast tenant alone: {len(solo)} passes, median {statistics.median(solo):.3f}s, "
        f"max {max(solo):.3f}s; next to a 500 ms tenant: {len(mixed)} passes, "
        f"median {statistics.median(mixed):.3f}s, max {max(mixed):.3f}s; "
        f"the slow tenant: {len(slowest)} passes, "
        f"median {statistics.median(slowest):.3f}s"
    )
    assert len(solo) >= 3 and len(mixed) >= 3 and slowest
    # One global pass would wait for the slow tenant (several seconds a pass): about half as
    # many fast passes, each as long as the slow one. On its own loop the fast job keeps pace.
    assert len(mixed) >= 0.6 * len(solo)
    assert statistics.median(mixed) <= 3 * statistics.median(solo) + 0.5


def test_a_signal_stops_every_running_job_and_each_commits_what_it_delivered(
    make_emulator: Any, tmp_path: Path
) -> None:
    one: RunningEmulator = make_emulator(seed=2, events=20_000, flows_per_event=0.0)
    two: RunningEmulator = make_emulator(seed=3, events=20_000, flows_per_event=0.0)
    for emu in (one, two):
        httpx.put(f"{emu.url}/_emulator/faults", json={"latency_ms": 30}).raise_for_status()
    text = _config(tmp_path, one, two).read_text().replace('"events", "alerts"', '"events"')
    config = tmp_path / "gta.toml"
    config.write_text(
        text.replace("[jobs.fast]", "[jobs.fast]\npage_size = 200").replace(
            "[jobs.slow]", "[jobs.slow]\npage_size = 200"
        )
    )
    outs = [tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"]
    cmd = [sys.executable, "-c", "from gta.cli import main; main()", "sync", "-c", str(config)]
    proc = subprocess.Popen([*cmd, "--every", "1h", "-q"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not all(o.exists() and o.stat().st_size for o in outs) and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and time.monotonic() - started < 10, err
    assert "stopped by SIGTERM after committing" in err
    with sqlite3.connect(tmp_path / "state.db") as conn:
        # per job: the stream's count plus its partitions' (a stopped backfill keeps them)
        committed = dict(
            conn.execute("SELECT job, sum(records) FROM checkpoints GROUP BY job").fetchall()
        )
        held = conn.execute("SELECT count(*) FROM leases WHERE owner IS NOT NULL").fetchone()[0]
    for job, out in zip(("fast", "slow"), outs, strict=True):
        lines = out.read_bytes().count(b"\n")
        assert committed[job] == lines and 0 < lines < 20_000, (job, lines, committed)
    assert held == 0


def test_passes_of_a_job_reuse_its_client_token_and_customer_id(
    make_emulator: Any, tmp_path: Path
) -> None:
    """An idle pass costs one request per stream: the token and the customer id of the first
    pass are reused (the emulator counts the tokens it issued)."""
    emu: RunningEmulator = make_emulator(seed=6, events=50, flows_per_event=0.0)
    other: RunningEmulator = make_emulator(seed=7, events=50, flows_per_event=0.0)
    config = _config(tmp_path, emu, other)
    tokens = lambda: httpx.get(f"{emu.url}/_emulator/stats").json()["tokensIssued"]  # noqa: E731
    before = tokens()
    cmd = [sys.executable, "-c", "from gta.cli import main; main()", "sync", "-c", str(config)]
    cmd += ["--every", "1s", "-v", "--log-format", "json"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    time.sleep(5.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    passes = [orjson.loads(x) for x in err.splitlines() if x.startswith("{")]
    assert len([p for p in passes if p.get("job") == "fast" and "pass" in p]) >= 3, err
    assert tokens() - before == 1
