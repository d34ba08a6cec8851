"""gta's OCSF records checked against an independent OCSF 1.3.0: the schema server's own export
(``https://schema.ocsf.io/1.3.0/export/schema``) as shipped by the ``ocsf-json-schema`` package,
turned into JSON Schema by that package. gta's own schema (``ocsf_schema/``) is generated from
gta's definitions, so a mistake there would pass its own test; this one would catch it.

Each record is validated with the profiles it declares in ``metadata.profiles`` (OCSF's rule:
attributes of a profile are valid only when it is applied). gta's three envelope keys
(``recordId``, ``stream``, ``indexTime``) are not OCSF attributes and are set aside before the
check (``metadata.uid`` carries the record id inside OCSF).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from test_ocsf import ALERT, DETECTION, INTEL, Ctx

import gta
from gta.emulator import RunningEmulator
from gta.formats._ocsf import OCSF
from gta.formats.ocsf_schema import OCSF_VERSION

CLASSES = {2004: "detection_finding", 4001: "network_activity"}
GTA_KEYS = ("recordId", "stream", "indexTime")


@cache
def validator(class_uid: int, profiles: tuple[str, ...]) -> jsonschema.Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION))
    return jsonschema.Draft202012Validator(
        schema.get_class_schema(class_name=CLASSES[class_uid], profiles=list(profiles))
    )


def problems(records: list[dict[str, Any]]) -> list[str]:
    found = []
    for rec in records:
        body = {k: v for k, v in rec.items() if k not in GTA_KEYS}
        profiles = tuple(sorted(body["metadata"].get("profiles", [])))
        for error in validator(body["class_uid"], profiles).iter_errors(body):
            found.append(f"{rec['stream']} {list(error.absolute_path)}: {error.message}")
    return found


def test_the_package_is_the_pinned_ocsf_version() -> None:
    assert get_ocsf_schema(version=OCSF_VERSION)["version"] == "1.3.0"


def test_device_needs_the_host_profile_declared() -> None:
    ctx = Ctx(detections={"td-1": DETECTION}, alerts={ALERT["id"]: ALERT}, intel={"ti-1": INTEL})
    [rec] = OCSF.threat_detections(DETECTION, ctx)
    assert rec["metadata"]["profiles"] == ["host"] and problems([rec]) == []
    rec["metadata"].pop("profiles")
    assert any("device" in p for p in problems([rec]))  # the independent check sees it


def test_tenant_uid_is_the_customer_id() -> None:
    ctx = Ctx()
    ctx.customer_id = "CTA123456789"  # type: ignore[attr-defined]
    [rec] = OCSF.alerts(ALERT, ctx)
    assert rec["metadata"]["tenant_uid"] == "CTA123456789" and problems([rec]) == []
    assert "tenant_uid" not in OCSF.alerts(ALERT, Ctx())[0]["metadata"]


@pytest.mark.slow
def test_every_class_gta_emits_validates_independently(emulator: RunningEmulator) -> None:
    with gta.Client.from_env(emulator.env()) as client:
        alerts = list(client.alerts.list().raw())
        detections = list(client.threat_detections.list().raw())
        enriched = list(
            client.threat_detections.search_with_alert_ids([d["id"] for d in detections]).raw()
        )
        events = list(client.events.enriched(size=500).raw())[:500]
        flows = list(client.flows.search(size=500).raw())[:500]
        assets = list(client.assets.search(sorted({e["affectedAssetId"] for e in events})).raw())
        customer = client.customer_id
    ctx = Ctx(
        detections={d["id"]: d for d in enriched},
        alerts={a["id"]: a for a in alerts},
        assets={a["id"]: a for a in assets},
    )
    ctx.customer_id = customer  # type: ignore[attr-defined]
    records = [r for a in alerts for r in OCSF.alerts(a, ctx)]
    records += [r for d in detections for r in OCSF.threat_detections(d, ctx)]
    records += [r for e in events for r in OCSF.events(e, ctx)]
    records += [r for f in flows for r in OCSF.flows(f, ctx)]
    assert {r["class_uid"] for r in records} == set(CLASSES)
    assert problems(records) == []
    assert all(r["metadata"]["tenant_uid"] == customer for r in records)
