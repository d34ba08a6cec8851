"""The soak's end-state comparison, on small hand-made cases (fast; not marked soak)."""

from __future__ import annotations

from typing import Any

from _compare import compare

from _harness import PassLog

T1, T2, T3 = "2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z", "2026-01-01T00:00:03.000Z"


def _event(eid: str, at: str, record: str) -> dict[str, Any]:
    return {"stream": "events", "recordId": record, "eventId": eid, "eventModifiedAt": at}


def _alert(aid: str, at: str, record: str) -> dict[str, Any]:
    return {"stream": "alerts", "recordId": record, "alertId": aid, "modifiedAt": at}


def test_latest_versions_tombstones_notes_and_duplicates_are_counted() -> None:
    rows = [
        _event("e1", T1, "r1"),
        _event("e1", T2, "r2"),
        _event("e1", T2, "r2"),  # a page delivered again after a kill
        _alert("a1", T1, "r3"),
        {"stream": "alerts", "recordId": "r4", "alertId": "a2", "removed": True},
    ]
    latest = {
        "events": {"e1": T2, "e2": T1},  # e2 never arrived
        "threat-detections": {},
        "alerts": {"a1": T3},  # a1's latest version never arrived
    }
    history = [
        {"seq": 1, "kind": "alert", "id": "a1", "modifiedAt": T1},  # a note change, delivered
        {"seq": 2, "kind": "alert", "id": "a1", "modifiedAt": T2},  # a note change, superseded
        {"seq": 3, "kind": "alert", "id": "a1", "modifiedAt": T3},  # ... by this one, lost
        {"seq": 4, "kind": "alert", "id": "a2", "removedAt": T3},
        {"seq": 5, "kind": "alert", "id": "a3", "removedAt": T3},  # never tombstoned
        {"seq": 6, "kind": "event", "id": "e1", "msn": 9, "modifiedAt": T2},
    ]
    notes = [("a1", T1), ("a1", T2), ("a1", T3)]
    figures = compare(rows, latest, history, notes)
    assert figures["lost"] == {"events": 1, "threat-detections": 0, "alerts": 1}
    assert figures["lost_examples"]["events"] == [("e2", T1)]
    assert (figures["removed_alerts"], figures["tombstoned"]) == (2, 1)
    assert figures["untombstoned"] == ["a3"]
    assert (figures["notes_delivered"], figures["notes_superseded"]) == (1, 1)
    assert figures["notes_lost"] == [("a1", T3)] and figures["notes_lost_count"] == 1
    assert (figures["lines"], figures["distinct_records"], figures["duplicates"]) == (5, 4, 1)
    assert figures["history_disagrees"] == []
    assert figures["max_rows_per_event"] == 2


def test_history_that_disagrees_with_the_collections_is_reported() -> None:
    history = [{"seq": 1, "kind": "event", "id": "e1", "msn": 5, "modifiedAt": T1}]
    latest = {"events": {"e1": T2}, "threat-detections": {}, "alerts": {}}
    assert compare([], latest, history, [])["history_disagrees"] == [("event", "e1")]


def test_pass_log_reads_outcomes_and_pass_starts() -> None:
    log = PassLog(every=1.0)
    lines = [
        b"events: +100 objects, +107 records, cursor 300\n",
        b"events: 315 records from 300 objects, 3 pages, 0.1s (2,976 records/s)\n",
        b"alerts: done, 0 records from 1 object in 2 pages, 0.0s (0 records/s)\n",
        b"threat-detections: 1,200 records from 1200 objects, 12 pages, 0.1s\n",
        b"2026-11-30T21:00:00Z pass 1: 1,515 records in 1.5s; next at 21:00:01Z\n",
        b"2026-11-30T21:00:01Z job soak: error: No space left on device\n",
        b"2026-11-30T21:00:01Z pass 2: 0 records in 0.0s, 1 job(s) failed; next at 21:00:02Z\n",
    ]
    log.follow(0, 100.0, iter(lines))
    first, second = log.snapshot()
    assert first.ok and first.ended - first.started == 1.5  # the pass line gives its length
    assert first.records == {"events": 315, "alerts": 0, "threat-detections": 1200}
    assert not second.ok and second.records == {}
    assert second.line.endswith("(job soak: error: No space left on device)")
    assert log.errors == {"job soak: error: No space left on device": 1}
    assert log.quiet_passes() == 0
