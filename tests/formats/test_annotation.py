"""The annotation format: the vendor's row keys, one row per (event x detection x alert)."""

from __future__ import annotations

from typing import Any

import pytest

from gta.formats import get_format
from gta.formats._ids import record_id
from gta.sync import PageContext

VENDOR_KEYS = [
    "indexTime", "eventId", "eventDetectedAt", "eventModifiedAt", "securityEventTypeId",
    "eventTitle", "eventSubtitle", "assumedOwner", "alertId", "alertStatus", "risk",
    "threatTitle", "threatCategory", "threatSubCategory", "severity", "affectedAssetId",
    "threatDetectionId", "confidence", "securityAnnotationId", "securityAnnotationAttributes",
]  # fmt: skip

NOW = "2026-11-27T22:00:00.000Z"


def event(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "ev-1",
        "detectedAt": "2026-01-01T00:00:00.000Z",
        "modifiedAt": "2026-01-01T00:05:00.000Z",
        "securityEventTypeId": 12,
        "title": "Suspicious download",
        "subtitle": "from a rare domain",
        "affectedAssetId": "as-1",
        "securityAnnotation": {"id": "sa-1", "requiredAttributes": {"url": "http://x"}},
        "threatDetectionIds": ["td-1"],
    }
    base.update(overrides)
    return base


def context(**overrides: Any) -> PageContext:
    ctx = PageContext(
        index_time=NOW,
        detections={
            "td-1": {"id": "td-1", "affectedAssetId": "as-1", "confidence": 80,
                     "threatIntelRecordId": "ti-1", "alertIds": ["al-1"]},
        },
        alerts={"al-1": {"id": "al-1", "risk": "High", "status": {"value": "Open"}}},
        assets={"as-1": {"id": "as-1", "assumedOwner": "alice"}},
        intel={"ti-1": {"id": "ti-1", "title": "Emotet", "category": "Malware",
                        "subcategory": "Banking trojan", "severity": 90}},
    )  # fmt: skip
    for key, value in overrides.items():
        setattr(ctx, key, value)
    return ctx


fmt = get_format("annotation")


def test_full_row_has_the_vendor_keys_in_order() -> None:
    (row,) = fmt.events(event(), context())
    assert list(row)[:3] == ["recordId", "stream", "indexTime"]
    assert [k for k in row if k not in ("recordId", "stream")] == VENDOR_KEYS
    assert row["alertStatus"] == "Open" and row["risk"] == "High"
    assert row["threatSubCategory"] == "Banking trojan" and row["assumedOwner"] == "alice"
    assert row["indexTime"] == NOW and row["stream"] == "events"
    assert row["securityAnnotationAttributes"] == {"url": "http://x"}


def test_one_row_per_detection_and_alert_never_duplicated() -> None:
    ctx = context()
    ctx.detections["td-2"] = {
        "id": "td-2",
        "threatIntelRecordId": "ti-1",
        "alertIds": ["al-1", "al-2"],
    }
    ctx.alerts["al-2"] = {"id": "al-2", "risk": "Low", "status": {"value": "New"}}
    rows = fmt.events(event(threatDetectionIds=["td-1", "td-2"]), ctx)
    pairs = [(r["threatDetectionId"], r["alertId"]) for r in rows]
    assert pairs == [("td-1", "al-1"), ("td-2", "al-1"), ("td-2", "al-2")]
    assert len({r["recordId"] for r in rows}) == 3


def test_contextual_event_is_one_row_with_its_asset() -> None:
    (row,) = fmt.events(event(threatDetectionIds=[], securityAnnotation=None), context())
    assert row["assumedOwner"] == "alice" and row["affectedAssetId"] == "as-1"
    assert "alertId" not in row and "threatDetectionId" not in row
    assert "securityAnnotationId" not in row


def test_missing_detection_gives_one_row_with_what_is_known() -> None:
    (row,) = fmt.events(event(threatDetectionIds=["td-gone"]), context())
    assert row["threatDetectionId"] == "td-gone"
    assert "confidence" not in row and "alertId" not in row and "threatTitle" not in row


def test_missing_alert_keeps_its_id_without_alert_fields() -> None:
    (row,) = fmt.events(event(), context(alerts={}))
    assert row["alertId"] == "al-1"
    assert "risk" not in row and "alertStatus" not in row
    assert row["threatTitle"] == "Emotet"


