"""The nested format: one record per object, parents embedded, unresolved ids listed."""

from __future__ import annotations

from gta.formats import get_format
from gta.sync import PageContext

NOW = "2026-11-27T22:00:00.000Z"
fmt = get_format("nested")


def ctx() -> PageContext:
    return PageContext(
        index_time=NOW,
        detections={
            "td-1": {"id": "td-1", "threatIntelRecordId": "ti-1", "alertIds": ["al-1", "al-x"]}
        },
        alerts={"al-1": {"id": "al-1", "risk": "Low"}},
        assets={"as-1": {"id": "as-1", "assumedOwner": "bob"}},
        intel={"ti-1": {"id": "ti-1", "title": "Qakbot"}},
    )


def test_event_embeds_detections_alerts_intel_and_asset() -> None:
    ev = {
        "id": "ev-1",
        "modifiedAt": "m1",
        "affectedAssetId": "as-1",
        "threatDetectionIds": ["td-1", "td-gone"],
    }
    (rec,) = fmt.events(ev, ctx())
    assert rec["id"] == "ev-1" and rec["stream"] == "events" and rec["indexTime"] == NOW
    (det,) = rec["threatDetections"]
    assert [a["id"] for a in det["alerts"]] == ["al-1"]
    assert det["threatIntelRecord"]["title"] == "Qakbot"
    assert rec["asset"]["assumedOwner"] == "bob"
    assert rec["missing"] == {"threatDetectionIds": ["td-gone"], "alertIds": ["al-x"]}
    assert ev["threatDetectionIds"] == ["td-1", "td-gone"]  # input untouched


def test_contextual_event_has_no_missing_key_and_stable_id() -> None:
    ev = {"id": "ev-2", "modifiedAt": "m1", "affectedAssetId": "as-1", "threatDetectionIds": []}
    (a,) = fmt.events(ev, ctx())
    (b,) = fmt.events(dict(ev), PageContext(index_time="later"))
    assert "missing" not in a and a["threatDetections"] == []
    assert a["recordId"] == b["recordId"] and b["asset"] is None


def test_alerts_detections_flows_keep_their_fields() -> None:
    (al,) = fmt.alerts({"id": "al-1", "modifiedAt": "m", "risk": "High"}, ctx())
    assert al["risk"] == "High" and al["stream"] == "alerts"
    (td,) = fmt.threat_detections(
        {"id": "td-1", "threatIntelRecordId": "ti-1", "modifiedAt": "m"}, ctx()
    )
    assert td["alertIds"] == ["al-1", "al-x"] and td["threatIntelRecord"]["id"] == "ti-1"
    (fl,) = fmt.flows({"id": "f-1", "bytes": 10}, ctx())
    assert fl["bytes"] == 10 and fl["stream"] == "flows"
    versions = {
        fmt.alerts({"id": "al-1", "modifiedAt": m}, ctx())[0]["recordId"] for m in ("a", "b")
    }
    assert len(versions) == 2
