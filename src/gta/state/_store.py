"""The state store: checkpoints and leases over any backend, with the lease rules applied here.

A checkpoint is keyed by (job, customer id, stream). A *job* is a named pairing of streams with
one format and one sink: the cursor says what that sink has received, so it belongs to the job,
not to the tenant. The sink is stored for display only, with secrets redacted. No credential
is ever written here.

A lease row per stream and per destination keeps two runs from feeding the same checkpoint or
writing the same place. Who may take a lease (time-to-live, pid liveness, takeover) is decided by
``_rules`` inside a serialised backend transaction; every cursor commit checks the lease's owner
token and fencing number in the same transaction as the cursor it writes. So a backend
(``StateBackend``: SQLite, PostgreSQL) only stores rows.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gta._urls import redact_url
from gta.state._backend import (
    Checkpoint,
    StateBackend,
    StateTx,
    destination_lease_key,
    stream_key,
)
from gta.state._errors import LeaseHeldError, LeaseLostError, StateError
from gta.state._rules import (
    DEFAULT_LEASE_TTL_S,
    Heartbeat,
    Lease,
    LeaseInfo,
    current_identity,
    drop,
    held_by_other,
    hold,
)

if TYPE_CHECKING:
    import os

log = logging.getLogger("gta.sync")  # the name operators filter on, kept from before the move


class StateStore(Protocol):
    """What ``gta.sync`` and the CLI use of a state: checkpoints, leases, a fenced commit."""

    lease_ttl: float
    location: str

    def get(self, job: str, customer_id: str, stream: str) -> Checkpoint | None: ...

    def list(
        self, *, job: str | None = None, stream: str | None = None
    ) -> builtins.list[Checkpoint]: ...

    def set_cursor(
        self, job: str, customer_id: str, stream: str, cursor: str | None, *,
        format: str | None = None, sink: str | None = None,
    ) -> None: ...  # fmt: skip

    def reset(
        self, *, job: str | None = None, stream: str | None = None, customer_id: str | None = None
    ) -> int: ...

    def lease(
        self, job: str, customer_id: str, stream: str, *, ttl: float | None = None
    ) -> AbstractContextManager[Lease]: ...

    def destination_lease(
        self, destination: str, job: str, *, ttl: float | None = None
    ) -> AbstractContextManager[Lease]: ...

    def leases(
        self, *, job: str | None = None, stream: str | None = None
    ) -> builtins.list[LeaseInfo]: ...

    def unlock(self, infos: Iterable[LeaseInfo]) -> builtins.list[LeaseInfo]: ...

    def commit(
        self, lease: Lease, cursor: str | None, *, added: int = 0, format: str | None = None,
        sink: str | None = None,
    ) -> None: ...  # fmt: skip

    def transaction(self) -> AbstractContextManager[StateTx]: ...

    def close(self) -> None: ...

    def __enter__(self) -> StateStore: ...

    def __exit__(self, *exc: object) -> None: ...


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shown(sink: str | None) -> str | None:
    """The sink as stored: for display only, so with its secrets redacted."""
    return redact_url(sink) if sink else None


def _filters(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}


class CheckpointStore:
    """Checkpoints and leases over a ``StateBackend``. Safe to share between threads.

    ``CheckpointStore(path)`` opens the SQLite file at ``path`` (default
    ``default_state_path()``); ``open_state(url)`` chooses the backend from a URL.
    ``lease_ttl`` is the time-to-live of the leases this store takes (seconds)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lease_ttl: float = DEFAULT_LEASE_TTL_S,
        backend: StateBackend | None = None,
    ) -> None:
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be positive, got {lease_ttl!r}")
        self.lease_ttl = float(lease_ttl)
        if backend is None:
            from gta.state._sqlite import SqliteBackend
            from gta.state._url import default_state_path

            backend = SqliteBackend(
                Path(path).expanduser() if path is not None else default_state_path()
            )
        self.backend = backend
        self.location = backend.location
        self._lock = threading.Lock()
        self._unreleased: builtins.list[Lease] = []  # failed releases; retried, else expire

    @property
    def path(self) -> Path | None:
        """The state file (SQLite), else None."""
        path = getattr(self.backend, "path", None)
        return path if isinstance(path, Path) else None

    # -- checkpoints ------------------------------------------------------------------------

    def get(self, job: str, customer_id: str, stream: str) -> Checkpoint | None:
        with self.backend.read() as tx:
            return tx.checkpoint(job, customer_id, stream)

    def list(
        self, *, job: str | None = None, stream: str | None = None
    ) -> builtins.list[Checkpoint]:
        with self.backend.read() as tx:
            return tx.checkpoints(_filters(job=job, stream=stream))

    def set_cursor(
        self,
        job: str,
        customer_id: str,
        stream: str,
        cursor: str | None,
        *,
        format: str | None = None,
        sink: str | None = None,
    ) -> None:
        """Write a cursor by hand (``gta state set``); a job holding the lease is not disturbed
        mid-run because the write is refused while the lease is alive."""
        with self.backend.transaction() as tx:
            _refuse_if_leased(tx, job, customer_id, stream)
            tx.add_to_checkpoint(
                Checkpoint(job, customer_id, stream, cursor, format, _shown(sink), 0, _now_iso())
            )

    def reset(
        self, *, job: str | None = None, stream: str | None = None, customer_id: str | None = None
    ) -> int:
        """Delete checkpoints (all, or of one job/stream); returns how many went."""
        filters = _filters(job=job, stream=stream, customer_id=customer_id)
        with self.backend.transaction() as tx:
            for cp in tx.checkpoints(filters):
                _refuse_if_leased(tx, cp.job, cp.customer_id, cp.stream)
            return tx.delete_checkpoints(filters)

    # -- leases -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lease(
        self, job: str, customer_id: str, stream: str, *, ttl: float | None = None
    ) -> Iterator[Lease]:
        """Hold the right to advance one checkpoint; another live holder -> LeaseHeldError."""
        key = stream_key(job, customer_id, stream)
        with self._held(key, job, customer_id, stream, "", ttl) as lease:
            yield lease

    @contextlib.contextmanager
    def destination_lease(
        self, destination: str, job: str, *, ttl: float | None = None
    ) -> Iterator[Lease]:
        """Hold the right to write ``destination`` (see ``gta.sinks.destination_key``) for the
        run of ``job``; another live writer -> LeaseHeldError naming it."""
        key = destination_lease_key(destination)
        with self._held(key, job, "", "", destination, ttl) as lease:
            yield lease

    @contextlib.contextmanager
    def _held(
        self, key: str, job: str, customer_id: str, stream: str, destination: str,
        ttl: float | None,
    ) -> Iterator[Lease]:  # fmt: skip
        ttl = self.lease_ttl if ttl is None else float(ttl)
        me = current_identity()
        owner = uuid.uuid4().hex
        self._retry_releases()
        with self.backend.transaction() as tx:
            row = tx.lease(key)
            if row is not None and held_by_other(row, me, time.time()):
                raise LeaseHeldError(row.refusal())
            fence = (row.fence if row is not None else 0) + 1
            tx.put_lease(
                LeaseInfo(key, job, customer_id, stream, destination, owner, me.pid, me.host,
                          me.pidns, me.boot_id, time.time(), ttl, fence)
            )  # fmt: skip
        hold(owner)
        lease = Lease(self, key, job, customer_id, stream, owner, fence, destination)
        lease._heartbeat = Heartbeat(lambda: self._renew(lease), ttl / 3, stream or "destination")
        try:
            yield lease
        finally:
            lease._heartbeat.stop()
            drop(owner)
            try:
                self._release(lease)
            except StateError as exc:
                log.warning(
                    "releasing the lease on %s failed (retried later): %s", lease.what(), exc
                )
                with self._lock:
                    self._unreleased.append(lease)

    def leases(
        self, *, job: str | None = None, stream: str | None = None
    ) -> builtins.list[LeaseInfo]:
        """Leases taken and not released (live or expired), optionally of one job/stream."""
        with self.backend.read() as tx:
            found = tx.held_leases()
        return [
            info
            for info in found
            if (job is None or info.job == job) and (stream is None or info.stream == stream)
        ]

    def unlock(self, infos: Iterable[LeaseInfo]) -> builtins.list[LeaseInfo]:
        """Release leases by hand (``gta state unlock``); returns those still held as listed
        (a lease renewed by a new holder since it was listed is left alone)."""
        with self.backend.transaction() as tx:
            return [info for info in infos if tx.update_lease(info.key, info.owner or "",
                                                              info.fence)]  # fmt: skip

    def _release(self, lease: Lease) -> None:
        with self.backend.transaction() as tx:
            tx.update_lease(lease.key, lease.owner, lease.fence)

    def _retry_releases(self) -> None:
        with self._lock:
            pending, self._unreleased = self._unreleased, []
        for lease in pending:
            try:
                self._release(lease)
            except StateError:
                with self._lock:
                    self._unreleased.append(lease)

    def _renew(self, lease: Lease) -> bool:
        """Move the heartbeat; False once the lease is no longer ours."""
        with self.backend.transaction() as tx:
            return tx.update_lease(lease.key, lease.owner, lease.fence, heartbeat=time.time())

    def commit(
        self,
        lease: Lease,
        cursor: str | None,
        *,
        added: int = 0,
        format: str | None = None,
        sink: str | None = None,
    ) -> None:
        """Move the checkpoint of ``lease`` (``Lease.commit``), fenced: in the same transaction
        as the cursor, the lease row must still carry our owner token and fencing number; a
        run whose lease was taken over stops here with LeaseLostError."""
        with self.backend.transaction() as tx:
            if not tx.update_lease(lease.key, lease.owner, lease.fence, heartbeat=time.time()):
                now = tx.lease(lease.key)
                by = f"; now held by {now.holder()}" if now is not None and now.owner else ""
                raise LeaseLostError(
                    f"lost the lease on {lease.what()} (it expired, was unlocked or reset, "
                    f"or another run took over{by}); not committing"
                )
            tx.add_to_checkpoint(
                Checkpoint(lease.job, lease.customer_id, lease.stream, cursor, format, _shown(sink),
                           added, _now_iso())
            )  # fmt: skip

    def transaction(self) -> AbstractContextManager[StateTx]:
        """One serialised transaction, for rows other modules keep in the state (``gta.sync``'s
        alert set: the alerts a job has delivered); StateError if busy or read-only."""
        return self.backend.transaction()

    def close(self) -> None:
        self._retry_releases()
        self.backend.close()

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _refuse_if_leased(tx: StateTx, job: str, customer_id: str, stream: str) -> None:
    row = tx.lease(stream_key(job, customer_id, stream))
    if row is not None and held_by_other(row, current_identity(), time.time()):
        raise LeaseHeldError(row.refusal())
