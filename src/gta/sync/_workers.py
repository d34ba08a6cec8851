"""Worker mode: identical ``gta sync --worker`` processes share the units of one config.

A *unit* is one stream of one job (so of one tenant): (tenant, job, stream). A worker *claims* a
unit by taking that stream's lease in the state store and keeps it between passes; every pass
of the unit commits its cursor through that lease. So the rules of leases give the rules of
workers (``_leases``): one live holder per unit, a heartbeat every third of the TTL, a dead
holder's units free within the TTL (at once on the same machine: its pid is gone), and a fencing
number that grows at each claim and is checked in the same transaction as every cursor commit,
so a worker whose unit was taken over can never move that cursor.

Presence: each worker also holds a lease of the reserved job ``gta-workers`` whose stream is
its worker id (and whose customer field carries its ``--max-units``, so the others know its
capacity). The live ones are the workers the units are shared between. Each worker aims at its
*target*: the units spread evenly over the live workers, none above its own cap (``targets``);
it claims free units up to it and, when another live worker holds fewer than its own target (it
has just started), gives back its idle units above it. The store is the only channel between
workers: they need no network between them, only the same state.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from gta.sinks import destination_key
from gta.state import (
    Lease,
    LeaseHeldError,
    LeaseInfo,
    StateError,
    StateStore,
    current_identity,
    held_by_other,
)
from gta.sync._config import ConfigError, SyncConfig
from gta.sync._engine import NullReporter
from gta.sync._schedule import STOP_GRACE

__all__ = [
    "WORKERS_JOB",
    "CommitLog",
    "Unit",
    "Worker",
    "check_worker_config",
    "shared_destination",
    "targets",
    "units_of",
]

WORKERS_JOB = "gta-workers"
"""The reserved job name of the workers' presence leases (a config may not use it)."""
_CAP_PREFIX = "max-units="
MAX_WORKER_ID = 100
TICK = 0.5
"""Seconds between two looks at the lease rows (claims, give-backs, lost units)."""

log = logging.getLogger("gta.workers")

Emit = Callable[..., None]
"""``emit(event, unit, fence, **fields)``: a claim, release, loss or commit, for the log."""


@dataclass(frozen=True, order=True)
class Unit:
    """One stream of one job: what a worker claims and runs."""

    tenant: str
    job: str
    stream: str

    def __str__(self) -> str:
        return f"{self.job}/{self.stream}"


def units_of(config: SyncConfig, names: Sequence[str]) -> list[Unit]:
    """The units of the jobs ``names``, in the file's order."""
    return [Unit(config.jobs[n].tenant, n, s) for n in names for s in config.jobs[n].streams]


def _is_file(sink: str, options: dict[str, Any]) -> str | None:
    key = destination_key(sink, options)
    return key[len("file:") :] if key is not None and key.startswith("file:") else None


def check_worker_config(config: SyncConfig, names: Sequence[str]) -> None:
    """Refuse what worker mode cannot run safely (ConfigError, one line): a file written by
    several units (two workers would append to it at once), or the reserved job name."""
    for name in names:
        spec = config.jobs[name]
        if name == WORKERS_JOB:
            raise ConfigError(f"jobs.{name}: the job name {WORKERS_JOB!r} is reserved by --worker")
        path = _is_file(spec.sink, spec.sink_options)
        if path is not None and len(spec.streams) > 1:
            raise ConfigError(
                f"jobs.{name}: with --worker each stream is a unit any worker may run, and the "
                f"file {path} takes one writer; give each stream its own job and file, or use "
                "a network sink"
            )


def shared_destination(config: SyncConfig, name: str) -> bool:
    """Whether the job's units write a destination shared by design (a network sink: Splunk
    HEC, syslog, ...), which therefore takes no destination lease in worker mode."""
    spec = config.jobs[name]
    return _is_file(spec.sink, spec.sink_options) is None


