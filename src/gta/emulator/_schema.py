"""The SQLite layout of the emulator, and how a database is opened or reused.

Every object's JSON text is stored as it will be served (``doc``), so a page is spliced from
stored bytes instead of re-encoded. Collections are keyed for keyset pagination: events,
threat detections and flows by ``(cust, msn)`` in WITHOUT ROWID tables (a page is one seek and a
sequential read), alerts by ``(cust, risk_rank, id)`` and ``(cust, triggered_at, id)``.
Secondary indexes are created after the bulk insert, which is much faster than maintaining them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

_SQLITE_HEADER = b"SQLite format 3\x00"


class EmulatorDatabaseError(Exception):
    """A ``db_path`` the emulator must not use or cannot create; the file is left untouched.

    The message is one line naming the file, meant to be shown to the user as is.
    """


TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customers (
    idx INTEGER PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL, client_password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS threat_intel (id TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assets (
    cust INTEGER NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (cust, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    cust INTEGER NOT NULL, id TEXT NOT NULL, risk_rank INTEGER NOT NULL,
    triggered_at INTEGER NOT NULL, modified_at INTEGER NOT NULL, asset_id TEXT NOT NULL,
    doc BLOB NOT NULL, PRIMARY KEY (cust, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS td_alerts (
    cust INTEGER NOT NULL, alert_id TEXT NOT NULL, td_id TEXT NOT NULL,
    PRIMARY KEY (cust, alert_id, td_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tds (
    cust INTEGER NOT NULL, msn INTEGER NOT NULL, id TEXT NOT NULL, asset_id TEXT NOT NULL,
    modified_at INTEGER NOT NULL, alert_ids BLOB NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (cust, msn)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    cust INTEGER NOT NULL, msn INTEGER NOT NULL, id TEXT NOT NULL, asset_id TEXT NOT NULL,
    modified_at INTEGER NOT NULL, td_ids BLOB NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (cust, msn)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flows (
    cust INTEGER NOT NULL, msn INTEGER NOT NULL, id TEXT NOT NULL, event_id TEXT NOT NULL,
    doc BLOB NOT NULL, PRIMARY KEY (cust, msn)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, cust INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    msn INTEGER, at_ms INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0);
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS alerts_by_risk ON alerts (cust, risk_rank, id);
CREATE INDEX IF NOT EXISTS alerts_by_trigger ON alerts (cust, triggered_at, id);
CREATE INDEX IF NOT EXISTS alerts_by_modified ON alerts (cust, modified_at);
CREATE INDEX IF NOT EXISTS td_alerts_by_td ON td_alerts (cust, td_id);
CREATE UNIQUE INDEX IF NOT EXISTS tds_by_id ON tds (cust, id);
CREATE INDEX IF NOT EXISTS tds_by_modified ON tds (cust, modified_at);
CREATE INDEX IF NOT EXISTS tds_by_asset ON tds (cust, asset_id);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (cust, id);
CREATE INDEX IF NOT EXISTS events_by_modified ON events (cust, modified_at);
CREATE INDEX IF NOT EXISTS events_by_asset ON events (cust, asset_id);
CREATE INDEX IF NOT EXISTS flows_by_event ON flows (cust, event_id);
"""

GENERATOR_VERSION = "4"


def connect(path: Path | None) -> sqlite3.Connection:
    """Open the database with settings for a single-writer server (autocommit mode).

    One connection serves everything; the server runs all handlers on its event loop thread,
    so ``check_same_thread`` is off only to let the app be built in another thread.
    """
    target = ":memory:" if path is None else str(path)
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = " + ("MEMORY" if path is None else "WAL"))
    conn.execute("PRAGMA synchronous = OFF" if path is None else "PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    conn.execute("PRAGMA mmap_size = 4294967296")
    conn.executescript(TABLES)
    return conn


def bulk_mode(conn: sqlite3.Connection) -> None:
    """Settings for the one-off bulk generation: no journal, no fsync."""
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")


def read_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def write_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def inspect_file(path: Path) -> Literal["absent", "empty", "emulator"]:
    """What ``path`` holds, read without changing a byte; raise if it is not ours to replace.

    The emulator regenerates its database when the settings change, which replaces the file.
    That is only safe for a file it made itself (one with the emulator's ``meta`` table and a
    ``generation_key``), an empty file or no file: anything else (a gta state file, another
    SQLite database, a text file) may be someone's data, so it is refused, never rewritten.
    """
    if not path.exists():
        return "absent"
    if not path.is_file():
        raise EmulatorDatabaseError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise EmulatorDatabaseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not header:
        return "empty"
    if header != _SQLITE_HEADER:
        raise EmulatorDatabaseError(f"{path}: not a SQLite database; refusing to replace it")
    try:
        # Read-only and immutable: no journal, WAL or lock file is touched or created.
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return "empty"
            if "meta" in tables and read_meta(conn, "generation_key") is not None:
                return "emulator"
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise EmulatorDatabaseError(f"{path}: unreadable SQLite database: {exc}") from None
    raise EmulatorDatabaseError(
        f"{path}: a SQLite database the emulator did not create; refusing to replace it"
    )
