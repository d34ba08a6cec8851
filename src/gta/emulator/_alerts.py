"""Reading and changing one alert: status, note, and recalculation after detection changes.

Every change bumps ``modifiedAt`` (API.md section 5). Documents are decoded only here, on the
write path; reads splice the stored bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gta.emulator import _history as history
from gta.emulator._catalog import RISK_BY_RANK, RISK_RANK
from gta.emulator._clock import format_ms
from gta.emulator._documents import STATE_OF_STATUS
from gta.emulator._store import Store

AlertDoc = dict[str, Any]


def get_alert(store: Store, cust: int, alert_id: str) -> bytes | None:
    row = store.conn.execute(
        "SELECT doc FROM alerts WHERE cust = ? AND id = ?", (cust, alert_id)
    ).fetchone()
    return None if row is None else bytes(row[0])


def update_alert(
    store: Store, cust: int, alert_id: str, change: Callable[[AlertDoc], None]
) -> bytes | None:
    """Apply ``change`` to the alert's document, bump modifiedAt, store it; None if absent."""
    stored = get_alert(store, cust, alert_id)
    if stored is None:
        return None
    doc: AlertDoc = orjson.loads(stored)
    change(doc)
    now = store.clock.now_ms()
    doc["modifiedAt"] = format_ms(now)
    doc["state"] = _state_of(doc)
    encoded = orjson.dumps(doc)
    store.conn.execute(
        "UPDATE alerts SET doc = ?, modified_at = ?, risk_rank = ? WHERE cust = ? AND id = ?",
        (encoded, now, RISK_RANK.get(str(doc["risk"]), 3), cust, alert_id),
    )
    history.record(store.conn, cust, "alert", alert_id, None, now)
    return encoded


def stamp_modified_at(store: Store, cust: int, alert_id: str, ms: int) -> bytes | None:
    """Set ``modifiedAt`` to any instant, nothing else changing (admin: a server clock bug)."""
    stored = get_alert(store, cust, alert_id)
    if stored is None:
        return None
    doc: AlertDoc = orjson.loads(stored)
    doc["modifiedAt"] = format_ms(ms)
    encoded = orjson.dumps(doc)
    store.conn.execute(
        "UPDATE alerts SET doc = ?, modified_at = ? WHERE cust = ? AND id = ?",
        (encoded, ms, cust, alert_id),
    )
    history.record(store.conn, cust, "alert", alert_id, None, ms)
    return encoded


def _state_of(doc: AlertDoc) -> str:
    status = doc["status"]["value"]
    reasons = doc["status"].get("closingReasons") or []
    if status == "Closed" and "FalsePositive" in reasons:
        return "FalsePositive"
    return STATE_OF_STATUS.get(status, "New")


def set_status(status: str, closing_reasons: list[str] | None) -> Callable[[AlertDoc], None]:
    def change(doc: AlertDoc) -> None:
        doc["status"] = {
            "value": status,
            "closingReasons": closing_reasons if status == "Closed" else None,
        }

    return change


def set_note(note: str | None) -> Callable[[AlertDoc], None]:
    def change(doc: AlertDoc) -> None:
        doc["note"] = note

    return change


def recalculate(store: Store, cust: int, alert_id: str, risk_rank: int | None = None) -> None:
    """An alert whose detections changed: bump it, maybe raise its risk.

    As the guide warns, the note of a ``New`` alert is dropped when alerts are recalculated.
    """

    def change(doc: AlertDoc) -> None:
        if risk_rank is not None and risk_rank < RISK_RANK.get(str(doc["risk"]), 3):
            doc["risk"] = RISK_BY_RANK[risk_rank]
        if doc["status"]["value"] == "New":
            doc["note"] = None

    update_alert(store, cust, alert_id, change)
