"""The PostgreSQL backend (psycopg 3, ``pip install 'gta[postgres]'``): one state shared by
processes on many machines.

Same rows and meaning as SQLite (``_backend``). Write transactions are serialised by a
transaction-level advisory lock, as SQLite's ``BEGIN IMMEDIATE`` serialises them: a lease row is
read, judged by the rules above and written with no other writer in between, and the fencing
check runs in the transaction of every cursor commit. Transactions are a few rows long, so the
lock is held for milliseconds.

On first use the schema is created (tables and a ``gta_meta`` row naming the app and the schema
version), under the same lock; a later gta migrates older versions in order (``_MIGRATIONS``).
A database whose tables are not a gta state's is refused, never changed. Every failure is one
``StateError`` line naming the URL without its password; a broken connection is reopened at the
next use.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from gta.state._backend import CHECKPOINT_COLUMNS, LEASE_COLUMNS, AlertRow, Checkpoint, where
from gta.state._errors import StateError
from gta.state._rules import LeaseInfo
from gta.state._sqlite_file import APP_ID
from gta.state._url import connection_target, redact_state_url

try:
    import psycopg
except ImportError:  # pragma: no cover - exercised by a test that hides the module
    psycopg = None  # type: ignore[assignment]

SCHEMA_VERSION = "1"
WRITE_LOCK = 0x67_74_61_5F_73_74  # "gta_st": the advisory lock serialising state writers
CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 60_000

_COLUMNS = ", ".join(CHECKPOINT_COLUMNS)
_LEASE_COLUMNS = ", ".join(LEASE_COLUMNS)
_TABLES = (
    "CREATE TABLE gta_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE checkpoints (
    job TEXT NOT NULL, customer_id TEXT NOT NULL, stream TEXT NOT NULL, cursor TEXT,
    format TEXT, sink TEXT, records BIGINT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    PRIMARY KEY (job, customer_id, stream))""",
    # As in SQLite: a released lease keeps its row (owner NULL), so its fencing number only grows.
    """CREATE TABLE leases (
    key TEXT PRIMARY KEY, job TEXT NOT NULL, customer_id TEXT NOT NULL DEFAULT '',
    stream TEXT NOT NULL DEFAULT '', destination TEXT NOT NULL DEFAULT '', owner TEXT,
    pid BIGINT NOT NULL DEFAULT 0, host TEXT NOT NULL DEFAULT '',
    pidns TEXT NOT NULL DEFAULT '', boot_id TEXT NOT NULL DEFAULT '',
    heartbeat DOUBLE PRECISION NOT NULL DEFAULT 0, ttl DOUBLE PRECISION NOT NULL DEFAULT 60,
    fence BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE alert_set (
    job TEXT NOT NULL, customer_id TEXT NOT NULL, alert_id TEXT NOT NULL, status TEXT,
    risk TEXT, updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (job, customer_id, alert_id))""",
    """CREATE TABLE alert_reconcile (
    job TEXT NOT NULL, customer_id TEXT NOT NULL, reconciled_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (job, customer_id))""",
)
_OUR_TABLES = frozenset({"gta_meta", "checkpoints", "leases", "alert_set", "alert_reconcile"})

Conn = Any  # psycopg.Connection[tuple[Any, ...]]; psycopg is an optional extra


