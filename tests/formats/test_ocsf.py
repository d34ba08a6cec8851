"""The ``ocsf`` format: class/activity/type mapping, required attributes, and validation of
every record against the committed OCSF 1.3.0 JSON Schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest

from gta.formats import get_format
from gta.formats._ocsf import OCSF, epoch_ms
from gta.formats.ocsf_schema import OCSF_VERSION, SCHEMA_PATH, load_schema
from gta.formats.ocsf_schema._generate import render

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


@dataclass
class Ctx:
    index_time: str = "2026-11-27T10:00:00.000Z"
    detections: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    assets: dict[str, Any] = field(default_factory=dict)
    intel: dict[str, Any] = field(default_factory=dict)

    def detection(self, detection_id: str) -> Any:
        return self.detections.get(detection_id)

    def alert(self, alert_id: str) -> Any:
        return self.alerts.get(alert_id)

    def asset(self, asset_id: str) -> Any:
        return self.assets.get(asset_id)

    def threat_intel(self, record_id: str) -> Any:
        return self.intel.get(record_id)


ALERT = {
    "id": "a" * 64,
    "risk": "High",
    "status": {"value": "New", "closingReasons": None},
    "etaFlag": None,
    "note": None,
    "triggeredAt": "2020-10-14T13:59:54.047Z",
    "modifiedAt": "2020-10-14T13:59:54.047Z",
}
INTEL = {"id": "ti-1", "title": "Cryptomining", "category": "Malware", "subcategory": "Miner",
         "severity": "Medium"}  # fmt: skip
DETECTION = {
    "id": "td-1",
    "affectedAssetId": "as-1",
    "confidence": "High",
    "threatIntelRecordId": "ti-1",
    "detectedAt": "2020-10-14T13:00:00Z",
    "modifiedAt": "2020-10-14T14:00:00Z",
    "alertIds": [ALERT["id"]],
}
EVENT = {
    "id": "ev-1",
    "detectedAt": "2020-10-14T12:00:00Z",
    "modifiedAt": "2020-10-14T12:00:00Z",
    "securityEventTypeId": 123,
    "title": "Connection to a mining pool",
    "subtitle": "host contacted pool.example",
    "affectedAssetId": "as-1",
    "securityAnnotation": {"id": "sa-1", "requiredAttributes": {"domain": "pool.example"}},
    "threatDetectionIds": ["td-1"],
}
FLOW = {
    "id": "fl-1",
    "timeStamp": "2020-10-14T12:00:01.500Z",
    "networkSecurityEventId": "ev-1",
    "srcIp": "10.0.0.5",
    "srcPort": 50123,
    "dstIp": "203.0.113.7",
    "dstPort": 3333,
    "protocol": "TCP",
    "bytesSent": 1200,
    "bytesReceived": 34000,
}


def _ctx() -> Ctx:
    return Ctx(
        detections={"td-1": DETECTION},
        alerts={ALERT["id"]: ALERT},
        assets={"as-1": {"id": "as-1", "assumedOwner": "alice"}},
        intel={"ti-1": INTEL},
    )


def _valid(record: dict[str, Any]) -> dict[str, Any]:
    errors = sorted(VALIDATOR.iter_errors(record), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return record


def test_committed_schema_is_what_the_generator_makes() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render()
    assert load_schema()["x-ocsf-version"] == OCSF_VERSION == "1.3.0"


def test_registered_under_its_name() -> None:
    assert get_format("ocsf") is OCSF


@pytest.mark.parametrize(
    ("status", "modified", "activity"),
    [
        ("New", ALERT["triggeredAt"], 1),  # first seen
        ("Open", "2020-10-15T08:00:00Z", 2),  # changed
        ("Closed", "2020-10-16T08:00:00Z", 3),  # closed
    ],
)
def test_alert_activity(status: str, modified: str, activity: int) -> None:
    alert = {**ALERT, "status": {"value": status, "closingReasons": ["FalsePositive"]},
             "modifiedAt": modified}  # fmt: skip
    [rec] = OCSF.alerts(alert, _ctx())
    _valid(rec)
    assert (rec["class_uid"], rec["category_uid"], rec["activity_id"]) == (2004, 2, activity)
    assert rec["type_uid"] == 2004 * 100 + activity
    assert rec["time"] == epoch_ms(modified)
    assert rec["finding_info"]["uid"] == ALERT["id"]
    assert rec["finding_info"]["created_time"] == 1602683994047
    assert rec["severity_id"] == 4 and rec["severity"] == "High"
    assert rec["status_id"] == {"New": 1, "Open": 2, "Closed": 4}[status]


def test_every_record_carries_gta_keys_and_metadata() -> None:
    ctx = _ctx()
    records = [
        *OCSF.alerts(ALERT, ctx),
        *OCSF.threat_detections(DETECTION, ctx),
        *OCSF.events(EVENT, ctx),
        *OCSF.flows(FLOW, ctx),
    ]
    streams = [r["stream"] for r in records]
    assert streams == ["alerts", "threat-detections", "events", "flows"]
    for rec in records:
        _valid(rec)
        assert rec["metadata"]["uid"] == rec["recordId"]
        assert rec["metadata"]["version"] == "1.3.0"
        assert rec["metadata"]["product"] == {
            "name": "Global Threat Alerts",
            "vendor_name": "Cisco",
        }
        assert rec["indexTime"] == ctx.index_time
    assert len({r["recordId"] for r in records}) == 4


def test_detection_mapping() -> None:
    [rec] = OCSF.threat_detections(DETECTION, _ctx())
    assert rec["activity_id"] == 2  # modified after detection
    info = rec["finding_info"]
    assert info["title"] == "Cryptomining"
    assert info["analytic"] == {"type_id": 4, "type": "Learning (ML/DL)", "uid": "ti-1",
                                "name": "Cryptomining", "category": "Malware"}  # fmt: skip
    assert info["types"] == ["Malware", "Miner"]
    assert rec["device"] == {"type_id": 0, "type": "Unknown", "uid": "as-1",
                             "owner": {"name": "alice"}}  # fmt: skip
    assert (rec["confidence_id"], rec["confidence"]) == (3, "High")
    assert rec["severity_id"] == 4  # the parent alert's High risk wins over the intel severity
    assert rec["unmapped"]["alertIds"] == [ALERT["id"]]
    assert (rec["status_id"], rec["status"]) == (1, "New")  # its alert's status


def test_event_mapping_and_contextual_event() -> None:
    [rec] = OCSF.events(EVENT, _ctx())
    assert rec["activity_id"] == 1 and rec["type_uid"] == 200401
    assert rec["finding_info"]["desc"] == EVENT["subtitle"]
    assert rec["finding_info"]["types"] == ["123"]
    assert rec["unmapped"]["threatDetectionIds"] == ["td-1"]
    assert rec["unmapped"]["securityAnnotation"] == EVENT["securityAnnotation"]
    contextual = {**EVENT, "threatDetectionIds": [], "securityAnnotation": None}
    [ctx_rec] = OCSF.events(contextual, _ctx())
    _valid(ctx_rec)
    assert ctx_rec["severity_id"] == 1 and "analytic" not in ctx_rec["finding_info"]
    assert ctx_rec["status_id"] == 0 and rec["status_id"] == 1


def test_flow_is_network_activity() -> None:
    [rec] = OCSF.flows(FLOW, _ctx())
    _valid(rec)
    assert (rec["class_uid"], rec["category_uid"], rec["activity_id"], rec["type_uid"]) == (
        4001, 4, 6, 400106)  # fmt: skip
    assert rec["time"] == 1602676801500
    assert rec["src_endpoint"] == {"ip": "10.0.0.5", "port": 50123}
    assert rec["dst_endpoint"] == {"ip": "203.0.113.7", "port": 3333}
    assert rec["connection_info"]["protocol_num"] == 6
    assert rec["traffic"] == {"bytes_out": 1200, "bytes_in": 34000, "bytes": 35200}
    assert rec["metadata"]["correlation_uid"] == "ev-1"


def test_tolerates_missing_parents_and_odd_values() -> None:
    odd_alert = {"id": "x" * 64, "risk": "Severe", "status": "Weird", "triggeredAt": None}
    odd_detection = {"id": "td-9", "confidence": 0.5}
    odd_flow = {"timeStamp": "not a time", "srcPort": "80", "protocol": None}
    for rec in (
        *OCSF.alerts(odd_alert, Ctx()),
        *OCSF.threat_detections(odd_detection, Ctx()),
        *OCSF.events({"id": "e", "threatDetectionIds": ["missing"]}, Ctx()),
        *OCSF.flows(odd_flow, Ctx()),
    ):
        _valid(rec)
    [alert] = OCSF.alerts(odd_alert, Ctx())
    assert alert["severity_id"] == 99 and alert["severity"] == "Severe"
    assert alert["status_id"] == 99 and alert["status"] == "Weird"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r["finding_info"].pop("title"),
        lambda r: r["metadata"].pop("version"),
        lambda r: r.update(severity_id=7),
        lambda r: r.update(made_up_attribute=1),
        lambda r: r.pop("recordId"),
        lambda r: r.update(time="2020-10-14T13:59:54Z"),
    ],
)
def test_schema_rejects_broken_records(breakage: Any) -> None:
    [rec] = OCSF.alerts(ALERT, _ctx())
    breakage(rec)
    assert not VALIDATOR.is_valid(rec)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["Closed", "New"], 1), (["Closed", "Open"], 2), (["Closed"], 4), ([], 0)],
)
def test_detection_status_is_its_most_open_alert(statuses: list[str], expected: int) -> None:
    alerts = {
        f"a{i}": {**ALERT, "id": f"a{i}", "status": {"value": s}} for i, s in enumerate(statuses)
    }
    detection = {**DETECTION, "alertIds": list(alerts)}
    [rec] = OCSF.threat_detections(detection, Ctx(alerts=alerts))
    _valid(rec)
    assert rec["status_id"] == expected