def test_detection_without_alerts_gives_one_row() -> None:
    ctx = context()
    ctx.detections["td-1"]["alertIds"] = []
    (row,) = fmt.events(event(), ctx)
    assert row["threatDetectionId"] == "td-1" and "alertId" not in row


def test_record_id_is_stable_and_depends_on_version_detection_and_alert() -> None:
    first = fmt.events(event(), context())[0]["recordId"]
    again = fmt.events(event(), context(index_time="2030-01-01T00:00:00.000Z", alerts={}))[0]
    assert again["recordId"] == first  # index time and parent state do not change the id
    newer = fmt.events(event(modifiedAt="2026-01-01T01:00:00.000Z"), context())[0]
    assert newer["recordId"] != first
    assert first == record_id("events", "ev-1", "2026-01-01T00:05:00.000Z", "td-1", "al-1")
    assert len(first) == 32


def test_other_streams_are_flat_rows() -> None:
    status = {"value": "Closed", "closingReasons": ["FalsePositive"]}
    alert = {"id": "al-1", "risk": "High", "status": status, "modifiedAt": "2026-01-01T00:00Z"}
    (row,) = fmt.alerts(alert, context())
    assert row["alertId"] == "al-1" and row["alertStatus"] == "Closed"
    assert row["status.closingReasons"] == ["FalsePositive"]
    assert row["stream"] == "alerts"
    det = {
        "id": "td-1",
        "affectedAssetId": "as-1",
        "threatIntelRecordId": "ti-1",
        "modifiedAt": "x",
    }
    (drow,) = fmt.threat_detections(det, context())
    assert drow["threatDetectionId"] == "td-1" and drow["alertIds"] == ["al-1"]
    assert drow["assumedOwner"] == "alice" and drow["threatTitle"] == "Emotet"
    (frow,) = fmt.flows({"timeStamp": "t", "src": {"ip": "10.0.0.1"}}, context())
    assert frow["src.ip"] == "10.0.0.1" and frow["stream"] == "flows"
    assert (
        frow["recordId"]
        == fmt.flows({"src": {"ip": "10.0.0.1"}, "timeStamp": "t"}, context())[0]["recordId"]
    )


@pytest.mark.parametrize("value", [None, []])
def test_tolerates_null_or_missing_id_lists(value: Any) -> None:
    (row,) = fmt.events(event(threatDetectionIds=value), context())
    assert row["eventId"] == "ev-1" and "threatDetectionId" not in row


def _fan_out_cases() -> list[tuple[str, dict[str, Any], PageContext, list[tuple[str, str]]]]:
    """(case, event, context, the (detection id, alert id) each row is about; "" for none)."""
    no_alerts = context()
    no_alerts.detections["td-1"]["alertIds"] = []
    renamed = context()  # the detection object carries another id than the one looked up
    renamed.detections["td-1"]["id"] = "td-1-as-sent"
    return [
        ("contextual", event(threatDetectionIds=[]), context(), [("", "")]),
        ("detection missing", event(threatDetectionIds=["td-gone"]), context(), [("td-gone", "")]),
        ("detection without alerts", event(), no_alerts, [("td-1", "")]),
        ("detection with alert", event(), context(), [("td-1", "al-1")]),
        ("alert missing", event(), context(alerts={}), [("td-1", "al-1")]),
        ("detection id differs", event(), renamed, [("td-1", "al-1")]),
    ]


@pytest.mark.parametrize(
    ("case", "ev", "ctx", "about"), _fan_out_cases(), ids=lambda v: str(v)[:24]
)
def test_every_branch_keeps_vendor_order_and_the_documented_record_id(
    case: str, ev: dict[str, Any], ctx: PageContext, about: list[tuple[str, str]]
) -> None:
    rows = fmt.events(ev, ctx)
    assert len(rows) == len(about), case
    for row, (detection_id, alert_id) in zip(rows, about, strict=True):
        keys = [k for k in row if k not in ("recordId", "stream")]
        assert keys == [k for k in VENDOR_KEYS if k in row], case
        expected = record_id("events", ev["id"], ev["modifiedAt"], detection_id, alert_id)
        assert row["recordId"] == expected, case