def targets(units: int, caps: Sequence[int | None]) -> int:
    """The even level of ``units`` over workers of capacities ``caps`` (None: no cap): the
    smallest number L such that every worker taking min(L, its cap) covers every unit (the
    largest cap when the caps cannot cover them). A worker aims at min(L, its cap)."""
    if not caps or units <= 0:
        return 0
    finite = [c for c in caps if c is not None]
    if len(finite) == len(caps) and sum(finite) <= units:
        return max(finite)
    level = -(-units // len(caps))
    while sum(min(level, c) if c is not None else level for c in caps) < units:
        level += 1
    return level


class CommitLog(NullReporter):
    """A reporter that logs each page the engine committed under a claim (worker id and fencing
    number), so a test can check that no unit was ever synced by two workers at once."""

    def __init__(self, unit: Unit, lease: Lease, emit: Emit) -> None:
        self._unit, self._lease, self._emit = unit, lease, emit
        self._last: object = object()

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        if records or cursor != self._last:
            self._emit("commit", self._unit, self._lease.fence, cursor=cursor, records=records)
        self._last = cursor


@dataclass
class _Claim:
    unit: Unit
    lease: Lease
    stack: contextlib.ExitStack
    due: float
    running: Future[Any] | None = None
    passes: int = 0


@dataclass
class _Holders:
    """Who holds what, from one read of the lease rows."""

    live_workers: dict[tuple[str, str, str, int], tuple[str, int | None]] = field(
        default_factory=dict
    )
    held: dict[tuple[str, str, str], tuple[str, str, str, int]] = field(default_factory=dict)


def _holder(info: LeaseInfo) -> tuple[str, str, str, int]:
    return (info.host, info.boot_id, info.pidns, info.pid)


class Worker:
    """One worker's loop: keep presence, claim and give back units, run their passes.

    ``run_pass(unit, lease)`` runs one pass of a unit under its claim (on a pool thread) and
    returns whether it succeeded; an exception from it stops the worker and is raised (a usage
    error). ``done(unit, number, ok, seconds)`` is called on the loop's thread after each pass.
    ``customer_of(unit)`` is the unit's customer id (it may ask the API once per tenant)."""

    def __init__(
        self,
        store: StateStore,
        units: Sequence[Unit],
        *,
        worker_id: str,
        run_pass: Callable[[Unit, Lease], bool],
        customer_of: Callable[[Unit], str],
        interval: float,
        concurrency: int = 1,
        max_units: int | None = None,
        emit: Emit | None = None,
        done: Callable[[Unit, int, bool, float], None] | None = None,
        tick: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.units = list(units)
        self.worker_id = worker_id
        self.run_pass = run_pass
        self.customer_of = customer_of
        self.interval = interval
        self.concurrency = concurrency
        self.max_units = max_units
        self.emit: Emit = emit or _log_event
        self.done = done or (lambda *_: None)
        self.tick = tick if tick is not None else min(TICK, store.lease_ttl / 3, interval)
        self.clock = clock
        self.claims: dict[Unit, _Claim] = {}
        self._order = list(self.units)
        random.shuffle(self._order)  # workers starting together try different units first

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        cap = "" if self.max_units is None else str(self.max_units)
        try:
            presence_cm = self.store.lease(WORKERS_JOB, _CAP_PREFIX + cap, self.worker_id)
            presence = presence_cm.__enter__()
        except LeaseHeldError as exc:
            raise LeaseHeldError(
                f"worker id {self.worker_id!r} is in use ({exc}); give each worker its own "
                "--worker-id"
            ) from None
        self.emit("start", None, presence.fence)
        # Workers started together see each other before claiming: an even split from the
        # start, instead of the first one claiming everything and giving most of it back.
        stop.wait(self.tick)
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="gta-unit")
        failure: BaseException | None = None
        try:
            while not stop.is_set() and failure is None:
                failure = self._reap(timeout=0)
                try:
                    self._balance()
                except StateError as exc:  # a busy or failing store: try again next tick
                    log.warning("worker %s: could not balance units: %s", self.worker_id, exc)
                self._start_due(pool, stop)
                failure = failure or self._reap(timeout=self._next_wake())
        finally:
            self._stop(pool)
            presence_cm.__exit__(None, None, None)
            self.emit("stop", None, presence.fence)
        if failure is not None:
            raise failure

    def _next_wake(self) -> float:
        now = self.clock()
        idle = [c.due for c in self.claims.values() if c.running is None]
        return max(0.0, min([self.tick, *(d - now for d in idle)]))

    def _start_due(self, pool: ThreadPoolExecutor, stop: threading.Event) -> None:
        running = sum(c.running is not None for c in self.claims.values())
        now = self.clock()
        for claim in sorted(self.claims.values(), key=lambda c: c.due):
            if running >= self.concurrency or stop.is_set():
                return
            if claim.running is None and claim.due <= now and not claim.lease.lost:
                claim.running = pool.submit(self._timed, claim)
                running += 1

    def _timed(self, claim: _Claim) -> tuple[bool, float]:
        started = self.clock()
        ok = self.run_pass(claim.unit, claim.lease)
        return ok, self.clock() - started

    def _reap(self, timeout: float) -> BaseException | None:
        """Wait up to ``timeout`` for a pass to end; handle those that ended."""
        futures = [c.running for c in self.claims.values() if c.running is not None]
        if futures:
            wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        elif timeout > 0:
            time.sleep(timeout)
        failure: BaseException | None = None
        for claim in list(self.claims.values()):
            future = claim.running
            if future is None or not future.done():
                continue
            claim.running = None
            claim.passes += 1
            claim.due = self.clock() + self.interval
            error = future.exception()
            if error is not None:
                failure = failure or error
                continue
            ok, seconds = future.result()
            self.done(claim.unit, claim.passes, ok, seconds)
            if claim.lease.lost or (not ok and not self._still_ours(claim.lease)):
                self._release(claim, "lost")
        return failure

    # -- claims -----------------------------------------------------------------------------

    def _read_holders(self) -> _Holders:
        me, now = current_identity(), time.time()
        holders = _Holders()
        rows = self.store.leases()
        for info in rows:
            if info.job == WORKERS_JOB and held_by_other(info, me, now):
                cap = info.customer_id[len(_CAP_PREFIX) :]
                holders.live_workers[_holder(info)] = (
                    info.stream,
                    int(cap) if cap.isdigit() else None,
                )
        for info in rows:
            if info.job != WORKERS_JOB and not info.destination and held_by_other(info, me, now):
                holders.held[(info.job, info.customer_id, info.stream)] = _holder(info)
        return holders

    def _balance(self) -> None:
        for claim in list(self.claims.values()):
            if claim.running is None and claim.lease.lost:
                self._release(claim, "lost")
        holders = self._read_holders()
        workers = holders.live_workers or {("", "", "", 0): (self.worker_id, self.max_units)}
        caps = [cap for _, cap in workers.values()]
        if self.worker_id not in {w for w, _ in workers.values()}:
            caps.append(self.max_units)  # our presence row is being renewed or retaken
        level = targets(len(self.units), caps)
        mine = level if self.max_units is None else min(level, self.max_units)
        if len(self.claims) > mine and self._someone_below(holders, level):
            idle = [c for c in self.claims.values() if c.running is None]
            for claim in sorted(idle, key=lambda c: -c.due)[: len(self.claims) - mine]:
                self._release(claim, "rebalance")
        elif len(self.claims) < mine:
            self._claim(mine - len(self.claims), holders)

    def _someone_below(self, holders: _Holders, level: int) -> bool:
        """Another live worker holds fewer units than its target (it can take ours)."""
        counts: dict[tuple[str, str, str, int], int] = dict.fromkeys(holders.live_workers, 0)
        for holder in holders.held.values():
            if holder in counts:
                counts[holder] += 1
        return any(
            wid != self.worker_id and counts[h] < (level if cap is None else min(level, cap))
            for h, (wid, cap) in holders.live_workers.items()
        )

    def _claim(self, wanted: int, holders: _Holders) -> None:
        for unit in self._order:
            if wanted <= 0:
                return
            if unit in self.claims:
                continue
            try:
                customer = self.customer_of(unit)
            except Exception as exc:  # the tenant's API or credentials: try at the next tick
                log.warning("worker %s: cannot claim %s: %s", self.worker_id, unit, exc)
                continue
            if (unit.job, customer, unit.stream) in holders.held:
                continue
            stack = contextlib.ExitStack()
            try:
                lease = stack.enter_context(self.store.lease(unit.job, customer, unit.stream))
            except (LeaseHeldError, StateError):
                stack.close()
                continue  # taken by another worker since we looked, or a busy store
            self.claims[unit] = _Claim(unit, lease, stack, due=self.clock())
            self.emit("claim", unit, lease.fence)
            wanted -= 1

    def _release(self, claim: _Claim, why: str) -> None:
        del self.claims[claim.unit]
        claim.stack.close()
        self.emit("release" if why != "lost" else "lost", claim.unit, claim.lease.fence, why=why)

    def _still_ours(self, lease: Lease) -> bool:
        try:
            rows = self.store.leases(job=lease.job, stream=lease.stream)
        except StateError:
            return True  # we cannot tell: the next commit's fencing will
        return any(r.key == lease.key and r.owner == lease.owner for r in rows)

    def _stop(self, pool: ThreadPoolExecutor) -> None:
        """Let the passes in flight commit their page (they see the stop), at most
        ``STOP_GRACE`` seconds, then give every unit back."""
        futures = [c.running for c in self.claims.values() if c.running is not None]
        if futures:
            wait(futures, timeout=STOP_GRACE)
        pool.shutdown(wait=False, cancel_futures=True)
        for claim in list(self.claims.values()):
            self._release(claim, "stop")


def _log_event(event: str, unit: Unit | None, fence: int, **fields: Any) -> None:
    extra = " ".join(f"{k}={v}" for k, v in fields.items())
    log.info("%s %s fence %d %s", event, unit or "-", fence, extra)
