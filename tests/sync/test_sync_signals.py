"""SIGTERM/SIGINT make ``gta sync`` finish the page in flight, commit it and exit: 0 for
SIGTERM (a service stop), 130 for SIGINT (an interrupt)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gta.emulator import RunningEmulator


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_commits_the_page_in_flight_and_exits(
    make_emulator: Any, tmp_path: Path, sig: int
) -> None:
    emu: RunningEmulator = make_emulator(seed=2, events=20_000, flows_per_event=0.0)
    httpx.put(f"{emu.url}/_emulator/faults", json={"latency_ms": 30}).raise_for_status()
    out, state = tmp_path / "out.jsonl", tmp_path / "state.db"
    config = tmp_path / "gta.toml"
    config.write_text(
        f'state = "{state}"\n[tenants.t]\nclient_id = "env:SECUREX_CLIENT_ID"\n'
        f'client_password = "env:SECUREX_CLIENT_PASSWORD"\nvisibility_host = "{emu.url}"\n'
        f'api_url = "{emu.url}"\napp_url = "{emu.url}"\n'
        f'[jobs.j]\ntenant = "t"\nstreams = ["events"]\nsink = "{out}"\npage_size = 200\n'
    )
    cmd = [
        sys.executable,
        "-c",
        "from gta.cli import main; main()",
        "sync",
        "--config",
        str(config),
        "--every",
        "1h",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **emu.env()}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == (0 if sig == signal.SIGTERM else 130), err
    lines = out.read_bytes().splitlines()
    with sqlite3.connect(state) as conn:
        # the stream's own count plus its partitions' (a stopped partitioned backfill keeps them)
        committed = conn.execute("SELECT sum(records) FROM checkpoints").fetchone()[0]
        leases = conn.execute("SELECT count(*) FROM leases WHERE owner IS NOT NULL").fetchone()[0]
    assert committed == len(lines) and 0 < len(lines) < 20_000  # stopped early, nothing uncommitted
    assert leases == 0  # released on the way out


def test_second_signal_exits_at_once(make_emulator: Any, tmp_path: Path) -> None:
    """The first signal waits for the page in flight to reach the sink; a sink that does not
    answer would hold it for its timeout, so a second signal exits at once."""
    emu: RunningEmulator = make_emulator(seed=2, events=500, flows_per_event=0.0)
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cmd = [sys.executable, "-c", "from gta.cli import main; main()", "export", "events"]
        cmd += ["--to", f"splunk-hec+http://127.0.0.1:{port}", "--state", str(tmp_path / "s.db")]
        env = {**os.environ, **emu.env(), "GTA_SPLUNK_HEC_TOKEN": "0000-1111"}
        proc = subprocess.Popen([*cmd, "--quiet"], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not (tmp_path / "s.db").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.5)  # the first page is fetched and waits for the sink's answer
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None, "the first signal waits for the page in flight"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and "interrupted again" in err
    assert time.monotonic() - started < 2.0
