"""The alerts cursor: overlap re-read, boundary de-duplication, resumable scans (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gta.sync import AlertCursor, CursorFormatError


def alert(aid: str, modified: str) -> dict[str, str]:
    return {"id": aid, "modifiedAt": modified}


def test_first_scan_starts_from_nothing_and_ends_at_the_high_water_mark() -> None:
    cur = AlertCursor().begin()
    assert cur.scan is not None and cur.scan.modified_after is None
    cur, fresh = cur.accept(
        [alert("a", "2026-01-01T00:00:00.000Z"), alert("b", "2026-01-01T00:10:00.000Z")], "High,b"
    )
    assert [a["id"] for a in fresh] == ["a", "b"]
    done = cur.finish()
    assert done.since == "2026-01-01T00:10:00.000Z" and done.scan is None
    assert ("b", "2026-01-01T00:10:00.000Z") in done.boundary
    assert ("a", "2026-01-01T00:00:00.000Z") not in done.boundary  # outside the 5 min window


def test_next_scan_rereads_the_overlap_and_drops_delivered_versions() -> None:
    done = AlertCursor(
        since="2026-01-01T00:10:00.000Z", boundary=(("b", "2026-01-01T00:10:00.000Z"),)
    )
    cur = done.begin(timedelta(minutes=5))
    assert cur.scan is not None and cur.scan.modified_after == "2026-01-01T00:05:00.000Z"
    page = [
        alert("b", "2026-01-01T00:10:00.000Z"),  # already delivered: dropped
        alert("c", "2026-01-01T00:10:00.000Z"),  # same instant, never seen: kept
        alert("b", "2026-01-01T00:11:00.000Z"),  # a newer version of b: kept
    ]
    cur, fresh = cur.accept(page, None)
    assert fresh == page[1:]
    assert cur.finish().since == "2026-01-01T00:11:00.000Z"


def test_text_form_round_trips_including_an_open_scan() -> None:
    cur, _ = (
        AlertCursor(since="2026-01-01T00:00:00.000Z")
        .begin()
        .accept([alert("x", "2026-01-01T00:03:00.500Z")], "Low,x")
    )
    again = AlertCursor.loads(cur.dumps())
    assert again == cur
    assert again.begin() == again  # a resumed scan continues, it does not restart
    assert again.scan is not None and again.scan.after == "Low,x"


def test_bare_time_is_accepted_and_garbage_is_refused() -> None:
    assert AlertCursor.loads("2026-02-03T04:05:06Z").since == "2026-02-03T04:05:06.000Z"
    assert AlertCursor.loads(None) == AlertCursor()
    with pytest.raises(CursorFormatError):
        AlertCursor.loads("yesterday")
    with pytest.raises(CursorFormatError):
        AlertCursor.loads("2026-02-03T04:05:06")  # no zone
    with pytest.raises(CursorFormatError):
        AlertCursor.loads('{"since": 1, "boundary": 5}')


def test_boundary_is_capped_to_the_newest_versions() -> None:
    cur = AlertCursor().begin()
    page = [alert(f"a{i}", f"2026-01-01T00:00:{i:02d}.000Z") for i in range(50)]
    cur, fresh = cur.accept(page, None, cap=10)
    done = cur.finish(cap=10)
    assert len(fresh) == 50 and len(done.boundary) == 10
    assert min(v[1] for v in done.boundary) == "2026-01-01T00:00:40.000Z"


def test_empty_scan_keeps_the_position() -> None:
    start = AlertCursor(
        since="2026-01-01T00:00:00.000Z", boundary=(("a", "2026-01-01T00:00:00.000Z"),)
    )
    cur, fresh = start.begin().accept([], None)
    assert fresh == [] and cur.finish() == start


def test_a_resumed_scan_ends_at_its_start_not_its_high_water_mark() -> None:
    cur = AlertCursor(since="2026-01-01T00:00:00.000Z").begin()
    cur, _ = cur.accept([alert("crit", "2026-01-01T00:10:00.000Z")], "Critical,crit")
    resumed = AlertCursor.loads(cur.dumps())  # the run stopped here; its start is saved
    assert resumed.scan is not None and resumed.scan.started == "2026-01-01T00:10:00.000Z"
    resumed, _ = resumed.accept([alert("low", "2026-01-02T00:00:00.000Z")], "Low,low")
    assert resumed.scan is not None and resumed.scan.started == "2026-01-01T00:10:00.000Z"
    done = resumed.finish()
    assert done.since == "2026-01-01T00:10:00.000Z"  # crit may have changed since: re-read it
    assert ("low", "2026-01-02T00:00:00.000Z") in done.boundary  # ... but not low again
    nxt = done.begin()
    assert nxt.scan is not None and nxt.scan.modified_after == "2026-01-01T00:05:00.000Z"
    _, fresh = nxt.accept(
        [alert("crit", "2026-01-01T12:00:00.000Z"), alert("low", "2026-01-02T00:00:00.000Z")], None
    )
    assert [a["id"] for a in fresh] == ["crit"]
