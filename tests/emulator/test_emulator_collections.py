"""Collections as API.md section 3: shape, cursors, links, sizes, filters, searches, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from emu_http import client, paths, walk

from gta.emulator import RunningEmulator

RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RISKS = ["Critical", "High", "Medium", "Low"]


@pytest.fixture(scope="module")
def http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with client(emulator) as c:
        yield c


@pytest.fixture(scope="module")
def p(emulator: RunningEmulator) -> dict[str, str]:
    return paths(emulator.customer_id)


def _page(http: httpx.Client, path: str, body: Any = None, **params: Any) -> dict[str, Any]:
    if body is None:
        response = http.get(path, params=params)
    else:
        response = http.post(path, params=params, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    page: dict[str, Any] = response.json()
    return page


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status
    return body


def test_page_shape_and_links(http: httpx.Client, p: dict[str, str]) -> None:
    page = _page(http, p["alerts"], size=10)
    assert set(page) == {"items", "pageInfo"}
    info = page["pageInfo"]
    assert set(info) == {
        "previous",
        "next",
        "hasPreviousPage",
        "hasNextPage",
        "startCursor",
        "endCursor",
    }
    assert len(page["items"]) == 10
    assert info["hasNextPage"] is True and info["hasPreviousPage"] is False
    assert info["previous"] is None
    first, last = page["items"][0], page["items"][-1]
    assert info["startCursor"] == f"{first['risk']},{first['id']}"
    assert info["endCursor"] == f"{last['risk']},{last['id']}"
    link = urlsplit(info["next"])
    assert link.path == p["alerts"] and not link.netloc
    assert parse_qs(link.query) == {"size": ["10"], "after": [info["endCursor"]]}
    assert "%2C" in link.query  # the query is URL-encoded
    second = http.get(info["next"]).json()
    assert second["pageInfo"]["hasPreviousPage"] is True
    back = http.get(second["pageInfo"]["previous"]).json()
    assert back["items"] == page["items"]


def test_default_alert_order_is_risk_then_id(http: httpx.Client, p: dict[str, str]) -> None:
    alerts = walk(http, p["alerts"], {"size": 100})
    keys = [(RISKS.index(a["risk"]), a["id"]) for a in alerts]
    assert keys == sorted(keys)
    assert len({a["id"] for a in alerts}) == len(alerts)
    for alert in alerts:
        assert re.fullmatch(r"[0-9a-f]{64}", alert["id"])
        assert RFC3339_MS.match(alert["triggeredAt"]) and RFC3339_MS.match(alert["modifiedAt"])
        assert alert["modifiedAt"] >= alert["triggeredAt"]
        assert alert["status"]["value"] in ("New", "Open", "Closed")
    statuses = [a["status"]["value"] for a in alerts]
    assert statuses.count("New") > len(alerts) / 2
    assert "Open" in statuses and "Closed" in statuses
    closed = [a for a in alerts if a["status"]["value"] == "Closed"]
    assert all(a["status"]["closingReasons"] for a in closed)


def test_triggered_at_order_and_filters(http: httpx.Client, p: dict[str, str]) -> None:
    alerts = walk(http, p["alerts"], {"sort": "triggeredAt:asc", "size": 50})
    keys = [(a["triggeredAt"], a["id"]) for a in alerts]
    assert keys == sorted(keys)
    page = _page(http, p["alerts"], sort="triggeredAt:asc", size=1)
    item = page["items"][0]
    assert page["pageInfo"]["endCursor"] == f"{item['triggeredAt']},{item['id']}"
    middle = alerts[len(alerts) // 2]["triggeredAt"]
    later = walk(http, p["alerts"], {"sort": "triggeredAt:asc", "triggeredAfter": middle})
    assert later == [a for a in alerts if a["triggeredAt"] > middle]  # strictly greater
    modified = sorted(a["modifiedAt"] for a in alerts)[len(alerts) // 3]
    changed = walk(http, p["alerts"], {"modifiedAfter": modified})
    assert {a["id"] for a in changed} == {a["id"] for a in alerts if a["modifiedAt"] > modified}


@pytest.mark.parametrize("name", ["events", "enriched", "tds"])
def test_msn_collections_have_decimal_cursors(
    http: httpx.Client, p: dict[str, str], name: str
) -> None:
    page = _page(http, p[name], sort="modificationSequenceNumber", size=5)
    info = page["pageInfo"]
    assert info["startCursor"].isdigit() and info["endCursor"].isdigit()
    assert int(info["startCursor"]) < int(info["endCursor"])
    nxt = _page(http, p[name], size=5, after=info["endCursor"])
    assert int(nxt["pageInfo"]["startCursor"]) > int(info["endCursor"])
    for item in page["items"]:
        assert "modificationSequenceNumber" not in item  # the MSN is not a field


def test_enriched_events_add_detection_ids(http: httpx.Client, p: dict[str, str]) -> None:
    plain = walk(http, p["events"])
    enriched = walk(http, p["enriched"])
    assert [e["id"] for e in plain] == [e["id"] for e in enriched]
    for a, b in zip(plain, enriched, strict=True):
        extra = dict(b)
        ids = extra.pop("threatDetectionIds")
        assert extra == a and isinstance(ids, list)
    convicting = [e for e in enriched if e["threatDetectionIds"]]
    share = len(convicting) / len(enriched)
    assert 0.3 < share < 0.6
    assert any(len(e["threatDetectionIds"]) > 1 for e in convicting)
    assert any(e["securityAnnotation"] for e in convicting)
    assert any(e["securityAnnotation"] is None for e in enriched)
    annotated = next(e for e in convicting if e["securityAnnotation"])
    assert set(annotated["securityAnnotation"]) == {"id", "requiredAttributes"}


def test_detected_or_modified_after(http: httpx.Client, p: dict[str, str]) -> None:
    events = walk(http, p["enriched"])
    cut = sorted(e["modifiedAt"] for e in events)[len(events) * 3 // 4]
    later = walk(http, p["enriched"], {"detectedOrModifiedAfter": cut})
    expected = [e for e in events if e["detectedAt"] > cut or e["modifiedAt"] > cut]
    assert later == expected and 0 < len(later) < len(events)
    none = _page(http, p["enriched"], detectedOrModifiedAfter="2999-01-01T00:00:00Z")
    assert none["items"] == []


def test_size_default_cap_and_errors(http: httpx.Client, p: dict[str, str]) -> None:
    assert len(_page(http, p["events"])["items"]) == 1000
    assert len(_page(http, p["events"], size=5000)["items"]) == 1000
    for bad in ("0", "-1", "abc", "1.5", ""):
        _problem(http.get(p["events"], params={"size": bad}), 400)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("events", {"after": "abc"}),
        ("events", {"before": "-5"}),
        ("events", {"after": "1", "before": "2"}),
        ("events", {"sort": "detectedAt"}),
        ("alerts", {"after": "Severe,abc"}),
        ("alerts", {"after": "12345"}),
        ("alerts", {"sort": "triggeredAt:asc", "after": "yesterday,abc"}),
        ("alerts", {"sort": "triggeredAt:desc"}),
        ("alerts", {"triggeredAfter": "2020-13-01T00:00:00Z"}),
        ("alerts", {"modifiedAfter": "last week"}),
        ("enriched", {"detectedOrModifiedAfter": "2020-10-14"}),
    ],
)
def test_malformed_parameters_are_400_problems(
    http: httpx.Client, p: dict[str, str], name: str, params: dict[str, str]
) -> None:
    _problem(http.get(p[name], params=params), 400)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"filter": {"alertIds": "abc"}},
        {"filter": {"unknown": []}},
        {"filter": {"alertIds": [f"{i:064x}" for i in range(1001)]}},
        {"filter": {"alertIds": [1, 2]}},
    ],
)
def test_malformed_bodies_are_400_problems(
    http: httpx.Client, p: dict[str, str], body: Any
) -> None:
    if body is None:
        response = http.post(p["alerts_search"], content=b"{not json")
    else:
        response = http.post(p["alerts_search"], json=body)
    _problem(response, 400)


def test_post_searches(http: httpx.Client, p: dict[str, str]) -> None:
    alerts = _page(http, p["alerts"], size=5)["items"]
    ids = [a["id"] for a in alerts]
    found = _page(http, p["alerts_search"], {"filter": {"alertIds": [*ids, "f" * 64]}})
    assert [a["id"] for a in found["items"]] == ids  # unknown ids simply absent
    info = found["pageInfo"]
    assert info["next"] is None and info["previous"] is None  # always null for POST
    empty = _page(http, p["alerts_search"], {"filter": {"alertIds": []}})
    assert empty["items"] == []
    assert empty["pageInfo"]["startCursor"] is None and empty["pageInfo"]["endCursor"] is None
    paged = _page(http, p["alerts_search"], {"filter": {"alertIds": ids}}, size=2)
    assert paged["pageInfo"]["hasNextPage"] is True and paged["pageInfo"]["next"] is None
    rest = walk(http, p["alerts_search"], {"size": 2}, {"filter": {"alertIds": ids}})
    assert [a["id"] for a in rest] == ids


def test_related_searches_resolve_references(http: httpx.Client, p: dict[str, str]) -> None:
    events = [e for e in _page(http, p["enriched"], size=300)["items"] if e["threatDetectionIds"]]
    td_ids = sorted({t for e in events for t in e["threatDetectionIds"]})
    tds = walk(http, p["tds_search"], body={"filter": {"threatDetectionIds": td_ids}})
    assert tds and all(t["alertIds"] for t in tds)
    assert {t["id"] for t in tds} <= set(td_ids)
    asset_ids = sorted({t["affectedAssetId"] for t in tds})
    assets = walk(http, p["assets_search"], body={"filter": {"assetId": asset_ids}})
    assert {a["id"] for a in assets} == set(asset_ids)
    assert all(set(a) == {"id", "assumedOwner"} for a in assets)
    record_ids = sorted({t["threatIntelRecordId"] for t in tds})
    records = walk(http, p["catalog_search"], body={"filter": {"threatIntelRecordId": record_ids}})
    assert {r["id"] for r in records} == set(record_ids)
    assert all(r["severity"] in RISKS and r["title"] and r["category"] for r in records)
    flows = walk(
        http,
        p["flows_search"],
        {"sort": "modificationSequenceNumber"},
        {"filter": {"securityEventIds": [events[0]["id"]]}},
    )
    assert flows and all(f["networkSecurityEventId"] == events[0]["id"] for f in flows)


def test_flows_proportion_and_fields(http: httpx.Client, p: dict[str, str]) -> None:
    flows = walk(http, p["flows_search"], body={"filter": {}})
    events = walk(http, p["events"])
    assert len(flows) == 2 * len(events)
    flow = flows[0]
    assert set(flow) >= {"timeStamp", "networkSecurityEventId", "srcIp", "dstIp", "protocol"}
    assert RFC3339_MS.match(flow["timeStamp"])


def test_some_references_dangle(http: httpx.Client, p: dict[str, str]) -> None:
    events = walk(http, p["enriched"])
    td_ids = sorted({t for e in events for t in e["threatDetectionIds"]})
    tds = []
    for i in range(0, len(td_ids), 1000):
        chunk = td_ids[i : i + 1000]
        tds += walk(http, p["tds_search"], body={"filter": {"threatDetectionIds": chunk}})
    assert 0 < len(td_ids) - len(tds) < len(td_ids) * 0.1  # a few events name a missing TD
    alert_ids = sorted({a for t in tds for a in t["alertIds"]})
    alerts = walk(http, p["alerts_search"], body={"filter": {"alertIds": alert_ids}})
    assert 0 < len(alert_ids) - len(alerts) < len(alert_ids) * 0.1


def test_unknown_alert_is_404(http: httpx.Client, p: dict[str, str]) -> None:
    body = _problem(http.get(f"{p['alerts']}/{'0' * 64}"), 404)
    assert "alert" in body["detail"]


def test_empty_page_has_null_cursors(http: httpx.Client, p: dict[str, str]) -> None:
    last = _page(http, p["events"], size=1000)["pageInfo"]
    while last["hasNextPage"]:
        last = _page(http, p["events"], after=last["endCursor"])["pageInfo"]
    assert last["endCursor"] is not None  # the last page keeps its cursor
    empty = _page(http, p["events"], after=last["endCursor"])
    assert empty["items"] == []
    assert empty["pageInfo"]["startCursor"] is None and empty["pageInfo"]["endCursor"] is None
    assert empty["pageInfo"]["hasNextPage"] is False and empty["pageInfo"]["next"] is None
