"""Jobs side by side: each job on its own schedule, at most ``concurrency`` at once, and one job
of a tenant at a time.

Why per job and not one global pass: with one pass for all jobs, the next pass of every job waits
for the slowest job of the last one, so one slow tenant (a far region, a loaded API) delays the
delivery of every other tenant. Here a job's next pass is due ``interval`` after its own last
pass ended, whatever the others are doing; a fast tenant keeps its pace.

Why one job of a tenant at a time: a tenant's jobs share its API rate limit, and running them
one after another keeps the load a tenant sees the same as before parallel runs (jobs of one
tenant run in the order of the file, then round after round). Two jobs never write the same
destination (refused when the config is loaded), so running jobs share only the state store,
which is safe across threads.

The scheduler only decides *when*: ``run(name)`` does the pass on a pool thread and returns its
outcome, ``done(name, number, outcome, seconds)`` is called on the scheduling thread after
each pass. An exception from ``run`` stops the scheduling of new passes; the passes in flight
end, then it is raised. The caller's ``stop`` event stops new passes at once; the passes in
flight see the same event and end at their page in flight. A pass that has not ended
``STOP_GRACE`` seconds after the stop (waiting out a network retry, or a sink that does not
answer) is left behind: a stop must not wait for a slow server. That is as safe as a crash:
its commits are atomic, so at most its page in flight is delivered again by the next start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["run_schedule"]

R = TypeVar("R")

STOP_GRACE = 1.5
"""Seconds a stop waits for the passes in flight before it leaves them behind."""
_TICK = 0.5
"""Longest wait of the scheduling thread without looking at ``stop`` while passes run (they see
``stop`` themselves; this only bounds how long an idle scheduler takes to notice it)."""


def run_schedule(
    jobs: Mapping[str, str],
    run: Callable[[str], R],
    done: Callable[[str, int, R, float], None],
    *,
    stop: threading.Event,
    concurrency: int,
    interval: float | None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run every job of ``jobs`` (name -> tenant, in order) once (``interval`` None) or every
    ``interval`` seconds until ``stop`` is set."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    order = list(jobs)
    due = dict.fromkeys(order, clock())
    passes = dict.fromkeys(order, 0)
    finished: set[str] = set()
    running: dict[Future[R], tuple[str, float]] = {}
    busy: set[str] = set()  # tenants with a pass in flight
    failure: BaseException | None = None
    stopped_at: float | None = None
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="gta-job")
    try:
        while True:
            now = clock()
            if failure is None and not stop.is_set():
                for name in sorted((n for n in order if n not in finished), key=due.__getitem__):
                    if len(running) >= concurrency:
                        break
                    if due[name] > now or jobs[name] in busy:
                        continue
                    busy.add(jobs[name])
                    running[pool.submit(run, name)] = (name, clock())
            if not running:
                if failure is not None or stop.is_set() or len(finished) == len(order):
                    break
                waiting = [due[n] for n in order if n not in finished]
                stop.wait(max(0.0, min(waiting) - clock()))
                continue
            if stop.is_set():
                stopped_at = clock() if stopped_at is None else stopped_at
                if clock() - stopped_at >= STOP_GRACE:
                    break  # leave the passes still running behind (see the module doc)
            # Wake for the next job that could start; a job whose tenant is busy, or any job
            # while every worker is busy, can only start when a pass ends (which wakes us).
            free = len(running) < concurrency
            pending = [due[n] for n in order if free and n not in finished and jobs[n] not in busy]
            timeout = min([_TICK, *(max(0.0, d - clock()) for d in pending)])
            if stop.is_set():
                timeout = min(timeout, 0.1)
            completed, _ = wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in completed:
                name, started = running.pop(future)
                busy.discard(jobs[name])
                passes[name] += 1
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    finished.add(name)
                    continue
                done(name, passes[name], future.result(), clock() - started)
                if interval is None:
                    finished.add(name)
                else:
                    due[name] = clock() + interval
    finally:
        # Join the workers unless a stop left passes behind (they end on their own, or with
        # the process).
        pool.shutdown(wait=not running, cancel_futures=True)
    if failure is not None:
        raise failure
