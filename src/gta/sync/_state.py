"""The checkpoint store: SQLite, one file per user, atomic commits.

Why SQLite rather than a JSON file: a commit is one transaction (WAL, ``synchronous=FULL``), so a
crash leaves the previous checkpoint or the new one, never an empty or torn file (the vendor
script's cursor file could be left empty and restart the whole history). Several streams and
jobs share one file, and a lease row per stream and per destination keeps two runs from feeding
the same checkpoint or writing the same place (rules in ``_leases``; opening and migrating the
file in ``_state_file``).

A checkpoint is keyed by (job, customer id, stream). A *job* is a named pairing of streams with
one format and one sink: the cursor says what that sink has received, so it belongs to the job,
not to the tenant. The sink is stored for display only, with secrets redacted. No credential is
ever written here.

Every SQLite failure leaves the store as one ``StateError`` line naming the file and the cause;
the connection is rolled back (or reopened) so that the next call, e.g. the next pass of
``gta sync --every``, starts clean once the cause is gone.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gta._time import format_rfc3339
from gta.sinks import redact_url
from gta.sync._leases import (
    DEFAULT_LEASE_TTL_S,
    Heartbeat,
    Lease,
    LeaseHeldError,
    LeaseInfo,
    LeaseLostError,
    current_identity,
    drop,
    held_by_other,
    hold,
)
from gta.sync._state_file import (
    SCHEMA_VERSION,
    StateError,
    open_state_file,
    state_error,
    stream_key,
)

__all__ = [
    "SCHEMA_VERSION",
    "Checkpoint",
    "CheckpointStore",
    "Lease",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "StateError",
    "default_state_path",
]

log = logging.getLogger("gta.sync")

_COLUMNS = "job, customer_id, stream, cursor, format, sink, records, updated_at"
_LEASE_COLUMNS = (
    "key, job, customer_id, stream, destination, owner, pid, host, pidns, boot_id, heartbeat, "
    "ttl, fence"
)


@dataclass(frozen=True)
class Checkpoint:
    """One saved position: what the job's sink has durably received from one stream."""

    job: str
    customer_id: str
    stream: str
    cursor: str | None
    format: str | None
    sink: str | None
    records: int
    updated_at: str


