"""Lease rules: who holds a lease, when it may be taken over, and the heartbeat that keeps it.

A lease is the right to feed one checkpoint (a stream of a job) or one destination. Its row
records the holder (an owner token made per acquisition, pid, host, PID namespace, boot id), a
heartbeat renewed every ``ttl / 3`` by a thread, the holder's time-to-live, and a fencing number
that grows at every acquisition. The rules here are pure and apart from any storage: the store
(``_store``) applies them the same way over every backend (SQLite, PostgreSQL):

- a row whose heartbeat is older than its TTL is free, whatever its pid and host say;
- the pid is trusted only when the holder ran on this host, this boot, in this PID namespace
  (a pid from a container, e.g. PID 1, says nothing here): a dead pid frees the lease at once;
- a row with our own pid is held only while this process still holds that owner token (a
  release that failed leaves a row that is ours to take back, never a wedge).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gta.state._errors import StateError

DEFAULT_LEASE_TTL_S = 60.0
"""A holder that has not renewed its heartbeat for this long has lost its lease."""
MIN_LEASE_TTL_S = 1.0
"""The shortest TTL a user may set: the heartbeat runs every third of it."""

log = logging.getLogger("gta.sync")  # the name operators filter on, kept from before the move


@dataclass(frozen=True)
class Identity:
    """Where a process runs: its pid means something only with the same host, boot and PID
    namespace."""

    pid: int
    host: str
    pidns: str
    boot_id: str


def current_identity() -> Identity:
    return Identity(os.getpid(), socket.gethostname(), _pid_namespace(), _boot_id())


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class LeaseInfo:
    """One lease row, as the rules and ``gta state show``/``unlock`` see it."""

    key: str
    job: str
    customer_id: str
    stream: str
    destination: str
    owner: str | None
    pid: int
    host: str
    pidns: str
    boot_id: str
    heartbeat: float
    ttl: float
    fence: int

    def what(self) -> str:
        return _what(self.job, self.stream, self.destination)

    def holder(self, now: float | None = None) -> str:
        age = max(0, int((time.time() if now is None else now) - self.heartbeat))
        return f"pid {self.pid} on {self.host} (heartbeat {age}s ago)"

    def refusal(self) -> str:
        """Why we may not take it: what, who, and what to do."""
        verb = "written" if self.destination else "synced"
        return (
            f"{self.what()} is being {verb} by {self.holder()}; wait for it to finish, "
            "stop it, or release it with gta state unlock"
        )

    def expired(self, now: float) -> bool:
        return now - self.heartbeat >= self.ttl


class FencedCommitter(Protocol):
    """What a lease commits through: the store's fenced commit."""

    def commit(
        self,
        lease: Lease,
        cursor: str | None,
        *,
        added: int = 0,
        format: str | None = None,
        sink: str | None = None,
    ) -> None: ...


@dataclass
class Lease:
    """The right to advance one checkpoint (or write one destination); ``commit`` moves the
    checkpoint, fenced by the owner token and fencing number of this acquisition."""

    store: FencedCommitter
    key: str
    job: str
    customer_id: str
    stream: str
    owner: str
    fence: int
    destination: str = ""
    _heartbeat: Heartbeat | None = field(default=None, repr=False)

    def what(self) -> str:
        return _what(self.job, self.stream, self.destination)

    @property
    def lost(self) -> bool:
        """The heartbeat found the lease taken over."""
        return self._heartbeat is not None and self._heartbeat.lost

    def commit(
        self,
        cursor: str | None,
        *,
        added: int = 0,
        format: str | None = None,
        sink: str | None = None,
    ) -> None:
        """Save ``cursor`` atomically. Call only after the sink's ``flush`` returned."""
        self.store.commit(self, cursor, added=added, format=format, sink=sink)


def _what(job: str, stream: str, destination: str) -> str:
    if destination:
        return f"destination {destination} (job {job!r})"
    return f"stream {stream!r} of job {job!r}"


_held_lock = threading.Lock()
_held_owners: set[str] = set()
"""Owner tokens this process holds now (a row with our pid and another token is stale)."""


def hold(owner: str) -> None:
    with _held_lock:
        _held_owners.add(owner)


def drop(owner: str) -> None:
    with _held_lock:
        _held_owners.discard(owner)


def held_by_other(row: LeaseInfo, me: Identity, now: float) -> bool:
    """Whether ``row`` is held by a live holder, so that we may not take it."""
    if row.owner is None or row.expired(now):
        return False
    same_machine = (row.host, row.boot_id, row.pidns) == (me.host, me.boot_id, me.pidns)
    if not same_machine:
        return True  # the pid means nothing here: only the TTL can free it
    if row.pid == me.pid:
        with _held_lock:
            return row.owner in _held_owners
    return _pid_alive(row.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    """A killed child not yet reaped still answers ``kill(pid, 0)``; it holds nothing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


class Heartbeat:
    """A daemon thread calling ``renew`` every ``interval`` seconds until stopped or until
    ``renew`` returns False (the lease is gone). A failed renewal (disk full, busy) is logged
    and tried again at the next tick; the lease expires only if it keeps failing for a TTL."""

    def __init__(self, renew: Callable[[], bool], interval: float, name: str) -> None:
        self._renew = renew
        self._interval = interval
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._run, name=f"gta-lease-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._renew():
                    self.lost = True
                    return
            except StateError as exc:
                log.warning("lease heartbeat failed (will retry): %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=5.0)
