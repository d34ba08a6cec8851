"""The checkpoint store: SQLite, one file per user, atomic commits.

Why SQLite rather than a JSON file: a commit is one transaction (WAL, ``synchronous=FULL``), so a
crash leaves the previous checkpoint or the new one, never an empty or torn file (the vendor
script's cursor file could be left empty and restart the whole history). Several streams and
jobs share one file, and a lease row per (job, customer, stream) keeps two runs from feeding the
same checkpoint.

A checkpoint is keyed by (job, customer id, stream). A *job* is a named pairing of streams with
one format and one sink: the cursor says what that sink has received, so it belongs to the job,
not to the tenant. The sink is stored for display only, with secrets redacted. No credential is
ever written here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gta.sinks import redact_url

APP_ID = "gta-state"
SCHEMA_VERSION = "1"
LEASE_TIMEOUT_S = 600.0
"""A lease held by a process on another host is considered abandoned after this long without a
heartbeat (on this host, a dead pid frees it at once)."""

_COLUMNS = "job, customer_id, stream, cursor, format, sink, records, updated_at"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gta_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    job TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    format TEXT,
    sink TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job, customer_id, stream)
);
CREATE TABLE IF NOT EXISTS leases (
    job TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    heartbeat REAL NOT NULL,
    PRIMARY KEY (job, customer_id, stream)
);
"""


class StateError(Exception):
    """The state file cannot be used (corrupt, foreign, unwritable); nothing was changed."""


class LeaseHeldError(StateError):
    """Another run is feeding the same checkpoint."""


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
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CheckpointStore:
    """Checkpoints and leases in one SQLite file. Safe to share between threads of a process."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_state_path()
        self._lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        if self.path.is_dir():
            raise StateError(f"state path {self.path} is a directory; give a file path")
        if not existed:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StateError(
                    f"cannot create state directory {self.path.parent}: {exc.strerror}"
                ) from None
        try:
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StateError(f"cannot open state file {self.path}: {exc}") from None
        try:
            if existed:
                self._check_identity(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
            if not existed:
                conn.executescript(_SCHEMA)
                conn.execute(
                    "INSERT OR IGNORE INTO gta_meta VALUES ('app', ?), ('schema', ?)",
                    (APP_ID, SCHEMA_VERSION),
                )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StateError(
                f"state file {self.path} is unreadable ({exc}); move it aside or pass --state"
            ) from None
        except StateError:
            conn.close()
            raise
        return conn

    def _check_identity(self, conn: sqlite3.Connection) -> None:
        """Refuse a file that is not ours before touching it (no WAL switch, no new tables)."""
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            meta = (
                dict(conn.execute("SELECT key, value FROM gta_meta"))
                if "gta_meta" in tables
                else {}
            )
        except sqlite3.DatabaseError:
            raise StateError(
                f"{self.path} is not a gta state file (not a SQLite database or corrupt)"
            ) from None
        if meta.get("app") != APP_ID:
            raise StateError(f"{self.path} is not a gta state file; move it aside or pass --state")
        if meta.get("schema") != SCHEMA_VERSION:
            raise StateError(
                f"{self.path} has state schema {meta.get('schema')!r}; "
                f"this gta reads {SCHEMA_VERSION!r}"
            )

    # -- checkpoints ------------------------------------------------------------------------

    def get(self, job: str, customer_id: str, stream: str) -> Checkpoint | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM checkpoints WHERE job=? AND customer_id=? AND stream=?",
                (job, customer_id, stream),
            ).fetchone()
        return Checkpoint(*row) if row else None

    def list(self, *, job: str | None = None, stream: str | None = None) -> list[Checkpoint]:
        sql = f"SELECT {_COLUMNS} FROM checkpoints"
        clauses, args = _filters(job=job, stream=stream)
        with self._lock:
            rows = self._conn.execute(
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
    def lease(self, job: str, customer_id: str, stream: str) -> Iterator[Lease]:
        """Hold the right to advance one checkpoint; another live holder -> LeaseHeldError."""
        owner = uuid.uuid4().hex
        with self._transaction() as conn:
            self._refuse_if_leased(conn, job, customer_id, stream)
            conn.execute(
                "INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job, customer_id, stream, owner, os.getpid(), socket.gethostname(), time.time()),
            )
        lease = Lease(self, job, customer_id, stream, owner)
        try:
            yield lease
        finally:
            with contextlib.suppress(sqlite3.Error), self._transaction() as conn:
                conn.execute(
                    "DELETE FROM leases WHERE job=? AND customer_id=? AND stream=? AND owner=?",
                    (job, customer_id, stream, owner),
                )

    def _refuse_if_leased(
        self, conn: sqlite3.Connection, job: str, customer_id: str, stream: str
    ) -> None:
        row = conn.execute(
            "SELECT pid, host, heartbeat FROM leases WHERE job=? AND customer_id=? AND stream=?",
            (job, customer_id, stream),
        ).fetchone()
        if row is None:
            return
        pid, host, heartbeat = row
        if _holder_alive(pid, host, heartbeat):
            age = max(0, int(time.time() - heartbeat))
            raise LeaseHeldError(
                f"stream {stream!r} of job {job!r} is being synced by pid {pid} on {host} "
                f"(heartbeat {age}s ago); wait for it to finish or stop it"
            )

    def _commit(
        self, lease: Lease, cursor: str | None, added: int, format: str | None, sink: str | None
    ) -> None:
        with self._transaction() as conn:
            held = conn.execute(
                "UPDATE leases SET heartbeat=? "
                "WHERE job=? AND customer_id=? AND stream=? AND owner=?",
                (time.time(), lease.job, lease.customer_id, lease.stream, lease.owner),
            ).rowcount
            if not held:
                raise LeaseHeldError(
                    f"lost the lease on stream {lease.stream!r} of job {lease.job!r} "
                    "(state was reset or another run took over); not committing"
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
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StateError(f"state file {self.path} is busy or read-only ({exc})") from None
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StateError(f"committing to {self.path} failed ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Lease:
    """The right to advance one checkpoint; ``commit`` moves it and renews the heartbeat."""

    store: CheckpointStore
    job: str
    customer_id: str
    stream: str
    owner: str

    def commit(
        self,
        cursor: str | None,
        *,
        added: int = 0,
        format: str | None = None,
        sink: str | None = None,
    ) -> None:
        """Save ``cursor`` atomically. Call only after the sink's ``flush`` returned."""
        self.store._commit(self, cursor, added, format, sink)


def _holder_alive(pid: int, host: str, heartbeat: float) -> bool:
    if host == socket.gethostname():
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _not_zombie(pid)
    return time.time() - heartbeat < LEASE_TIMEOUT_S


def _not_zombie(pid: int) -> bool:
    """A killed child not yet reaped still answers ``kill(pid, 0)``; it holds nothing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _filters(**values: str | None) -> tuple[str, list[str]]:
    parts = [(f"{key}=?", value) for key, value in values.items() if value is not None]
    if not parts:
        return "", []
    return " WHERE " + " AND ".join(p for p, _ in parts), [v for _, v in parts]
