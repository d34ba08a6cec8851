"""The SQLite backend: one file per user, atomic commits (opening and migrating the file in
``_sqlite_file``).

Why SQLite rather than a JSON file: a commit is one transaction (WAL, ``synchronous=FULL``), so a
crash leaves the previous checkpoint or the new one, never an empty or torn file. Several
streams and jobs share one file. Every SQLite failure leaves as one ``StateError`` line naming
the file and the cause; the connection is rolled back (or reopened) so that the next call, e.g.
the next pass of ``gta sync --every``, starts clean once the cause is gone.
"""

from __future__ import annotations

import builtins
import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from gta.state._backend import (
    CHECKPOINT_COLUMNS,
    LEASE_COLUMNS,
    AlertRow,
    Checkpoint,
    where,
)
from gta.state._rules import LeaseInfo
from gta.state._sqlite_file import open_state_file, state_error

_COLUMNS = ", ".join(CHECKPOINT_COLUMNS)
_LEASE_COLUMNS = ", ".join(LEASE_COLUMNS)
# The alert set's tables are made on first use with IF NOT EXISTS: an older gta opening the file
# ignores them, so the state schema version does not change for them.
_ALERT_TABLES = (
    "CREATE TABLE IF NOT EXISTS alert_set ("
    " job TEXT NOT NULL, customer_id TEXT NOT NULL, alert_id TEXT NOT NULL,"
    " status TEXT, risk TEXT, updated_at REAL NOT NULL,"
    " PRIMARY KEY (job, customer_id, alert_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS alert_reconcile ("
    " job TEXT NOT NULL, customer_id TEXT NOT NULL, reconciled_at REAL NOT NULL,"
    " PRIMARY KEY (job, customer_id))",
)


class SqliteTx:
    """The rows of the state file on one connection (see ``StateTx``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def checkpoint(self, job: str, customer_id: str, stream: str) -> Checkpoint | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM checkpoints WHERE job=? AND customer_id=? AND stream=?",
            (job, customer_id, stream),
        ).fetchone()
        return Checkpoint(*row) if row else None

    def checkpoints(self, filters: Mapping[str, str]) -> builtins.list[Checkpoint]:
        clauses, args = where(filters, "?")
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM checkpoints{clauses} ORDER BY job, customer_id, stream", args
        ).fetchall()
        return [Checkpoint(*r) for r in rows]

    def add_to_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            f"INSERT INTO checkpoints ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, customer_id, stream) DO UPDATE SET "
            "cursor=excluded.cursor, format=coalesce(excluded.format, format), "
            "sink=coalesce(excluded.sink, sink), records=records + excluded.records, "
            "updated_at=excluded.updated_at",
            _values(checkpoint),
        )

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            f"INSERT OR REPLACE INTO checkpoints ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _values(checkpoint),
        )

    def delete_checkpoints(self, filters: Mapping[str, str]) -> int:
        clauses, args = where(filters, "?")
        return self.conn.execute("DELETE FROM checkpoints" + clauses, args).rowcount

    def lease(self, key: str) -> LeaseInfo | None:
        row = self.conn.execute(
            f"SELECT {_LEASE_COLUMNS} FROM leases WHERE key=?", (key,)
        ).fetchone()
        return LeaseInfo(*row) if row else None

    def held_leases(self) -> builtins.list[LeaseInfo]:
        rows = self.conn.execute(
            f"SELECT {_LEASE_COLUMNS} FROM leases WHERE owner IS NOT NULL ORDER BY key"
        ).fetchall()
        return [LeaseInfo(*r) for r in rows]

    def put_lease(self, info: LeaseInfo) -> None:
        self.conn.execute(
            f"INSERT OR REPLACE INTO leases ({_LEASE_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(getattr(info, column) for column in LEASE_COLUMNS),
        )

    def update_lease(
        self, key: str, owner: str, fence: int, *, heartbeat: float | None = None
    ) -> bool:
        match = " WHERE key=? AND owner=? AND fence=?"
        if heartbeat is None:
            cursor = self.conn.execute("UPDATE leases SET owner=NULL" + match, (key, owner, fence))
        else:
            cursor = self.conn.execute(
                "UPDATE leases SET heartbeat=?" + match, (heartbeat, key, owner, fence)
            )
        return bool(cursor.rowcount)

    def _alerts(self) -> sqlite3.Connection:
        for statement in _ALERT_TABLES:
            self.conn.execute(statement)
        return self.conn

    def remember_alerts(self, rows: Iterable[AlertRow]) -> None:
        self._alerts().executemany(
            "INSERT INTO alert_set VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (job, customer_id, alert_id) DO UPDATE SET "
            "status=excluded.status, risk=excluded.risk, updated_at=excluded.updated_at",
            rows,
        )

    def forget_alerts(self, job: str, customer_id: str, alert_ids: Iterable[str]) -> None:
        self._alerts().executemany(
            "DELETE FROM alert_set WHERE job=? AND customer_id=? AND alert_id=?",
            ((job, customer_id, aid) for aid in alert_ids),
        )

    def live_alerts(
        self, job: str, customer_id: str
    ) -> builtins.list[tuple[str, str | None, str | None]]:
        rows = self._alerts().execute(
            "SELECT alert_id, status, risk FROM alert_set WHERE job=? AND customer_id=?",
            (job, customer_id),
        )
        return [(aid, status, risk) for aid, status, risk in rows.fetchall()]

    def alert_rows(self) -> builtins.list[AlertRow]:
        rows = self._alerts().execute(
            "SELECT job, customer_id, alert_id, status, risk, updated_at FROM alert_set "
            "ORDER BY job, customer_id, alert_id"
        )
        return [tuple(r) for r in rows.fetchall()]

    def reconciled_at(self, job: str, customer_id: str) -> float | None:
        row = (
            self._alerts()
            .execute(
                "SELECT reconciled_at FROM alert_reconcile WHERE job=? AND customer_id=?",
                (job, customer_id),
            )
            .fetchone()
        )
        return None if row is None else float(row[0])

    def mark_reconciled(self, job: str, customer_id: str, when: float) -> None:
        self._alerts().execute(
            "INSERT OR REPLACE INTO alert_reconcile VALUES (?, ?, ?)", (job, customer_id, when)
        )


def _values(cp: Checkpoint) -> tuple[object, ...]:
    return (cp.job, cp.customer_id, cp.stream, cp.cursor, cp.format, cp.sink, cp.records,
            cp.updated_at)  # fmt: skip


class SqliteBackend:
    """A state file. Safe to share between threads of a process (one connection, a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = open_state_file(path)

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

    @contextlib.contextmanager
    def read(self) -> Iterator[SqliteTx]:
        with self._guard() as conn:
            yield SqliteTx(conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SqliteTx]:
        """BEGIN IMMEDIATE ... COMMIT; any failure rolls back (when a transaction is still
        open: a failed COMMIT may already have ended it) and is raised as one StateError."""
        with self._guard() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield SqliteTx(conn)
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
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
