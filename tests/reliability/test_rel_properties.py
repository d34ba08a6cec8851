"""Property tests (hypothesis): models keep whatever the API sends, and formats never raise and
give deterministic, distinct record ids, whatever well-typed objects and missing parents they
get. Modest example counts keep the module to a few seconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.reliability.rel_support import record_figures

from gta.client import Alert, Asset, Event, Flow, ThreatDetection, ThreatIntelRecord
from gta.formats import FORMAT_NAMES, get_format

pytestmark = pytest.mark.reliability

EXAMPLES = 30
TIME_KEYS = {"triggeredAt", "modifiedAt", "detectedAt", "timeStamp"}
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
COUNTS: dict[str, int] = {}
RID = re.compile(r"^[0-9a-f]{32}$")

ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
texts = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
extra_keys = st.text(alphabet="qwxyzQWXYZ_", min_size=3, max_size=10).map(lambda k: "zz" + k)
extras = st.dictionaries(extra_keys, json_values, max_size=4)


def _obj(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda known, more: {**more, **known},
        st.fixed_dictionaries(required, optional=optional),
        extras,
    )


alerts = _obj(
    {"id": ids},
    {
        "risk": texts,  # unknown enum values included
        "status": st.none()
        | st.fixed_dictionaries(
            {"value": texts}, optional={"closingReasons": st.none() | st.lists(texts, max_size=2)}
        ),
        "etaFlag": texts,
        "note": st.none() | texts,
        "triggeredAt": times,
        "modifiedAt": times,
    },
)
detections = _obj(
    {"id": ids},
    {
        "affectedAssetId": ids,
        "confidence": st.integers(0, 100),
        "threatIntelRecordId": ids,
        "detectedAt": times,
        "modifiedAt": times,
        "alertIds": st.lists(ids, max_size=3),
    },
)
events = _obj(
    {"id": ids},
    {
        "detectedAt": times,
        "modifiedAt": times,
        "securityEventTypeId": st.integers(0, 10**6),
        "title": texts,
        "subtitle": texts,
        "affectedAssetId": ids,
        "securityAnnotation": st.none()
        | st.fixed_dictionaries(
            {"id": ids}, optional={"requiredAttributes": st.dictionaries(texts, texts, max_size=2)}
        ),
        "threatDetectionIds": st.lists(ids, max_size=3),
    },
)
flows = _obj(
    {},
    {
        "id": ids,
        "timeStamp": times,
        "networkSecurityEventId": ids,
        "sourceIp": texts,
        "destinationPort": st.integers(0, 65535),
        "bytes": st.integers(0, 10**9),
    },
)
assets = _obj({"id": ids}, {"assumedOwner": st.none() | texts})
intel = _obj(
    {"id": ids},
    {"title": texts, "category": texts, "subcategory": texts, "severity": st.integers(0, 10)},
)


class Ctx:
    """A FormatContext over plain dicts; parents missing from them are 'not found'."""

    index_time = "2026-01-01T00:00:00.000Z"

    def __init__(self, parents: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.parents = parents

    def detection(self, i: str) -> dict[str, Any] | None:
        return self.parents["detections"].get(i)

    def alert(self, i: str) -> dict[str, Any] | None:
        return self.parents["alerts"].get(i)

    def asset(self, i: str) -> dict[str, Any] | None:
        return self.parents["assets"].get(i)

    def threat_intel(self, i: str) -> dict[str, Any] | None:
        return self.parents["intel"].get(i)


def draw_context(data: st.DataObject, obj: dict[str, Any]) -> Ctx:
    """Parents of ``obj`` (and of its parents), each one present or missing at random."""
    parents: dict[str, dict[str, dict[str, Any]]] = {
        "detections": {},
        "alerts": {},
        "assets": {},
        "intel": {},
    }

    def maybe(table: str, i: Any, strategy: st.SearchStrategy[dict[str, Any]]) -> None:
        if isinstance(i, str) and data.draw(st.booleans()):
            parents[table][i] = {**data.draw(strategy), "id": i}

    for d in obj.get("threatDetectionIds") or []:
        maybe("detections", d, detections)
    for d in [*parents["detections"].values(), obj]:
        for a in d.get("alertIds") or []:
            maybe("alerts", a, alerts)
        maybe("intel", d.get("threatIntelRecordId"), intel)
        maybe("assets", d.get("affectedAssetId"), assets)
    return Ctx(parents)


MODELS = [
    (Alert, alerts),
    (ThreatDetection, detections),
    (Event, events),
    (Flow, flows),
    (Asset, assets),
    (ThreatIntelRecord, intel),
]


@pytest.mark.parametrize(("model", "strategy"), MODELS, ids=[m.__name__ for m, _ in MODELS])
def test_models_keep_unknown_fields_and_round_trip_by_alias(model: Any, strategy: Any) -> None:
    @SETTINGS
    @given(strategy)
    def check(data: dict[str, Any]) -> None:
        parsed = model.model_validate(data)
        dumped = parsed.model_dump(by_alias=True, mode="json", exclude_unset=True)
        for key, value in data.items():
            assert key in dumped, key  # nothing dropped, unknown keys included
            if key not in TIME_KEYS:
                assert dumped[key] == value, key  # non-time values come back unchanged
        assert model.model_validate(dumped) == parsed  # and the dump parses to the same model
        if "risk" in data:
            assert parsed.risk == data["risk"]  # an unknown risk is kept as a string
        COUNTS[f"model/{model.__name__}"] = COUNTS.get(f"model/{model.__name__}", 0) + 1

    check()


STREAMS = {
    "events": events,
    "alerts": alerts,
    "threat_detections": detections,
    "flows": flows,
}


def _records(fmt_name: str, stream: str, obj: dict[str, Any], ctx: Ctx) -> list[dict[str, Any]]:
    records = getattr(get_format(fmt_name), stream)(obj, ctx)
    assert isinstance(records, list) and records
    for r in records:
        assert RID.match(r["recordId"]), r["recordId"]
        assert r["indexTime"] == ctx.index_time
        orjson.dumps(r)  # JSON-able
    return records


@pytest.mark.parametrize("stream", sorted(STREAMS))
@pytest.mark.parametrize("fmt_name", FORMAT_NAMES)
def test_formats_never_raise_and_ids_are_deterministic_and_distinct(
    fmt_name: str, stream: str
) -> None:
    @SETTINGS
    @given(STREAMS[stream], st.sampled_from(["id", "modifiedAt", "content"]), st.data())
    def check(a: dict[str, Any], change: str, data: st.DataObject) -> None:
        ctx = draw_context(data, a)
        first = _records(fmt_name, stream, a, ctx)
        again = _records(fmt_name, stream, a, ctx)
        ids_a = [r["recordId"] for r in first]
        assert ids_a == [r["recordId"] for r in again]  # deterministic
        assert len(set(ids_a)) == len(ids_a)  # distinct within one object's records
        if stream != "events":
            # one version's id does not depend on which parents were found (events fan out)
            assert ids_a == [r["recordId"] for r in _records(fmt_name, stream, a, Ctx(EMPTY))]
        # another object, or another version of it: no record id in common
        if stream == "flows":
            b = (
                {**a, "bytes": a.get("bytes", 0) + 1}
                if "id" not in a or change != "id"
                else {**a, "id": a["id"] + "'"}
            )
        elif change == "id":
            b = {**a, "id": a["id"] + "'"}
        else:
            assume("modifiedAt" in a)
            b = {**a, "modifiedAt": a["modifiedAt"][:-1] + "1Z"}
            assume(b["modifiedAt"] != a["modifiedAt"])
        ids_b = {r["recordId"] for r in _records(fmt_name, stream, b, ctx)}
        assert not set(ids_a) & ids_b, "two different object versions share a record id"
        key = f"format/{fmt_name}/{stream}"
        COUNTS[key] = COUNTS.get(key, 0) + 1

    check()


EMPTY: dict[str, dict[str, dict[str, Any]]] = {
    "detections": {},
    "alerts": {},
    "assets": {},
    "intel": {},
}


def test_zz_record_figures() -> None:
    assert COUNTS
    record_figures("properties", {"max_examples": EXAMPLES, "examples_passed": COUNTS})
