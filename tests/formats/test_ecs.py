"""The ``ecs`` format: every field it emits outside gta's own keys and the ``cisco_gta`` namespace
is an ECS field of the type the shipped index template maps, categorization values are ECS's,
record ids are stable, and an alert tombstone reads as a deletion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ecs_fields import CATEGORIES, ECS_FIELDS, KINDS, TYPES
from test_ocsf import ALERT, DETECTION, INTEL, Ctx

import gta
from gta.emulator import RunningEmulator
from gta.formats import get_format
from gta.formats._ecs import ECS
from gta.formats._ids import Tombstone

TEMPLATE = Path(__file__).parents[2] / "integrations/elasticsearch/gta-index-template.json"
GTA_KEYS = {"recordId", "stream", "indexTime"}


def leaves(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name != "cisco_gta":
            out.update(leaves(value, f"{name}."))
        else:
            out[name] = value
    return out


def template_types() -> dict[str, str]:
    def walk(props: dict[str, Any], prefix: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, spec in props.items():
            if "properties" in spec and key != "cisco_gta":
                found.update(walk(spec["properties"], f"{prefix}{key}."))
            elif "type" in spec:
                found[f"{prefix}{key}"] = spec["type"]
        return found

    return walk(json.loads(TEMPLATE.read_text())["template"]["mappings"]["properties"], "")


def check(records: list[dict[str, Any]]) -> None:
    mapped = template_types()
    for rec in records:
        for name, value in leaves(rec).items():
            if name in GTA_KEYS or name == "cisco_gta":
                continue
            assert name in ECS_FIELDS, f"{name} is not a checked ECS field"
            assert mapped[name] == ECS_FIELDS[name], name
            assert value not in (None, [], {}), name
        assert rec["event"]["kind"] in KINDS
        assert set(rec["event"]["category"]) <= CATEGORIES
        assert set(rec["event"]["type"]) <= TYPES


def test_template_maps_every_checked_field_with_its_ecs_type() -> None:
    mapped = template_types()
    assert {k: mapped[k] for k in ECS_FIELDS} == ECS_FIELDS
    assert mapped["recordId"] == "keyword" and mapped["indexTime"] == "date"


def test_alert_detection_event_and_flow() -> None:
    ctx = Ctx(
        detections={"td-1": DETECTION},
        alerts={ALERT["id"]: ALERT},
        assets={"as-1": {"id": "as-1", "assumedOwner": "alice"}},
        intel={"ti-1": INTEL},
    )
    ctx.customer_id = "CTA123"  # type: ignore[attr-defined]
    fmt = get_format("ecs")
    [alert] = fmt.alerts(ALERT, ctx)
    assert alert["event"]["kind"] == "alert" and alert["event"]["type"] == ["creation"]
    assert alert["event"]["severity"] == 3 and alert["event"]["risk_score"] == 73.0
    assert alert["@timestamp"] == ALERT["modifiedAt"] and alert["organization"] == {"id": "CTA123"}
    [det] = fmt.threat_detections({k: v for k, v in DETECTION.items() if k != "alertIds"}, ctx)
    assert det["rule"] == {
        "id": "ti-1",
        "name": "Cryptomining",
        "category": "Malware",
        "ruleset": "Miner",
    }
    assert det["host"] == {"id": "as-1"} and det["related"]["user"] == ["alice"]
    assert det["cisco_gta"]["alert_ids"] == [ALERT["id"]]
    event = {
        "id": "ev-1",
        "detectedAt": "2020-10-14T13:00:00Z",
        "modifiedAt": "2020-10-14T13:00:00Z",
        "title": "Mining",
        "subtitle": "host contacted pool",
        "affectedAssetId": "as-1",
        "threatDetectionIds": ["td-1"],
    }
    [ev] = fmt.events(event, ctx)
    assert ev["event"]["kind"] == "alert" and ev["rule"]["id"] == "ti-1"
    [ctxual] = fmt.events({**event, "threatDetectionIds": []}, ctx)
    assert ctxual["event"]["kind"] == "event" and "rule" not in ctxual
    flow = {
        "id": "f-1",
        "timeStamp": "2020-10-14T13:00:01Z",
        "srcIp": "10.0.0.1",
        "srcPort": 5,
        "dstIp": "192.0.2.7",
        "dstPort": 443,
        "protocol": "TCP",
        "bytesSent": 10,
        "bytesReceived": 20,
        "networkSecurityEventId": "ev-1",
    }
    [fl] = fmt.flows(flow, ctx)
    assert fl["network"] == {"transport": "tcp", "iana_number": "6", "bytes": 30}
    assert fl["related"] == {"ip": ["10.0.0.1", "192.0.2.7"]}
    check([alert, det, ev, ctxual, fl])
    assert fmt.alerts(ALERT, ctx)[0]["recordId"] == alert["recordId"]  # stable


def test_an_alert_tombstone_is_a_deletion() -> None:
    fields = {**ALERT, "removed": True, "removedAt": "2020-12-01T00:00:00Z"}
    tomb = Tombstone({**fields, "status": {"value": "Open"}})
    [rec] = ECS.alerts(tomb, Ctx())
    # A server's own "removed" field is data, not a tombstone (only the sync makes those).
    [forged] = ECS.alerts(fields, Ctx())
    assert forged["event"]["action"] != "alert-removed"
    assert rec["event"]["type"] == ["deletion"] and rec["event"]["action"] == "alert-removed"
    assert rec["@timestamp"] == "2020-12-01T00:00:00Z"
    assert rec["cisco_gta"]["alert"]["removed"] is True
    assert rec["cisco_gta"]["alert"]["status"] == "Open" and "removed" in rec["message"]
    assert rec["recordId"] != ECS.alerts(ALERT, Ctx())[0]["recordId"]
    check([rec])


@pytest.mark.slow
def test_every_record_of_the_demo_dataset_uses_checked_ecs_fields(
    emulator: RunningEmulator,
) -> None:
    with gta.Client.from_env(emulator.env()) as client:
        alerts = list(client.alerts.list().raw())
        detections = list(client.threat_detections.list().raw())
        enriched = list(
            client.threat_detections.search_with_alert_ids([d["id"] for d in detections]).raw()
        )
        events = list(client.events.enriched(size=500).raw())[:500]
        flows = list(client.flows.search(size=500).raw())[:500]
    ctx = Ctx(detections={d["id"]: d for d in enriched}, alerts={a["id"]: a for a in alerts})
    records = [r for a in alerts for r in ECS.alerts(a, ctx)]
    records += [r for d in detections for r in ECS.threat_detections(d, ctx)]
    records += [r for e in events for r in ECS.events(e, ctx)]
    records += [r for f in flows for r in ECS.flows(f, ctx)]
    check(records)
    assert len({r["recordId"] for r in records}) == len(records)