class PostgresTx:
    """The rows of a PostgreSQL state inside one transaction (see ``StateTx``)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def _all(self, sql: str, args: Iterable[object] = ()) -> builtins.list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, tuple(args)).fetchall())

    def checkpoint(self, job: str, customer_id: str, stream: str) -> Checkpoint | None:
        rows = self._all(
            f"SELECT {_COLUMNS} FROM checkpoints WHERE job=%s AND customer_id=%s AND stream=%s",
            (job, customer_id, stream),
        )
        return Checkpoint(*rows[0]) if rows else None

    def checkpoints(self, filters: Mapping[str, str]) -> builtins.list[Checkpoint]:
        clauses, args = where(filters, "%s")
        rows = self._all(
            f"SELECT {_COLUMNS} FROM checkpoints{clauses} ORDER BY job, customer_id, stream", args
        )
        return [Checkpoint(*r) for r in rows]

    def add_to_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            f"INSERT INTO checkpoints AS c ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (job, customer_id, stream) DO UPDATE SET cursor=excluded.cursor, "
            "format=coalesce(excluded.format, c.format), sink=coalesce(excluded.sink, c.sink), "
            "records=c.records + excluded.records, updated_at=excluded.updated_at",
            _values(checkpoint),
        )

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            f"INSERT INTO checkpoints ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (job, customer_id, stream) DO UPDATE SET cursor=excluded.cursor, "
            "format=excluded.format, sink=excluded.sink, records=excluded.records, "
            "updated_at=excluded.updated_at",
            _values(checkpoint),
        )

    def delete_checkpoints(self, filters: Mapping[str, str]) -> int:
        clauses, args = where(filters, "%s")
        return int(self.conn.execute("DELETE FROM checkpoints" + clauses, args).rowcount)

    def lease(self, key: str) -> LeaseInfo | None:
        rows = self._all(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE key=%s", (key,))
        return LeaseInfo(*rows[0]) if rows else None

    def held_leases(self) -> builtins.list[LeaseInfo]:
        rows = self._all(
            f'SELECT {_LEASE_COLUMNS} FROM leases WHERE owner IS NOT NULL ORDER BY key COLLATE "C"'
        )
        return [LeaseInfo(*r) for r in rows]

    def put_lease(self, info: LeaseInfo) -> None:
        updates = ", ".join(f"{c}=excluded.{c}" for c in LEASE_COLUMNS[1:])
        self.conn.execute(
            f"INSERT INTO leases ({_LEASE_COLUMNS}) VALUES ({', '.join(['%s'] * 13)}) "
            f"ON CONFLICT (key) DO UPDATE SET {updates}",
            tuple(getattr(info, column) for column in LEASE_COLUMNS),
        )

    def update_lease(
        self, key: str, owner: str, fence: int, *, heartbeat: float | None = None
    ) -> bool:
        match = " WHERE key=%s AND owner=%s AND fence=%s"
        if heartbeat is None:
            cursor = self.conn.execute("UPDATE leases SET owner=NULL" + match, (key, owner, fence))
        else:
            cursor = self.conn.execute(
                "UPDATE leases SET heartbeat=%s" + match, (heartbeat, key, owner, fence)
            )
        return bool(cursor.rowcount)

    def remember_alerts(self, rows: Iterable[AlertRow]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO alert_set VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (job, customer_id, alert_id) DO UPDATE SET "
                "status=excluded.status, risk=excluded.risk, updated_at=excluded.updated_at",
                list(rows),
            )

    def forget_alerts(self, job: str, customer_id: str, alert_ids: Iterable[str]) -> None:
        self.conn.execute(
            "DELETE FROM alert_set WHERE job=%s AND customer_id=%s AND alert_id = ANY(%s)",
            (job, customer_id, list(alert_ids)),
        )

    def live_alerts(
        self, job: str, customer_id: str
    ) -> builtins.list[tuple[str, str | None, str | None]]:
        rows = self._all(
            "SELECT alert_id, status, risk FROM alert_set WHERE job=%s AND customer_id=%s",
            (job, customer_id),
        )
        return [(aid, status, risk) for aid, status, risk in rows]

    def alert_rows(self) -> builtins.list[AlertRow]:
        rows = self._all(
            "SELECT job, customer_id, alert_id, status, risk, updated_at FROM alert_set "
            "ORDER BY job, customer_id, alert_id"
        )
        return [(j, c, a, s, r, float(u)) for j, c, a, s, r, u in rows]

    def reconciled_at(self, job: str, customer_id: str) -> float | None:
        rows = self._all(
            "SELECT reconciled_at FROM alert_reconcile WHERE job=%s AND customer_id=%s",
            (job, customer_id),
        )
        return float(rows[0][0]) if rows else None

    def mark_reconciled(self, job: str, customer_id: str, when: float) -> None:
        self.conn.execute(
            "INSERT INTO alert_reconcile VALUES (%s, %s, %s) ON CONFLICT (job, customer_id) "
            "DO UPDATE SET reconciled_at=excluded.reconciled_at",
            (job, customer_id, when),
        )


def _values(cp: Checkpoint) -> tuple[object, ...]:
    return (cp.job, cp.customer_id, cp.stream, cp.cursor, cp.format, cp.sink, cp.records,
            cp.updated_at)  # fmt: skip


class PostgresBackend:
    """A state in a PostgreSQL database. Safe to share between threads (one connection, a
    lock); the password is resolved at each connection and kept nowhere."""

    def __init__(self, url: str) -> None:
        if psycopg is None:
            raise StateError(
                "a postgresql:// state needs the psycopg driver: pip install 'gta[postgres]'"
            )
        self._url = url
        self.location = redact_state_url(url)
        self._lock = threading.RLock()
        self._conn: Conn | None = None
        with self._guard():
            pass  # connect, check the schema (or create it) now: errors surface at open

    def _error(self, exc: BaseException) -> StateError:
        return StateError(f"state {self.location}: {_cause(exc)}")

    def _connect(self) -> Conn:
        target, password = connection_target(self._url)
        extra: dict[str, Any] = {"password": password} if password is not None else {}
        try:
            conn = psycopg.connect(
                target,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="gta",
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                **extra,
            )
        except psycopg.Error as exc:
            raise StateError(f"state {self.location}: cannot connect: {_cause(exc)}") from None
        try:
            _prepare(conn, self.location)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                conn.close()
            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from None
            raise
        return conn

    @contextlib.contextmanager
    def _guard(self) -> Iterator[Conn]:
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            try:
                yield self._conn
            except psycopg.Error as exc:
                self._drop_if_broken()
                raise self._error(exc) from None

    def _drop_if_broken(self) -> None:
        conn = self._conn
        if conn is not None and (conn.closed or conn.broken):
            with contextlib.suppress(Exception):
                conn.close()
            self._conn = None

    @contextlib.contextmanager
    def read(self) -> Iterator[PostgresTx]:
        with self._guard() as conn, conn.transaction():
            yield PostgresTx(conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresTx]:
        with self._guard() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield PostgresTx(conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None


def _cause(exc: BaseException) -> str:
    text = str(exc).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line or type(exc).__name__


def _prepare(conn: Conn, location: str) -> None:
    """Refuse a database that is not a gta state before touching it; create the schema in an
    empty one; migrate an older one. Under the writers' lock: two first runs cannot race."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchall()
        }
        if "gta_meta" not in tables:
            if tables:
                raise StateError(
                    f"state {location}: the database has tables but no gta_meta: not a gta "
                    "state; give an empty database (createdb) or the right one"
                )
            for statement in _TABLES:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO gta_meta VALUES ('app', %s), ('schema', %s)", (APP_ID, SCHEMA_VERSION)
            )
            return
        meta = dict(conn.execute("SELECT key, value FROM gta_meta").fetchall())
        if meta.get("app") != APP_ID or not tables >= _OUR_TABLES:
            raise StateError(f"state {location}: not a gta state (gta_meta is someone else's)")
        while (version := meta.get("schema")) in _MIGRATIONS:
            assert version is not None
            _MIGRATIONS[version](conn)
            meta = dict(conn.execute("SELECT key, value FROM gta_meta").fetchall())
        if meta.get("schema") != SCHEMA_VERSION:
            raise StateError(
                f"state {location} has state schema {meta.get('schema')!r}; this gta reads "
                f"{SCHEMA_VERSION!r} (a newer gta wrote it?)"
            )


_MIGRATIONS: dict[str, Callable[[Conn], None]] = {}
"""From schema version -> a step to the next one, run in order in the opening transaction
(none yet: version 1 is the first PostgreSQL schema)."""
