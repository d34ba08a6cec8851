"""Movement: activity with new MSNs, clock advance, 45-day timeouts, alert removal, stats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from emu_http import HTTP, client, paths, walk

from gta.emulator import RunningEmulator


def _admin(emu: RunningEmulator, method: str, path: str, body: Any = None) -> Any:
    response = HTTP.request(method, f"{emu.url}/_emulator/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_activity_creates_and_updates_with_new_msns(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    p = paths(emu.customer_id)
    with client(emu) as http:
        before = walk(http, p["enriched"])
        last = http.get(p["enriched"], params={"size": 1000}).json()["pageInfo"]
        while last["hasNextPage"]:
            last = http.get(p["enriched"], params={"after": last["endCursor"]}).json()["pageInfo"]
        saved = last["endCursor"]
        stats = _admin(emu, "GET", "stats")
        assert int(saved) <= stats["maxMsn"]
        change = _admin(emu, "POST", "activity", {"new_events": 7, "updated_events": 5})
        assert len(change["newEventIds"]) == 7 and len(change["updatedEventIds"]) == 5
        assert change["minMsn"] == stats["maxMsn"] + 1
        assert change["maxMsn"] == _admin(emu, "GET", "stats")["maxMsn"]
        resumed = walk(http, p["enriched"], start=saved)
        ids = [e["id"] for e in resumed]
        assert sorted(ids) == sorted(change["newEventIds"] + change["updatedEventIds"])
        cursors = walk(http, p["events"], start=saved)
        assert [e["id"] for e in cursors] == ids
        old = {e["id"]: e for e in before}
        for event in resumed:
            if event["id"] in old:
                assert event["modifiedAt"] > old[event["id"]]["modifiedAt"]
                assert event["detectedAt"] == old[event["id"]]["detectedAt"]
        # Updated events are delivered once, at their new place: no duplicates overall.
        after = walk(http, p["enriched"])
        assert len(after) == len(before) + 7
        assert len({e["id"] for e in after}) == len(after)
        # New and touched detections come after the old cursor too.
        tds = walk(http, p["tds"], start=saved)
        td_ids = {t["id"] for t in tds}
        assert td_ids == set(change["newThreatDetectionIds"] + change["updatedThreatDetectionIds"])
        flows = walk(http, p["flows_search"], start=saved, body={"filter": {}})
        assert len(flows) == change["newFlowCount"] > 0
        assert {f["networkSecurityEventId"] for f in flows} <= set(change["newEventIds"])


def test_same_seed_same_activity(make_emulator: Callable[..., RunningEmulator]) -> None:
    results = []
    for _ in range(2):
        emu = make_emulator(events=200, seed=9)
        results.append(_admin(emu, "POST", "activity", {"new_events": 3, "updated_events": 2}))
    first, second = results
    assert first["newEventIds"] == second["newEventIds"]
    assert first["updatedEventIds"] == second["updatedEventIds"]


def test_clock_advance_times_out_detections_and_removes_alerts(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    p = paths(emu.customer_id)
    with client(emu) as http:
        alerts = walk(http, p["alerts"])
        start = _admin(emu, "GET", "stats")
        moved = _admin(emu, "POST", "clock", {"advance_days": 10})
        assert moved["now"] > start["now"]
        assert moved["removedAlertIds"] == []  # history spans 30 days: nothing is 45 days old
        # Keep one alert alive by new activity on one of its detections.
        kept = _admin(emu, "POST", "activity", {"new_events": 30})
        late = _admin(emu, "POST", "clock", {"advance_days": 40})
        removed = set(late["removedAlertIds"])
        assert removed and removed <= {a["id"] for a in alerts}
        gone = next(iter(removed))
        response = http.get(f"{p['alerts']}/{gone}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        remaining = walk(http, p["alerts"])
        assert not removed & {a["id"] for a in remaining}
        assert remaining  # alerts with fresh detections survive
        fresh_tds = set(kept["newThreatDetectionIds"] + kept["updatedThreatDetectionIds"])
        assert fresh_tds and fresh_tds <= {t["id"] for t in walk(http, p["tds"])}
        final = _admin(emu, "POST", "clock", {"advance_days": 46})
        assert final["removedThreatDetectionIds"]
        assert walk(http, p["alerts"]) == []
        # Events keep naming the detections that are gone (dangling references).
        assert any(e["threatDetectionIds"] for e in walk(http, p["enriched"]))


def test_new_alert_note_is_dropped_on_recalculation(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    p = paths(emu.customer_id)
    with client(emu) as http:
        alerts = walk(http, p["alerts"])
        for alert in alerts:
            http.patch(f"{p['alerts']}/{alert['id']}/note", json={"note": "keep?"})
        _admin(emu, "POST", "activity", {"new_events": 200})
        after = {a["id"]: a for a in walk(http, p["alerts"])}
        recalculated = [
            a for a in alerts if a["id"] in after and after[a["id"]]["modifiedAt"] > a["modifiedAt"]
        ]
        dropped = [after[a["id"]] for a in recalculated if after[a["id"]]["note"] is None]
        assert dropped and all(a["status"]["value"] == "New" for a in dropped)
        kept = [a for a in after.values() if a["status"]["value"] != "New"]
        assert kept and all(a["note"] == "keep?" for a in kept)


def test_stats_and_admin_validation(emulator: RunningEmulator) -> None:
    stats = _admin(emulator, "GET", "stats")
    counts = stats["counts"]
    assert counts["events"] == 2000
    assert counts["flows"] == 4000
    assert 100 <= counts["threatDetections"] <= 400
    assert counts["alerts"] < counts["threatDetections"]
    assert stats["maxMsn"] >= counts["events"] + counts["flows"] + counts["threatDetections"]
    assert stats["customers"] == [emulator.customer_id]
    bad = HTTP.post(f"{emulator.url}/_emulator/activity", json={"new_events": -1})
    assert bad.status_code == 400
    unknown = HTTP.post(
        f"{emulator.url}/_emulator/activity", json={"new_events": 0, "customer_id": "CTA1"}
    )
    assert unknown.status_code == 404


def test_background_activity_moves_the_data(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=200, activity_per_minute=1200)  # 20 events a second
    start = _admin(emu, "GET", "stats")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _admin(emu, "GET", "stats")
        if now["counts"]["events"] >= start["counts"]["events"] + 20:
            break
    assert now["counts"]["events"] >= start["counts"]["events"] + 20
    assert now["maxMsn"] > start["maxMsn"]
    p = paths(emu.customer_id)
    with client(emu) as http:
        moved = walk(http, p["enriched"], start=str(start["maxMsn"]))
    assert len(moved) >= 20
