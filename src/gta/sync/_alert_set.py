"""The alerts a job has delivered and believes still live: what a removal is checked against.

One row per (job, customer id, alert id) with the last status and risk delivered, so a
tombstone can say what the SIEM last saw. Rows are written after the sink flushed the page
that carried the alert (before the checkpoint moves: a crash between the two re-delivers the
page, never forgets an alert) and deleted after the tombstone was flushed (a crash between the
two re-delivers the tombstone, with the same record id). The set stays bounded because the
service removes alerts after 45 days and each removal deletes its row.

The rows live in the state store (``StateTx.remember_alerts`` and the like; the SQLite backend
makes its tables on first use, so the state schema version does not change).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from gta.state import StateStore

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

    def __init__(self, store: StateStore, job: str, customer_id: str) -> None:
        self.store = store
        self.job = job
        self.customer_id = customer_id

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
        with self.store.transaction() as tx:
            tx.remember_alerts(rows)
        return len(rows)

    def forget(self, alert_ids: Iterable[str]) -> None:
        """Delete rows (their tombstones were delivered)."""
        ids = list(alert_ids)
        if ids:
            with self.store.transaction() as tx:
                tx.forget_alerts(self.job, self.customer_id, ids)

    def live(self) -> Known:
        """Every remembered alert id with its last status and risk."""
        with self.store.transaction() as tx:
            rows = tx.live_alerts(self.job, self.customer_id)
        return {aid: (status, risk) for aid, status, risk in rows}

    def last_reconcile(self) -> float | None:
        """When the set was last checked against the API (our clock, epoch seconds)."""
        with self.store.transaction() as tx:
            return tx.reconciled_at(self.job, self.customer_id)

    def mark_reconciled(self, when: float) -> None:
        with self.store.transaction() as tx:
            tx.mark_reconciled(self.job, self.customer_id, when)