def default_state_path() -> Path:
    """``$GTA_STATE_DIR/state.db``, else ``$XDG_STATE_HOME/gta/state.db``, else
    ``~/.local/state/gta/state.db``."""
    explicit = os.environ.get("GTA_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "state.db"
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "gta" / "state.db"


def _now_iso() -> str:
    return format_rfc3339(datetime.now(UTC))


class CheckpointStore:
    """Checkpoints and leases in one SQLite file. Safe to share between threads of a process.

    ``lease_ttl`` is the time-to-live of the leases this store takes (seconds)."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, lease_ttl: float = DEFAULT_LEASE_TTL_S
    ) -> None:
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be positive, got {lease_ttl!r}")
        self.path = Path(path).expanduser() if path is not None else default_state_path()
        self.lease_ttl = float(lease_ttl)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = open_state_file(self.path)
        self._unreleased: list[Lease] = []  # releases that failed; retried, else they expire

    @contextlib.contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """The connection (reopened if a failure closed it), with SQLite errors as StateError."""
        with self._lock:
            if self._conn is None:
                self._conn = open_state_file(self.path)
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise state_error(self.path, exc) from None

    # -- checkpoints ------------------------------------------------------------------------

    def get(self, job: str, customer_id: str, stream: str) -> Checkpoint | None:
        with self._guard() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM checkpoints WHERE job=? AND customer_id=? AND stream=?",
                (job, customer_id, stream),
            ).fetchone()
        return Checkpoint(*row) if row else None

    def list(self, *, job: str | None = None, stream: str | None = None) -> list[Checkpoint]:
        sql = f"SELECT {_COLUMNS} FROM checkpoints"
        clauses, args = _filters(job=job, stream=stream)
        with self._guard() as conn:
            rows = conn.execute(
                sql + clauses + " ORDER BY job, customer_id, stream", args
            ).fetchall()
        return [Checkpoint(*r) for r in rows]

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
        with self._transaction() as conn:
            self._refuse_if_leased(conn, job, customer_id, stream)
            self._upsert(conn, job, customer_id, stream, cursor, 0, format, sink)

    def reset(
        self, *, job: str | None = None, stream: str | None = None, customer_id: str | None = None
    ) -> int:
        """Delete checkpoints (all, or of one job/stream); returns how many went."""
        clauses, args = _filters(job=job, stream=stream, customer_id=customer_id)
        with self._transaction() as conn:
            for row in conn.execute(
                "SELECT job, customer_id, stream FROM checkpoints" + clauses, args
            ).fetchall():
                self._refuse_if_leased(conn, *row)
            return conn.execute("DELETE FROM checkpoints" + clauses, args).rowcount

    def _upsert(
        self,
        conn: sqlite3.Connection,
        job: str,
        customer_id: str,
        stream: str,
        cursor: str | None,
        added: int,
        format: str | None,
        sink: str | None,
    ) -> None:
        conn.execute(
            f"INSERT INTO checkpoints ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, customer_id, stream) DO UPDATE SET "
            "cursor=excluded.cursor, format=coalesce(excluded.format, format), "
            "sink=coalesce(excluded.sink, sink), records=records + excluded.records, "
            "updated_at=excluded.updated_at",
            (
                job,
                customer_id,
                stream,
                cursor,
                format,
                redact_url(sink) if sink else None,
                added,
                _now_iso(),
            ),
        )

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
        key = "\x1f".join(("destination", destination))
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
        with self._transaction() as conn:
            row = self._lease_row(conn, key)
            if row is not None and held_by_other(row, me, time.time()):
                raise LeaseHeldError(row.refusal())
            fence = (row.fence if row is not None else 0) + 1
            conn.execute(
                f"INSERT OR REPLACE INTO leases ({_LEASE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, job, customer_id, stream, destination, owner, me.pid, me.host, me.pidns,
                 me.boot_id, time.time(), ttl, fence),
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
        with self._guard() as conn:
            rows = conn.execute(
                f"SELECT {_LEASE_COLUMNS} FROM leases WHERE owner IS NOT NULL ORDER BY key"
            ).fetchall()
        found = [LeaseInfo(*r) for r in rows]
        return [
            info
            for info in found
            if (job is None or info.job == job) and (stream is None or info.stream == stream)
        ]

    def unlock(self, infos: Iterable[LeaseInfo]) -> builtins.list[LeaseInfo]:
        """Release leases by hand (``gta state unlock``); returns those still held as listed
        (a lease renewed by a new holder since it was listed is left alone)."""
        released = []
        with self._transaction() as conn:
            for info in infos:
                if conn.execute(
                    "UPDATE leases SET owner=NULL WHERE key=? AND owner=? AND fence=?",
                    (info.key, info.owner, info.fence),
                ).rowcount:
                    released.append(info)
        return released

    def _release(self, lease: Lease) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE leases SET owner=NULL WHERE key=? AND owner=?", (lease.key, lease.owner)
            )

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
        with self._transaction() as conn:
            return bool(
                conn.execute(
                    "UPDATE leases SET heartbeat=? WHERE key=? AND owner=? AND fence=?",
                    (time.time(), lease.key, lease.owner, lease.fence),
                ).rowcount
            )

    @staticmethod
    def _lease_row(conn: sqlite3.Connection, key: str) -> LeaseInfo | None:
        row = conn.execute(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE key=?", (key,)).fetchone()
        return LeaseInfo(*row) if row else None

    def _refuse_if_leased(
        self, conn: sqlite3.Connection, job: str, customer_id: str, stream: str
    ) -> None:
        row = self._lease_row(conn, stream_key(job, customer_id, stream))
        if row is not None and held_by_other(row, current_identity(), time.time()):
            raise LeaseHeldError(row.refusal())

    def _commit(
        self, lease: Lease, cursor: str | None, added: int, format: str | None, sink: str | None
    ) -> None:
        with self._transaction() as conn:
            # Fencing: in the same transaction as the cursor, the row must still carry our
            # owner token and fencing number; a run whose lease was taken over stops here.
            held = conn.execute(
                "UPDATE leases SET heartbeat=? WHERE key=? AND owner=? AND fence=?",
                (time.time(), lease.key, lease.owner, lease.fence),
            ).rowcount
            if not held:
                now = self._lease_row(conn, lease.key)
                by = f"; now held by {now.holder()}" if now is not None and now.owner else ""
                raise LeaseLostError(
                    f"lost the lease on {lease.what()} (it expired, was unlocked or reset, "
                    f"or another run took over{by}); not committing"
                )
            self._upsert(
                conn, lease.job, lease.customer_id, lease.stream, cursor, added, format, sink
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction on the state file, for tables other modules keep in it
        (``_alert_set``: the alerts a job has delivered); StateError if busy or read-only."""
        with self._transaction() as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; any failure rolls back (when a transaction is still
        open: a failed COMMIT may already have ended it) and is raised as one StateError."""
        with self._guard() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._abort(conn)
                raise

    def _abort(self, conn: sqlite3.Connection) -> None:
        if not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            # A connection that cannot roll back is not trusted again: reopen at next use.
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._conn = None

    def close(self) -> None:
        self._retry_releases()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _filters(**values: str | None) -> tuple[str, list[str]]:
    parts = [(f"{key}=?", value) for key, value in values.items() if value is not None]
    if not parts:
        return "", []
    return " WHERE " + " AND ".join(p for p, _ in parts), [v for _, v in parts]
