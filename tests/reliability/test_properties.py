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
from rel_support import record_figures

from gta.client import Alert, Asset, Event, Flow, ThreatDetection, ThreatIntelRecord
from gta.formats import FORMAT_NAMES, get_format

pytestmark = pytest.mark.reliability

EXAMPLES = 60
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
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
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


def contexts(obj_ids: st.SearchStrategy[list[str]]) -> st.SearchStrategy[Ctx]:
    """Some parents present, others missing: each table keyed by the generated objects' ids."""
    table = lambda s: st.lists(s, max_size=3).map(lambda xs: {x["id"]: x for x in xs})  # noqa: E731
    return st.builds(
        lambda d, a, s, t: Ctx({"detections": d, "alerts": a, "assets": s, "intel": t}),
        table(detections),
        table(alerts),
        table(assets),
        table(intel),
    )


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
            if key.startswith("zz") or not key.endswith("At"):
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
    @given(STREAMS[stream], STREAMS[stream], contexts(st.just([])), contexts(st.just([])))
    def check(a: dict[str, Any], b: dict[str, Any], ctx: Ctx, other_ctx: Ctx) -> None:
        first = _records(fmt_name, stream, a, ctx)
        again = _records(fmt_name, stream, a, ctx)
        ids_a = [r["recordId"] for r in first]
        assert ids_a == [r["recordId"] for r in again]  # deterministic
        assert len(set(ids_a)) == len(ids_a)  # distinct within one object's records
        if stream not in ("events",):
            # ids of one version do not depend on the parents found (events' fan-out does)
            assert ids_a == [r["recordId"] for r in _records(fmt_name, stream, a, other_ctx)]
        if stream == "flows":
            distinct = orjson.dumps(a, option=orjson.OPT_SORT_KEYS) != orjson.dumps(
                b, option=orjson.OPT_SORT_KEYS
            )
            same_id = "id" in a and a.get("id") == b.get("id")
            assume(distinct and not same_id)
        else:
            assume((a["id"], a.get("modifiedAt")) != (b["id"], b.get("modifiedAt")))
            assume("modifiedAt" in a and "modifiedAt" in b)
        ids_b = {r["recordId"] for r in _records(fmt_name, stream, b, ctx)}
        assert not set(ids_a) & ids_b, "two different object versions share a record id"
        key = f"format/{fmt_name}/{stream}"
        COUNTS[key] = COUNTS.get(key, 0) + 1

    check()


def test_zz_record_figures() -> None:
    assert COUNTS
    record_figures("properties", {"max_examples": EXAMPLES, "examples_passed": COUNTS})
