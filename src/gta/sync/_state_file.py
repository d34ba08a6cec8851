"""Opening the state file: safe creation under concurrency, identity check, schema migrations.

A new state file is built whole under a temporary name in the same folder (schema, WAL mode) and
then hard-linked into place, which fails instead of replacing when another run got there first.
So a reader never sees a half-made file: a file at the path is either complete or someone
else's. A zero-byte file (``touch state.db``) is initialised in place under ``BEGIN IMMEDIATE``,
re-checked once the write lock is held, so two runs cannot both initialise it.

Every ``sqlite3`` error leaves this module as a one-line ``StateError`` naming the file and the
cause (``state file /x/state.db: database or disk is full``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from gta.errors import GtaError

APP_ID = "gta-state"
SCHEMA_VERSION = "2"
BUSY_TIMEOUT_MS = 10_000

_TABLES = (
    "CREATE TABLE IF NOT EXISTS gta_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS checkpoints (
    job TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    format TEXT,
    sink TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job, customer_id, stream)
)""",
    # One row per leased thing (a stream of a job, or a destination). A released lease keeps its
    # row with owner NULL, so the fencing number of the key only ever grows.
    """CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    customer_id TEXT NOT NULL DEFAULT '',
    stream TEXT NOT NULL DEFAULT '',
    destination TEXT NOT NULL DEFAULT '',
    owner TEXT,
    pid INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL DEFAULT '',
    pidns TEXT NOT NULL DEFAULT '',
    boot_id TEXT NOT NULL DEFAULT '',
    heartbeat REAL NOT NULL DEFAULT 0,
    ttl REAL NOT NULL DEFAULT 60,
    fence INTEGER NOT NULL DEFAULT 0
)""",
)


class StateError(GtaError):
    """The state file cannot be used (corrupt, foreign, unwritable, full); nothing was changed."""


def state_error(path: Path, exc: sqlite3.Error) -> StateError:
    """The one line for a failed SQLite call: the file and SQLite's own words for the cause.

    SQLite reports a full disk met while growing its shared-memory or journal file as a mere
    ``disk I/O error``; the free space of the folder says which it was."""
    cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "full" not in cause and _no_space_left(path):
        cause += " (no space left on the disk holding it)"
    return StateError(f"state file {path}: {cause}")


def _no_space_left(path: Path) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024


def stream_key(job: str, customer_id: str, stream: str) -> str:
    return "\x1f".join(("stream", job, customer_id, stream))


def open_state_file(path: Path) -> sqlite3.Connection:
    """A connection to a ready gta state file at ``path`` (created if absent), or StateError."""
    if path.is_dir():
        raise StateError(f"state path {path} is a directory; give a file path")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StateError(
                f"cannot create state directory {path.parent}: {exc.strerror}"
            ) from None
        _create_atomically(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)  # fmt: skip
    except sqlite3.Error as exc:
        raise StateError(f"cannot open state file {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _prepare(conn, path)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.OperationalError as exc:
        conn.close()
        raise state_error(path, exc) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StateError(
            f"state file {path} is unreadable ({exc}); move it aside or pass --state"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _create_atomically(path: Path) -> None:
    """Build the file under a temporary name, then link it into place (never replacing)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            _write_schema(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run created it first: use theirs
        except OSError:
            # No hard links on this filesystem: fall back to an empty file made exclusively,
            # which _prepare initialises in place under the write lock.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except sqlite3.Error as exc:
        raise state_error(path, exc) from None
    except OSError as exc:
        raise StateError(f"cannot create state file {path}: {exc.strerror}") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _write_schema(conn: sqlite3.Connection) -> None:
    for statement in _TABLES:
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO gta_meta VALUES ('app', ?), ('schema', ?)",
        (APP_ID, SCHEMA_VERSION),
    )


def _read_meta(conn: sqlite3.Connection, path: Path) -> tuple[set[str], dict[str, str]]:
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = dict(conn.execute("SELECT key, value FROM gta_meta")) if "gta_meta" in tables else {}
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError:
        raise StateError(
            f"{path} is not a gta state file (not a SQLite database or corrupt)"
        ) from None
    return tables, meta


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not ours before touching it; initialise an empty one; migrate."""
    tables, meta = _read_meta(conn, path)
    if not tables and path.stat().st_size == 0:
        with _immediate(conn):
            tables, meta = _read_meta(conn, path)  # another run may have just done it
            if not tables:
                _write_schema(conn)
                return
    if meta.get("app") != APP_ID:
        raise StateError(f"{path} is not a gta state file; move it aside or pass --state")
    if meta.get("schema") == SCHEMA_VERSION:
        return
    if meta.get("schema") not in _MIGRATIONS:
        raise StateError(
            f"{path} has state schema {meta.get('schema')!r}; this gta reads {SCHEMA_VERSION!r}"
        )
    with _immediate(conn):
        while (version := _read_meta(conn, path)[1].get("schema")) in _MIGRATIONS:
            assert version is not None
            _MIGRATIONS[version](conn)


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """v2 keys leases by one text key (streams and destinations), adds the holder's PID
    namespace and boot id, its time-to-live and a fencing number per key."""
    rows = conn.execute(
        "SELECT job, customer_id, stream, owner, pid, host, heartbeat FROM leases"
    ).fetchall()
    conn.execute("DROP TABLE leases")
    conn.execute(_TABLES[2])
    for job, customer_id, stream, owner, pid, host, heartbeat in rows:
        # Unknown namespace and boot id: the pid is not trusted, the row expires after its TTL.
        conn.execute(
            "INSERT INTO leases (key, job, customer_id, stream, owner, pid, host, heartbeat) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (stream_key(job, customer_id, stream), job, customer_id, stream, owner, pid, host,
             heartbeat),
        )  # fmt: skip
    conn.execute("UPDATE gta_meta SET value='2' WHERE key='schema'")


_MIGRATIONS: dict[str, Callable[[sqlite3.Connection], None]] = {"1": _migrate_1_to_2}
"""From schema version -> a step to the next one (run in one transaction, in order)."""
