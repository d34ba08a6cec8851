"""One worker's loop on a real state file, with passes that only commit: it claims units up to
its target, runs each on the interval under its claim, takes a lost unit back with a new
fencing number, and gives everything back when it stops."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gta.state import Lease
from gta.sync import CheckpointStore, LeaseLostError
from gta.sync._workers import WORKERS_JOB, Unit, Worker

UNITS = [Unit("t", f"job{i}", "events") for i in range(5)]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []
        self.passes: list[tuple[Unit, int]] = []
        self.lock = threading.Lock()

    def emit(self, event: str, unit: Unit | None, fence: int, **_: Any) -> None:
        with self.lock:
            self.events.append((event, str(unit), fence))

    def run_pass(self, unit: Unit, lease: Lease) -> bool:
        try:
            lease.commit(str(len(self.passes)), added=1)  # fenced by the claim
        except LeaseLostError:  # a failed pass (the CLI's pass reports it as one line)
            return False
        with self.lock:
            self.passes.append((unit, lease.fence))
        return True


def _run(worker: Worker, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return thread


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_claims_up_to_its_cap_runs_on_the_interval_and_releases_at_stop(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state.db", lease_ttl=3)
    rec = Recorder()
    worker = Worker(
        store, UNITS, worker_id="w1", run_pass=rec.run_pass, customer_of=lambda u: "CTA1",
        interval=0.2, max_units=2, emit=rec.emit, tick=0.1,
    )  # fmt: skip
    stop = threading.Event()
    thread = _run(worker, stop)
    try:
        _wait(lambda: len(rec.passes) >= 8)
        held = [i for i in store.leases() if i.job != WORKERS_JOB]
        assert len(held) == 2  # --max-units 2 of 5 units
        assert {u for u, _ in rec.passes} == set(worker.claims)
        presence = [i for i in store.leases() if i.job == WORKERS_JOB]
        assert [(p.stream, p.customer_id) for p in presence] == [("w1", "max-units=2")]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert store.leases() == []  # every claim and the presence given back
    kinds = [e for e, _, _ in rec.events]
    assert kinds.count("claim") == 2 and kinds.count("release") == 2
    assert kinds[0] == "start" and kinds[-1] == "stop"
    for unit, _ in rec.passes:  # each pass moved its unit's cursor under the claim
        assert store.get(unit.job, "CTA1", "events") is not None
    store.close()


def test_a_unit_taken_away_is_claimed_again_with_a_new_fencing_number(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state.db", lease_ttl=1.5)
    rec = Recorder()
    worker = Worker(
        store, UNITS[:2], worker_id="w1", run_pass=rec.run_pass, customer_of=lambda u: "CTA1",
        interval=0.2, emit=rec.emit, tick=0.1,
    )  # fmt: skip
    stop = threading.Event()
    thread = _run(worker, stop)
    try:
        _wait(lambda: len(worker.claims) == 2 and len(rec.passes) >= 2)
        taken = [i for i in store.leases() if i.job == "job0"]
        assert store.unlock(taken) == taken  # as `gta state unlock` would
        _wait(lambda: ("lost", "job0/events", taken[0].fence) in rec.events)
        _wait(lambda: any(u.job == "job0" and f > taken[0].fence for u, f in rec.passes))
    finally:
        stop.set()
        thread.join(timeout=30)
    claims = [f for e, u, f in rec.events if e == "claim" and u == "job0/events"]
    assert claims == [taken[0].fence, taken[0].fence + 1]
    store.close()


def test_a_pass_that_raises_stops_the_worker_and_gives_its_units_back(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state.db", lease_ttl=3)

    def broken(unit: Unit, lease: Lease) -> bool:
        raise ValueError("bad sink option")

    worker = Worker(
        store, UNITS, worker_id="w1", run_pass=broken, customer_of=lambda u: "CTA1",
        interval=0.2, tick=0.1,
    )  # fmt: skip
    with pytest.raises(ValueError, match="bad sink option"):
        worker.run(threading.Event())
    assert store.leases() == []
    store.close()


def test_a_second_worker_with_the_same_id_is_refused(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state.db", lease_ttl=3)
    rec = Recorder()
    first = Worker(
        store, UNITS, worker_id="w1", run_pass=rec.run_pass, customer_of=lambda u: "CTA1",
        interval=0.2, tick=0.1,
    )  # fmt: skip
    stop = threading.Event()
    thread = _run(first, stop)
    try:
        _wait(lambda: len(first.claims) == len(UNITS))
        second = Worker(
            store, UNITS, worker_id="w1", run_pass=rec.run_pass, customer_of=lambda u: "CTA1",
            interval=0.2, tick=0.1,
        )  # fmt: skip
        with pytest.raises(Exception, match="worker id 'w1' is in use"):
            second.run(threading.Event())
    finally:
        stop.set()
        thread.join(timeout=30)
    store.close()
