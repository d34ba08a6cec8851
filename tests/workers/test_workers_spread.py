"""Real ``gta sync --worker`` processes on one state file: the units spread evenly, a killed
worker's units go to the others (at once here: its pid is gone), a new worker gets its share
back from them, and SIGTERM gives every unit back with exit 0."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from wk_support import WorkerProcess, emulator, read_events, write_config

from gta.state import open_state
from gta.sync._workers import WORKERS_JOB

pytestmark = pytest.mark.slow


def _holdings(state: str) -> Counter[int]:
    """Units held per worker pid (presence rows left out). A SQLite path for now; with the
    PostgreSQL backend this opens the store by URL."""
    with open_state(state) as store:
        return Counter(i.pid for i in store.leases() if i.job != WORKERS_JOB and i.owner)


def _until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.1)
    return time.monotonic() - started


def test_units_spread_evenly_and_follow_the_live_workers(tmp_path: Path, state_url: str) -> None:
    out, logs = tmp_path / "out", tmp_path / "logs"
    out.mkdir()
    logs.mkdir()
    state = state_url
    with emulator(tmp_path, customers=3, events=100) as emu:
        env = write_config(tmp_path / "gta.toml", emu, out)  # 3 tenants x 2 jobs: 6 units

        def start(wid: str) -> WorkerProcess:
            return WorkerProcess(wid, tmp_path / "gta.toml", state, env, logs, ttl="30s")

        workers = {w: start(w) for w in ("w0", "w1", "w2")}
        try:
            pids = lambda: {w.proc.pid for w in workers.values()}  # noqa: E731
            even = lambda: sorted(_holdings(state).values()) == [2, 2, 2]  # noqa: E731
            _until(lambda: even() and set(_holdings(state)) == pids(), timeout=60)
            # A SIGKILL: its two units go to the two others, long before the 30 s TTL.
            workers["w0"].kill()
            took = _until(
                lambda: (
                    sorted(_holdings(state).values()) == [3, 3]
                    and set(_holdings(state)) == pids() - {workers["w0"].proc.pid}
                ),
                timeout=20,
            )
            assert took < 10
            # A new worker: the others give back one unit each.
            workers["w0"] = start("w0")
            _until(lambda: even() and set(_holdings(state)) == pids(), timeout=30)
            codes = {w: p.terminate() for w, p in workers.items()}
        finally:
            for p in workers.values():
                p.ensure_stopped()
    assert codes == {"w0": 0, "w1": 0, "w2": 0}
    with open_state(state) as store:
        assert store.leases() == []  # every claim and presence given back
        assert len(store.list()) == 6  # every unit ran
    kinds = Counter(e["event"] for e in read_events(logs))
    assert kinds["claim"] >= 6 + 2 + 2 and kinds["release"] >= 2
