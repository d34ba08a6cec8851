"""The admin history: every version created or modified, every removal, and stamped alerts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emu_http import HTTP, client, paths, walk

from gta.emulator import RunningEmulator


def _admin(emu: RunningEmulator, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = HTTP.request(method, f"{emu.url}/_emulator/{path}", json=body, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _history(emu: RunningEmulator, size: int = 10_000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _admin(emu, "GET", "history", after=after, size=size)
        rows += page["items"]
        if page["nextAfter"] is None:
            return rows
        after = page["nextAfter"]


def test_history_lists_each_version_activity_and_writes_made(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    assert _admin(emu, "GET", "history") == {"items": [], "firstSeq": None, "nextAfter": None}
    p = paths(emu.customer_id)
    change = _admin(emu, "POST", "activity", {"new_events": 6, "updated_events": 4})
    with client(emu) as http:
        alert_id = http.get(p["alerts"], params={"size": 1}).json()["items"][0]["id"]
        noted = http.patch(f"{p['alerts']}/{alert_id}/note", json={"note": "x"}).json()
        events = {e["id"]: e for e in walk(http, p["enriched"], start=str(change["minMsn"] - 1))}
    rows = _history(emu, size=3)  # small pages: paging must neither skip nor repeat a row
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(set(seqs))
    event_rows = {r["id"]: r for r in rows if r["kind"] == "event"}
    assert set(event_rows) == set(change["newEventIds"]) | set(change["updatedEventIds"])
    for event_id, row in event_rows.items():  # the latest version, as the API serves it
        assert events[event_id]["modifiedAt"] == row["modifiedAt"]
        assert change["minMsn"] <= row["msn"] <= change["maxMsn"]
    tds = {r["id"] for r in rows if r["kind"] == "threatDetection"}
    assert tds == set(change["newThreatDetectionIds"]) | set(change["updatedThreatDetectionIds"])
    assert sum(r["kind"] == "flow" for r in rows) == change["newFlowCount"]
    alert_versions = [(r["id"], r["modifiedAt"]) for r in rows if r["kind"] == "alert"]
    assert (alert_id, noted["modifiedAt"]) == alert_versions[-1]
    assert set(change["newAlertIds"]) <= {a for a, _ in alert_versions}
    msns = [r["msn"] for r in rows if "msn" in r]
    assert len(msns) == len(set(msns)), "an MSN names one version"


def test_history_lists_removed_alerts_and_detections(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    moved = _admin(emu, "POST", "clock", {"advance_days": 40})
    assert moved["removedAlertIds"], "the data set should have alerts idle for 40 days"
    removed = {(r["kind"], r["id"]): r for r in _history(emu) if "removedAt" in r}
    assert {i for k, i in removed if k == "alert"} == set(moved["removedAlertIds"])
    assert {i for k, i in removed if k == "threatDetection"} == set(
        moved["removedThreatDetectionIds"]
    )
    assert all(r["removedAt"] == moved["now"] for r in removed.values())


def test_a_stamped_alert_modified_at_is_a_version_in_the_history(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=400)
    p = paths(emu.customer_id)
    with client(emu) as http:
        alert_id = http.get(p["alerts"], params={"size": 1}).json()["items"][0]["id"]
        stamped = _admin(
            emu, "POST", f"alerts/{alert_id}/modified-at", {"modified_at": "2099-01-01T00:00:00Z"}
        )
        assert stamped["modifiedAt"] == "2099-01-01T00:00:00.000Z"
        assert http.get(f"{p['alerts']}/{alert_id}").json()["modifiedAt"] == stamped["modifiedAt"]
        later = http.get(p["alerts"], params={"modifiedAfter": "2098-12-31T00:00:00Z"}).json()
        assert [a["id"] for a in later["items"]] == [alert_id]
    assert _history(emu)[-1] == {
        "seq": 1, "customerId": emu.customer_id, "kind": "alert", "id": alert_id,
        "modifiedAt": "2099-01-01T00:00:00.000Z",
    }  # fmt: skip


def test_history_is_guarded_by_the_admin_token(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    token = "soak-admin-token-0123456789"
    emu = make_emulator(events=100, admin_token=token)
    assert HTTP.get(f"{emu.url}/_emulator/history").status_code == 401
    wrong = HTTP.get(f"{emu.url}/_emulator/history", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = HTTP.get(f"{emu.url}/_emulator/history", headers={"Authorization": f"Bearer {token}"})
    assert right.status_code == 200 and right.json()["items"] == []
