"""Every object of an emulator dataset, formatted as OCSF, validates against the schema.

Objects are fetched through the SDK (raw JSON, as the sync engine gets them) from the shared
session emulator, with every parent object in the context, and separately with an empty context
(parents missing), which the format must also survive.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import jsonschema
import pytest
from test_ocsf import Ctx

import gta
from gta.emulator import RunningEmulator
from gta.formats._ocsf import OCSF
from gta.formats.ocsf_schema import load_schema


@pytest.fixture(scope="module")
def dataset(emulator: RunningEmulator) -> dict[str, list[dict[str, Any]]]:
    with gta.Client.from_env(emulator.env()) as client:
        alerts = list(client.alerts.list().raw())
        detections = list(client.threat_detections.list().raw())
        enriched = list(
            client.threat_detections.search_with_alert_ids([d["id"] for d in detections]).raw()
        )
        events = list(client.events.enriched().raw())
        flows = list(client.flows.search().raw())
        asset_ids = {
            o["affectedAssetId"] for o in [*events, *detections] if o.get("affectedAssetId")
        }
        assets = list(client.assets.search(sorted(asset_ids)).raw())
        intel_ids = {d["threatIntelRecordId"] for d in detections if d.get("threatIntelRecordId")}
        intel = list(client.threat_intel.search(sorted(intel_ids)).raw())
    return {"alerts": alerts, "detections": detections, "enriched": enriched, "events": events,
            "flows": flows, "assets": assets, "intel": intel}  # fmt: skip


def _records(data: dict[str, list[dict[str, Any]]], ctx: Ctx) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for alert in data["alerts"]:
        records += OCSF.alerts(alert, ctx)
    for detection in data["detections"]:
        records += OCSF.threat_detections(detection, ctx)
    for event in data["events"]:
        records += OCSF.events(event, ctx)
    for flow in data["flows"]:
        records += OCSF.flows(flow, ctx)
    return records


def _class_validators() -> dict[int, jsonschema.Draft202012Validator]:
    """One validator per class (the schema's ``oneOf`` would check every record twice)."""
    schema = load_schema()
    validators = {}
    for class_uid, name in ((2004, "detection_finding"), (4001, "network_activity")):
        one = {k: v for k, v in schema.items() if k != "oneOf"}
        validators[class_uid] = jsonschema.Draft202012Validator({**one, "$ref": f"#/$defs/{name}"})
    return validators


def _invalid(records: list[dict[str, Any]]) -> list[str]:
    validators = _class_validators()
    whole = jsonschema.Draft202012Validator(load_schema())
    problems = []
    for rec in records:
        validator = validators.get(rec.get("class_uid"), whole)  # type: ignore[arg-type]
        if validator.is_valid(rec):
            continue
        for error in validator.iter_errors(rec):
            problems.append(f"{rec['stream']} {list(error.absolute_path)}: {error.message}")
    return problems


@pytest.mark.slow
def test_every_record_of_the_demo_dataset_validates(dataset: dict[str, list[Any]]) -> None:
    ctx = Ctx(
        detections={d["id"]: d for d in dataset["enriched"]},
        alerts={a["id"]: a for a in dataset["alerts"]},
        assets={a["id"]: a for a in dataset["assets"]},
        intel={i["id"]: i for i in dataset["intel"]},
    )
    records = _records(dataset, ctx)
    counts = Counter(r["stream"] for r in records)
    assert counts["events"] == len(dataset["events"]) >= 2000
    assert counts["alerts"] == len(dataset["alerts"]) > 0
    assert counts["threat-detections"] == len(dataset["detections"]) > 0
    assert counts["flows"] == len(dataset["flows"]) > 0
    assert _invalid(records) == []
    assert len({r["recordId"] for r in records}) == len(records)
    # The context was used: convicting events got an analytic and a severity from their alert.
    convicting = [r for r in records if r["stream"] == "events" and r["unmapped"].get("alertIds")]
    assert convicting and all("analytic" in r["finding_info"] for r in convicting)
    assert {r["activity_id"] for r in records if r["stream"] == "alerts"} <= {1, 2, 3}


def test_dataset_validates_with_no_parents_found(dataset: dict[str, list[Any]]) -> None:
    sample = {k: v[:100] for k, v in dataset.items()}
    assert _invalid(_records(sample, Ctx())) == []
