"""Movement: new and updated events, detections that time out, alerts that go away.

Every creation or update takes a new sequence number from the one global counter, so a client
that resumes from a saved MSN cursor sees exactly what changed. Draws come from the emulator's
activity generator (seeded), never the global ``random``. Each call is one transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import orjson

from gta.emulator import _alerts as ops
from gta.emulator import _catalog as cat
from gta.emulator import _history as history
from gta.emulator._clock import DAY_MS, format_ms
from gta.emulator._documents import (
    alert_doc,
    event_doc,
    event_text,
    flow_doc,
    new_alert_id,
    new_uuid,
    td_doc,
)
from gta.emulator._store import Store

TIMEOUT_DAYS = 45
_THREAT_WEIGHTS = [
    {"Critical": 1, "High": 3, "Medium": 5, "Low": 3}[t.severity] for t in cat.THREATS
]


@dataclass
class Changes:
    """What one activity call did (the admin API returns it)."""

    new_events: list[str] = field(default_factory=list)
    updated_events: list[str] = field(default_factory=list)
    new_tds: list[str] = field(default_factory=list)
    updated_tds: list[str] = field(default_factory=list)
    new_alerts: list[str] = field(default_factory=list)
    new_flows: int = 0
    min_msn: int | None = None
    max_msn: int | None = None


class Activity:
    """Makes changes to one store, drawing from one seeded generator."""

    def __init__(self, store: Store, rng: random.Random, flows_per_event: float) -> None:
        self.store = store
        self.rng = rng
        self.flows_per_event = flows_per_event
        self._assets: dict[int, list[str]] = {}

    # -- public ----------------------------------------------------------------------------

    def run(self, cust: int, new_events: int, updated_events: int) -> Changes:
        """Create ``new_events`` events and update ``updated_events`` existing ones."""
        changes = Changes()
        first = self.store.max_msn + 1
        conn = self.store.conn
        conn.execute("BEGIN")
        try:
            for _ in range(new_events):
                self._new_event(cust, changes)
            self._update_events(cust, updated_events, changes)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if self.store.max_msn >= first:
            changes.min_msn, changes.max_msn = first, self.store.max_msn
        return changes

    def timeouts(self) -> tuple[list[str], list[str]]:
        """Remove detections idle for 45 days, then alerts left with none; return their ids."""
        now = self.store.clock.now_ms()
        cutoff = now - TIMEOUT_DAYS * DAY_MS
        conn = self.store.conn
        removed_tds: list[str] = []
        removed_alerts: list[str] = []
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                "SELECT cust, msn, id FROM tds WHERE modified_at <= ?", (cutoff,)
            ).fetchall()
            touched: set[tuple[int, str]] = set()
            for cust, msn, td_id in rows:
                conn.execute("DELETE FROM tds WHERE cust = ? AND msn = ?", (cust, msn))
                for (alert_id,) in conn.execute(
                    "SELECT alert_id FROM td_alerts WHERE cust = ? AND td_id = ?", (cust, td_id)
                ).fetchall():
                    touched.add((cust, alert_id))
                conn.execute("DELETE FROM td_alerts WHERE cust = ? AND td_id = ?", (cust, td_id))
                history.record_removed(conn, cust, "threatDetection", td_id, now)
                removed_tds.append(td_id)
            for cust, alert_id in sorted(touched):
                left = conn.execute(
                    "SELECT 1 FROM td_alerts WHERE cust = ? AND alert_id = ? LIMIT 1",
                    (cust, alert_id),
                ).fetchone()
                if left is None:
                    conn.execute("DELETE FROM alerts WHERE cust = ? AND id = ?", (cust, alert_id))
                    history.record_removed(conn, cust, "alert", alert_id, now)
                    removed_alerts.append(alert_id)
                else:
                    ops.recalculate(self.store, cust, alert_id)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return removed_tds, removed_alerts

    # -- internals -------------------------------------------------------------------------

    def _asset_ids(self, cust: int) -> list[str]:
        if cust not in self._assets:
            self._assets[cust] = [
                str(r[0])
                for r in self.store.conn.execute(
                    "SELECT id FROM assets WHERE cust = ? ORDER BY id", (cust,)
                )
            ]
        return self._assets[cust]

    def _random_row(self, table: str, cust: int, columns: str) -> tuple[object, ...] | None:
        """A random row, found by a keyset seek on a random MSN (no OFFSET scan)."""
        conn = self.store.conn
        # Two queries: SQLite answers a lone min() or max() from the index in one seek.
        low = conn.execute(f"SELECT min(msn) FROM {table} WHERE cust = ?", (cust,)).fetchone()[0]
        high = conn.execute(f"SELECT max(msn) FROM {table} WHERE cust = ?", (cust,)).fetchone()[0]
        if low is None or high is None:
            return None
        pick = self.rng.randint(int(low), int(high))
        row = conn.execute(
            f"SELECT {columns} FROM {table} WHERE cust = ? AND msn >= ? ORDER BY msn LIMIT 1",
            (cust, pick),
        ).fetchone()
        return None if row is None else tuple(row)

    def _touch_td(self, cust: int, td_id: str, now: int, changes: Changes) -> None:
        """New activity on a detection: new MSN and modifiedAt (it is delivered again)."""
        conn = self.store.conn
        row = conn.execute(
            "SELECT msn, doc FROM tds WHERE cust = ? AND id = ?", (cust, td_id)
        ).fetchone()
        if row is None:
            return
        doc = orjson.loads(row[1])
        doc["modifiedAt"] = format_ms(now)
        msn = self.store.take_msn()
        conn.execute(
            "UPDATE tds SET msn = ?, modified_at = ?, doc = ? WHERE cust = ? AND msn = ?",
            (msn, now, orjson.dumps(doc), cust, row[0]),
        )
        history.record(conn, cust, "threatDetection", td_id, msn, now)
        if td_id not in changes.updated_tds and td_id not in changes.new_tds:
            changes.updated_tds.append(td_id)

    def _new_td(self, cust: int, asset: str, now: int, changes: Changes) -> str:
        """A new detection, joining an alert of its asset or raising a new alert."""
        rng, conn = self.rng, self.store.conn
        td_id = new_uuid(rng)
        threat = rng.choices(cat.THREATS, _THREAT_WEIGHTS)[0]
        rank = cat.RISK_RANK[threat.severity]
        existing = conn.execute(
            "SELECT id FROM alerts WHERE cust = ? AND asset_id = ? ORDER BY triggered_at DESC"
            " LIMIT 1",
            (cust, asset),
        ).fetchone()
        if existing is not None and rng.random() < 0.6:
            alert_id = str(existing[0])
            ops.recalculate(self.store, cust, alert_id, rank)
        else:
            alert_id = new_alert_id(rng)
            eta = "EtaBasedDetection" if rng.random() < 0.2 else None
            doc = alert_doc(alert_id, threat.severity, "New", None, eta, None, now, now)
            conn.execute(
                "INSERT INTO alerts (cust, id, risk_rank, triggered_at, modified_at, asset_id,"
                " doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cust, alert_id, rank, now, now, asset, doc),
            )
            history.record(conn, cust, "alert", alert_id, None, now)
            changes.new_alerts.append(alert_id)
        conn.execute(
            "INSERT INTO td_alerts (cust, alert_id, td_id) VALUES (?, ?, ?)",
            (cust, alert_id, td_id),
        )
        msn = self.store.take_msn()
        conn.execute(
            "INSERT INTO tds (cust, msn, id, asset_id, modified_at, alert_ids, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                cust,
                msn,
                td_id,
                asset,
                now,
                orjson.dumps([alert_id]),
                td_doc(td_id, asset, rng.choice(cat.CONFIDENCES), threat.id, now, now),
            ),
        )
        history.record(conn, cust, "threatDetection", td_id, msn, now)
        changes.new_tds.append(td_id)
        return td_id

    def _new_event(self, cust: int, changes: Changes) -> None:
        rng, conn = self.rng, self.store.conn
        now = self.store.clock.now_ms()
        td_ids: list[str] = []
        if rng.random() < 0.45:
            etype = rng.choice(cat.CONVICTING_TYPES)
            picked = self._random_row("tds", cust, "id, asset_id") if rng.random() < 0.6 else None
            if picked is not None:
                td_id, asset = str(picked[0]), str(picked[1])
                self._touch_td(cust, td_id, now, changes)
            else:
                asset = rng.choice(self._asset_ids(cust))
                td_id = self._new_td(cust, asset, now, changes)
            td_ids.append(td_id)
            annotate = rng.random() < 0.85
        else:
            etype = rng.choice(cat.CONTEXTUAL_TYPES)
            asset = rng.choice(self._asset_ids(cust))
            annotate = rng.random() < 0.3
        event_id = new_uuid(rng)
        subtitle, annotation = event_text(rng, etype, annotate)
        msn = self.store.take_msn()
        conn.execute(
            "INSERT INTO events (cust, msn, id, asset_id, modified_at, td_ids, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                cust,
                msn,
                event_id,
                asset,
                now,
                orjson.dumps(td_ids),
                event_doc(event_id, now, now, etype, subtitle, asset, annotation),
            ),
        )
        history.record(conn, cust, "event", event_id, msn, now)
        changes.new_events.append(event_id)
        whole = int(self.flows_per_event)
        count = whole + (1 if rng.random() < self.flows_per_event - whole else 0)
        if count:
            first = self.store.take_msn(count)
            rows = []
            for k in range(count):
                flow_id = new_uuid(rng)
                at = now - rng.randrange(0, 60_000)
                rows.append(
                    (cust, first + k, flow_id, event_id, flow_doc(rng, flow_id, event_id, at))
                )
            conn.executemany(
                "INSERT INTO flows (cust, msn, id, event_id, doc) VALUES (?, ?, ?, ?, ?)", rows
            )
            history.record_many(conn, [(cust, "flow", r[2], r[1], now) for r in rows])
            changes.new_flows += count

    def _update_events(self, cust: int, count: int, changes: Changes) -> None:
        """Re-deliver existing events: new MSN and modifiedAt; contextual ones may convict."""
        rng, conn = self.rng, self.store.conn
        fresh = set(changes.new_events)
        tries = 0
        while len(changes.updated_events) < count and tries < count * 5 + 10:
            tries += 1
            row = self._random_row("events", cust, "msn, id, asset_id, td_ids, doc")
            if row is None:
                return
            msn, event_id, asset, td_raw, doc_raw = row
            if event_id in fresh or event_id in changes.updated_events:
                continue
            assert isinstance(td_raw, bytes) and isinstance(doc_raw, bytes)
            now = self.store.clock.now_ms()
            td_ids: list[str] = orjson.loads(td_raw)
            if not td_ids and rng.random() < 0.3:
                sibling = conn.execute(
                    "SELECT id FROM tds WHERE cust = ? AND asset_id = ? LIMIT 1", (cust, asset)
                ).fetchone()
                if sibling is not None:
                    td_ids.append(str(sibling[0]))
            for td_id in td_ids:
                self._touch_td(cust, td_id, now, changes)
            doc = orjson.loads(doc_raw)
            doc["modifiedAt"] = format_ms(now)
            new_msn = self.store.take_msn()
            conn.execute(
                "UPDATE events SET msn = ?, modified_at = ?, td_ids = ?, doc = ?"
                " WHERE cust = ? AND msn = ?",
                (new_msn, now, orjson.dumps(td_ids), orjson.dumps(doc), cust, msn),
            )
            history.record(conn, cust, "event", str(event_id), new_msn, now)
            changes.updated_events.append(str(event_id))
