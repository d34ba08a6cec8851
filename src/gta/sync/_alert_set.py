"""The alerts a job has delivered and believes still live: what a removal is checked against.

One row per (job, customer id, alert id) with the last status and risk delivered, so a
tombstone can say what the SIEM last saw. Rows are written after the sink flushed the page
that carried the alert (before the checkpoint moves: a crash between the two re-delivers the
page, never forgets an alert) and deleted after the tombstone was flushed (a crash between the
two re-delivers the tombstone, with the same record id). The set stays bounded because the
service removes alerts after 45 days and each removal deletes its row.

The tables live in the state file but are created here, on first use, with ``IF NOT EXISTS``:
an older gta opening the file ignores them, so the state schema version does not change.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from gta.sync._state import CheckpointStore

_TABLES = (
    "CREATE TABLE IF NOT EXISTS alert_set ("
    " job TEXT NOT NULL, customer_id TEXT NOT NULL, alert_id TEXT NOT NULL,"
    " status TEXT, risk TEXT, updated_at REAL NOT NULL,"
    " PRIMARY KEY (job, customer_id, alert_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS alert_reconcile ("
    " job TEXT NOT NULL, customer_id TEXT NOT NULL, reconciled_at REAL NOT NULL,"
    " PRIMARY KEY (job, customer_id))",
)
MAX_ID_LENGTH = 200
"""Longer "ids" are not alert ids (they are 64 hex characters); such an object is not tracked."""
MAX_VALUE_LENGTH = 64
"""A status or risk longer than this is cut: nothing a server sends grows the state unbounded."""

Known = dict[str, tuple[str | None, str | None]]  # alert id -> (last status, last risk)


def _short(value: Any) -> str | None:
    return value[:MAX_VALUE_LENGTH] if isinstance(value, str) else None


def status_of(alert: dict[str, Any]) -> str | None:
    status = alert.get("status")
    return _short(status.get("value") if isinstance(status, dict) else status)


class AlertSet:
    """The delivered, still-live alerts of one job and customer (see the module doc)."""

    def __init__(self, store: CheckpointStore, job: str, customer_id: str) -> None:
        self.store = store
        self.job = job
        self.customer_id = customer_id

    def _ready(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        for statement in _TABLES:
            conn.execute(statement)
        return conn

    def remember(self, alerts: Iterable[dict[str, Any]]) -> int:
        """Upsert the delivered alerts (last status and risk); returns how many rows."""
        now = time.time()
        rows = [
            (self.job, self.customer_id, aid, status_of(a), _short(a.get("risk")), now)
            for a in alerts
            if isinstance(aid := a.get("id"), str) and 0 < len(aid) <= MAX_ID_LENGTH
        ]
        if not rows:
            return 0
        with self.store.transaction() as conn:
            self._ready(conn).executemany(
                "INSERT INTO alert_set VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job, customer_id, alert_id) DO UPDATE SET "
                "status=excluded.status, risk=excluded.risk, updated_at=excluded.updated_at",
                rows,
            )
        return len(rows)

    def forget(self, alert_ids: Iterable[str]) -> None:
        """Delete rows (their tombstones were delivered)."""
        rows = [(self.job, self.customer_id, aid) for aid in alert_ids]
        if rows:
            with self.store.transaction() as conn:
                self._ready(conn).executemany(
                    "DELETE FROM alert_set WHERE job=? AND customer_id=? AND alert_id=?", rows
                )

    def live(self) -> Known:
        """Every remembered alert id with its last status and risk."""
        with self.store.transaction() as conn:
            rows = (
                self._ready(conn)
                .execute(
                    "SELECT alert_id, status, risk FROM alert_set WHERE job=? AND customer_id=?",
                    (self.job, self.customer_id),
                )
                .fetchall()
            )
        return {aid: (status, risk) for aid, status, risk in rows}

    def last_reconcile(self) -> float | None:
        """When the set was last checked against the API (our clock, epoch seconds)."""
        with self.store.transaction() as conn:
            row = (
                self._ready(conn)
                .execute(
                    "SELECT reconciled_at FROM alert_reconcile WHERE job=? AND customer_id=?",
                    (self.job, self.customer_id),
                )
                .fetchone()
            )
        return None if row is None else float(row[0])

    def mark_reconciled(self, when: float) -> None:
        with self.store.transaction() as conn:
            self._ready(conn).execute(
                "INSERT OR REPLACE INTO alert_reconcile VALUES (?, ?, ?)",
                (self.job, self.customer_id, when),
            )
