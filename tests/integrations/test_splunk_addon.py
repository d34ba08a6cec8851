"""The Splunk add-on (``integrations/splunk/TA-gta``) read with Splunk's own .conf parser
(``addonfactory-splunk-conf-parser-lib``): every field its aliases, evals and eventtypes name
exists in the records gta emits for that sourcetype, eventtypes and tags line up, and the
time extraction finds each stream's time in the raw JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from addonfactory_splunk_conf_parser_lib import TABConfigParser

import gta
from gta.emulator import RunningEmulator
from gta.formats import get_format

ADDON = Path(__file__).parents[2] / "integrations/splunk/TA-gta/default"
CIM_TAGS = {"alert", "ids", "attack"}  # CIM Alerts (alert) and Intrusion Detection (ids attack)
EVAL_FUNCTIONS = {"coalesce", "lower"}


class Ctx:
    index_time = "2026-11-30T10:00:00.000Z"
    customer_id = None

    def __init__(self, **parents: dict[str, Any]) -> None:
        self.parents = parents

    def detection(self, i: str) -> Any:
        return self.parents["detections"].get(i)

    def alert(self, i: str) -> Any:
        return self.parents["alerts"].get(i)

    def asset(self, i: str) -> Any:
        return self.parents["assets"].get(i)

    def threat_intel(self, i: str) -> Any:
        return self.parents["intel"].get(i)


def conf(name: str) -> TABConfigParser:
    parser = TABConfigParser()
    parser.optionxform = str  # Splunk keys are case-sensitive
    parser.read(ADDON / name)
    return parser


@pytest.fixture(scope="module")
def annotation_rows(emulator: RunningEmulator) -> list[dict[str, Any]]:
    with gta.Client.from_env(emulator.env()) as client:
        alerts = list(client.alerts.list().raw())
        detections = list(client.threat_detections.list().raw())
        enriched = list(
            client.threat_detections.search_with_alert_ids([d["id"] for d in detections]).raw()
        )
        events = list(client.events.enriched(size=300).raw())[:300]
        assets = list(client.assets.search(sorted({e["affectedAssetId"] for e in events})).raw())
        intel_ids = sorted({d["threatIntelRecordId"] for d in detections})
        intel = list(client.threat_intel.search(intel_ids).raw())
        flows = list(client.flows.search(size=50).raw())[:50]
    ctx = Ctx(
        detections={d["id"]: d for d in enriched},
        alerts={a["id"]: a for a in alerts},
        assets={a["id"]: a for a in assets},
        intel={i["id"]: i for i in intel},
    )
    fmt = get_format("annotation")
    rows = [r for a in alerts for r in fmt.alerts(a, ctx)]
    rows += [r for e in events for r in fmt.events(e, ctx)]
    rows += [r for f in flows for r in fmt.flows(f, ctx)]
    return rows


def eval_fields(expression: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expression)
    names = set(re.findall(r"[A-Za-z_][\w.]*(?!\s*\()\b", without_strings))
    return {n for n in names if n not in EVAL_FUNCTIONS}


def test_app_conf_and_props_basics() -> None:
    app = conf("app.conf")
    assert app.get("package", "id") == "TA-gta" and app.get("launcher", "version")
    props = conf("props.conf")
    assert set(props.sections()) == {"cisco:gta:annotation", "ocsf:cisco:gta"}
    for stanza in props.sections():
        assert props.get(stanza, "KV_MODE") == "json"
        assert props.get(stanza, "TIME_PREFIX") and props.get(stanza, "TIME_FORMAT")


def test_every_field_the_addon_names_exists_in_gta_records(
    annotation_rows: list[dict[str, Any]],
) -> None:
    fields = {key for row in annotation_rows for key in row}
    props = conf("props.conf")
    stanza = "cisco:gta:annotation"
    named: set[str] = set()
    for key, value in props.items(stanza):
        if key.startswith("FIELDALIAS-"):
            source, _, target = value.partition(" AS ")
            assert target.strip(), key
            named.add(source.strip())
        elif key.startswith("EVAL-"):
            named |= eval_fields(value)
    assert named >= {"affectedAssetId", "threatTitle", "risk", "alertId"}
    assert named - fields == set()
    eventtypes = conf("eventtypes.conf")
    streams = {row["stream"] for row in annotation_rows}
    for name in eventtypes.sections():
        terms = dict(t.split("=", 1) for t in eventtypes.get(name, "search").split())
        assert terms.pop("sourcetype") in props.sections()
        assert terms.pop("stream") in streams
        assert set(terms) <= fields, name
        matching = [
            r
            for r in annotation_rows
            if all(k in r and (v == "*" or r[k] == v) for k, v in terms.items())
        ]
        assert matching, f"eventtype {name} matches no record gta emits"


def test_tags_name_existing_eventtypes_and_cim_tags() -> None:
    eventtypes = set(conf("eventtypes.conf").sections())
    tags = conf("tags.conf")
    tagged = set()
    for stanza in tags.sections():
        kind, _, name = stanza.partition("=")
        assert kind == "eventtype" and name in eventtypes
        assert {k for k, v in tags.items(stanza) if v == "enabled"} <= CIM_TAGS
        tagged.add(name)
    assert tagged == eventtypes


def test_time_prefix_finds_each_streams_time(annotation_rows: list[dict[str, Any]]) -> None:
    prefix = re.compile(conf("props.conf").get("cisco:gta:annotation", "TIME_PREFIX"))
    for stream in ("alerts", "events", "flows"):
        row = next(r for r in annotation_rows if r["stream"] == stream)
        raw = orjson.dumps(row).decode()
        match = prefix.search(raw)
        assert match, stream
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", raw[match.end() :]), stream
