"""The scheduler of ``gta sync`` (issue #15): tenants side by side, each job on its own loop,
one job of a tenant at a time, at most ``concurrency`` at once, a stop ends it."""

from __future__ import annotations

import threading
import time

import pytest

from gta.sync._schedule import STOP_GRACE, run_schedule


class Recorder:
    """Runs that sleep ``seconds[name]`` and note when each started and ended."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.spans: list[tuple[str, float, float]] = []
        self.done: list[tuple[str, int]] = []

    def run(self, name: str) -> str:
        start = time.monotonic()
        time.sleep(self.seconds[name])
        with self.lock:
            self.spans.append((name, start, time.monotonic()))
        return name

    def finished(self, name: str, number: int, result: str, seconds: float) -> None:
        assert result == name and seconds >= self.seconds[name] * 0.9
        self.done.append((name, number))

    def overlap(self, a: str, b: str) -> bool:
        return any(
            x[1] < y[2] and y[1] < x[2]
            for x in self.spans
            if x[0] == a
            for y in self.spans
            if y[0] == b
        )


def test_once_runs_each_job_once_tenants_side_by_side_and_a_tenant_one_job_at_a_time() -> None:
    rec = Recorder({"a1": 0.3, "a2": 0.3, "b": 0.3})
    started = time.monotonic()
    run_schedule(
        {"a1": "A", "a2": "A", "b": "B"}, rec.run, rec.finished,
        stop=threading.Event(), concurrency=4, interval=None,
    )  # fmt: skip
    assert sorted(rec.done) == [("a1", 1), ("a2", 1), ("b", 1)]
    assert rec.overlap("a1", "b") and not rec.overlap("a1", "a2")
    assert [s[0] for s in sorted(rec.spans, key=lambda s: s[1]) if s[0] != "b"] == ["a1", "a2"]
    assert time.monotonic() - started < 0.3 * 3 - 0.1  # not one after another


def test_concurrency_one_runs_jobs_one_after_another() -> None:
    rec = Recorder({"a": 0.2, "b": 0.2})
    run_schedule(
        {"a": "A", "b": "B"}, rec.run, rec.finished,
        stop=threading.Event(), concurrency=1, interval=None,
    )  # fmt: skip
    assert len(rec.done) == 2 and not rec.overlap("a", "b")


def test_a_slow_tenant_does_not_hold_back_the_passes_of_a_fast_one() -> None:
    """With one global pass the fast job would run once per slow pass (about 2 times in 2.5 s);
    on its own loop it runs every 0.1 s + 0.05 s."""
    rec = Recorder({"fast": 0.05, "slow": 1.2})
    stop = threading.Event()
    threading.Timer(2.5, stop.set).start()
    run_schedule(
        {"fast": "F", "slow": "S"}, rec.run, rec.finished,
        stop=stop, concurrency=4, interval=0.1,
    )  # fmt: skip
    fast = [n for name, n in rec.done if name == "fast"]
    slow = [n for name, n in rec.done if name == "slow"]
    assert fast == list(range(1, len(fast) + 1)) and len(fast) >= 8, rec.done
    assert 1 <= len(slow) <= 2


def test_stop_ends_the_schedule_after_the_passes_in_flight() -> None:
    stop = threading.Event()
    rec = Recorder({"a": 0.2})
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    run_schedule({"a": "A"}, rec.run, rec.finished, stop=stop, concurrency=2, interval=3600.0)
    assert time.monotonic() - started < 1.5 and rec.done == [("a", 1)]


def test_a_failure_stops_new_passes_and_is_raised_after_those_in_flight() -> None:
    ended: list[str] = []

    def run(name: str) -> str:
        if name == "bad":
            raise RuntimeError("boom")
        time.sleep(0.3)
        ended.append(name)
        return name

    with pytest.raises(RuntimeError, match="boom"):
        run_schedule(
            {"bad": "A", "later": "A", "other": "B"}, run, lambda *a: None,
            stop=threading.Event(), concurrency=4, interval=None,
        )  # fmt: skip
    assert ended == ["other"]  # in flight: finished; the bad tenant's next job never started


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_schedule({}, str, lambda *a: None, stop=threading.Event(), concurrency=0, interval=1)


def test_a_stop_does_not_wait_for_a_pass_that_never_ends() -> None:
    """A pass stuck in a slow server's retries is left behind after STOP_GRACE: the stop takes
    a moment, whatever the pass is waiting for."""
    stop = threading.Event()
    release = threading.Event()

    def run(name: str) -> str:
        release.wait(30)  # never ends by itself within the test
        return name

    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    run_schedule({"j": "t"}, run, lambda *_: None, stop=stop, concurrency=1, interval=1.0)
    elapsed = time.monotonic() - started
    release.set()
    assert elapsed < 0.3 + STOP_GRACE + 1.0, elapsed
