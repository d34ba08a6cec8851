"""The emulator's record of every version it created or modified, and every object it removed.

A client under test is checked against the truth: what *existed*, not what was *served*. A
version that existed between two reads and was superseded before anyone read it is still
recorded here; whether its loss matters is for the checker to decide (for an MSN stream, which
delivers the latest version of an object, only the latest version must arrive).

One row per version, in the emulator's own SQLite store, written in the same transaction as the
change it records:

- events, threat detections and flows: ``(kind, id, msn, modifiedAt)`` on creation and on every
  change (a flow is immutable: one row, with the time the emulator created it);
- alerts: ``(kind, id, modifiedAt)`` on creation and on every change (status, note, risk,
  recalculation, an admin ``modifiedAt``);
- removals: ``(kind, id, removedAt)`` for alerts and detections taken away by the 45-day
  timeout.

The generated data set is not recorded (it is the starting snapshot; read it from the
collections): only changes made while the emulator runs. The table is bounded: beyond
``HISTORY_LIMIT`` rows the oldest are dropped, and ``firstSeq`` in the answer tells a reader
that the start of the history is gone.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from gta.emulator._clock import format_ms

Kind = Literal["event", "threatDetection", "flow", "alert"]
HISTORY_LIMIT = 1_000_000
_PRUNE_EVERY = 10_000


def record(
    conn: sqlite3.Connection, cust: int, kind: Kind, object_id: str, msn: int | None, at_ms: int
) -> None:
    """One new version of an object (``msn`` is None for alerts, which have none)."""
    _insert(conn, (cust, kind, object_id, msn, at_ms, 0))


def record_many(
    conn: sqlite3.Connection, rows: list[tuple[int, Kind, str, int | None, int]]
) -> None:
    """Several new versions at once: ``(cust, kind, id, msn, at_ms)`` each."""
    conn.executemany(
        "INSERT INTO history (cust, kind, id, msn, at_ms, removed) VALUES (?, ?, ?, ?, ?, 0)",
        rows,
    )


def record_removed(
    conn: sqlite3.Connection, cust: int, kind: Kind, object_id: str, at_ms: int
) -> None:
    """An object the emulator took away (an alert gives 404 from now on)."""
    _insert(conn, (cust, kind, object_id, None, at_ms, 1))


def _insert(conn: sqlite3.Connection, row: tuple[object, ...]) -> None:
    cur = conn.execute(
        "INSERT INTO history (cust, kind, id, msn, at_ms, removed) VALUES (?, ?, ?, ?, ?, ?)",
        row,
    )
    seq = cur.lastrowid or 0
    if seq % _PRUNE_EVERY == 0 and seq > HISTORY_LIMIT:
        conn.execute("DELETE FROM history WHERE seq <= ?", (seq - HISTORY_LIMIT,))


def read(
    conn: sqlite3.Connection, customer_ids: dict[int, str], after: int, size: int
) -> dict[str, Any]:
    """Up to ``size`` rows with ``seq > after``, oldest first, as the admin API answers them."""
    rows = conn.execute(
        "SELECT seq, cust, kind, id, msn, at_ms, removed FROM history WHERE seq > ?"
        " ORDER BY seq LIMIT ?",
        (after, size + 1),
    ).fetchall()
    more = len(rows) > size
    rows = rows[:size]
    items = []
    for seq, cust, kind, object_id, msn, at_ms, removed in rows:
        item: dict[str, Any] = {
            "seq": seq,
            "customerId": customer_ids.get(cust, str(cust)),
            "kind": kind,
            "id": object_id,
        }
        if removed:
            item["removedAt"] = format_ms(at_ms)
        else:
            item["modifiedAt"] = format_ms(at_ms)
            if msn is not None:
                item["msn"] = msn
        items.append(item)
    first = conn.execute("SELECT min(seq) FROM history").fetchone()[0]
    return {
        "items": items,
        "firstSeq": first,
        "nextAfter": rows[-1][0] if more else None,
    }
