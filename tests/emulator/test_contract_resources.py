"""Contract: the SDK (``gta.Client``) against the emulator on loopback, every resource.

Each SDK result is compared with what a plain httpx walk of the same collection returns, so
the SDK and the emulator check each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emu_http import client, paths, walk

import gta
from gta.emulator import RunningEmulator
from gta.errors import NotFoundError


@pytest.fixture(scope="module")
def sdk(emulator: RunningEmulator) -> Iterator[gta.Client]:
    with gta.Client.from_env(emulator.env()) as c:
        yield c


@pytest.fixture(scope="module")
def http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with client(emulator) as c:
        yield c


@pytest.fixture(scope="module")
def p(emulator: RunningEmulator) -> dict[str, str]:
    return paths(emulator.customer_id)


def test_customer_id_is_discovered(emulator: RunningEmulator) -> None:
    env = emulator.env()
    del env["GTA_CUSTOMER_ID"]
    with gta.Client.from_env(env) as c:
        assert c.customer_id == emulator.customer_id


def test_host_without_scheme_is_accepted_by_the_emulator_env(emulator: RunningEmulator) -> None:
    assert emulator.env()["SECUREX_VISIBILITY_HOST_NAME"].startswith("http://")


def test_alerts_every_order_and_direction(
    sdk: gta.Client, http: httpx.Client, p: dict[str, str]
) -> None:
    expected = walk(http, p["alerts"], {"size": 37})
    assert list(sdk.alerts.list(size=37).raw()) == expected
    by_time = walk(http, p["alerts"], {"sort": "triggeredAt:asc"})
    models = list(sdk.alerts.list(sort="triggeredAt:asc", size=50))
    assert [a.id for a in models] == [a["id"] for a in by_time]
    assert all(a.status is not None and a.status.value for a in models)
    # Backwards from the end with `before` gives the same items.
    pager = sdk.alerts.list(size=25)
    pages = list(pager.pages())
    last_start = pages[-1].page_info.start_cursor
    assert last_start is not None
    backward = _backward(sdk.alerts.list(size=25, before=last_start).raw())
    assert backward == expected[: len(expected) - len(pages[-1].items)]
    # Resuming after a cursor.
    middle = pages[1].page_info.end_cursor
    assert list(sdk.alerts.list(size=25, after=middle).raw()) == expected[50:]
    assert pager.end_cursor == pages[-1].page_info.end_cursor


def test_alert_get_search_and_time_filters(
    sdk: gta.Client, http: httpx.Client, p: dict[str, str]
) -> None:
    alerts = walk(http, p["alerts"])
    one = sdk.alerts.get(alerts[0]["id"])
    assert one.id == alerts[0]["id"] and one.risk == alerts[0]["risk"]
    ids = [a["id"] for a in alerts] + ["0" * 64]
    found = list(sdk.alerts.search(ids).raw())
    assert sorted(a["id"] for a in found) == sorted(a["id"] for a in alerts)
    with pytest.raises(NotFoundError):
        sdk.alerts.get("0" * 64)
    cut = sorted(a["triggeredAt"] for a in alerts)[len(alerts) // 2]
    later = list(sdk.alerts.list(sort="triggeredAt:asc", triggered_after=cut).raw())
    assert later and all(a["triggeredAt"] > cut for a in later)
    assert len(later) == sum(a["triggeredAt"] > cut for a in alerts)


@pytest.mark.parametrize("size", [None, 1000, 333])
def test_events_enriched_and_plain(
    sdk: gta.Client, http: httpx.Client, p: dict[str, str], size: int | None
) -> None:
    expected = walk(http, p["enriched"])
    got = list(sdk.events.enriched(size=size).raw())
    assert got == expected
    plain = list(sdk.events.list(size=size).raw())
    assert [e["id"] for e in plain] == [e["id"] for e in expected]
    searched = list(sdk.events.search(size=size).raw())
    assert searched == plain
    models = list(sdk.events.enriched(size=500))
    assert [e.id for e in models] == [e["id"] for e in expected]
    assert any(e.threat_detection_ids for e in models)


def test_enriched_events_resume_and_filter(
    sdk: gta.Client, http: httpx.Client, p: dict[str, str]
) -> None:
    expected = walk(http, p["enriched"])
    pager = sdk.events.enriched(size=700).raw()
    first_page = next(iter(pager.pages()))
    cursor = first_page.page_info.end_cursor
    assert cursor is not None and cursor.isdigit()
    assert list(sdk.events.enriched(after=cursor).raw()) == expected[700:]
    cut = sorted(e["modifiedAt"] for e in expected)[len(expected) // 2]
    filtered = list(sdk.events.enriched(detected_or_modified_after=cut).raw())
    assert filtered == [e for e in expected if e["modifiedAt"] > cut]
    beyond = str(10**12)  # an MSN past the end: every event lies before it
    backward = _backward(sdk.events.list(size=300, before=beyond).raw())
    assert _ids(backward) == _ids(expected)


def test_threat_detections_and_bulk_searches(
    sdk: gta.Client, http: httpx.Client, p: dict[str, str]
) -> None:
    tds = walk(http, p["tds"])
    assert list(sdk.threat_detections.list(size=64).raw()) == tds
    events = walk(http, p["enriched"])
    td_ids = sorted({t for e in events for t in e["threatDetectionIds"]})
    with_alerts = list(sdk.threat_detections.search_with_alert_ids(td_ids).raw())
    assert {t["id"] for t in with_alerts} == {t["id"] for t in tds} & set(td_ids)
    assert all(t["alertIds"] for t in with_alerts)
    # More than 1000 ids: the SDK splits them; the emulator refuses a single list of 1001.
    asset_ids = sorted({e["affectedAssetId"] for e in events})
    padded = asset_ids + [f"00000000-0000-4000-8000-{i:012d}" for i in range(1200)]
    assets = list(sdk.assets.search(padded))
    assert {a.id for a in assets} == set(asset_ids)
    records = list(sdk.threat_intel.search({t["threatIntelRecordId"] for t in tds}))
    assert records and all(r.title and r.severity for r in records)
    assert list(sdk.assets.search([])) == []


def test_flows(sdk: gta.Client, http: httpx.Client, p: dict[str, str]) -> None:
    expected = walk(http, p["flows_search"], body={"filter": {}})
    got = list(sdk.flows.search(size=1000).raw())
    assert got == expected
    one_event = expected[0]["networkSecurityEventId"]
    only = list(sdk.flows.search({"securityEventIds": [one_event]}))
    assert only and {f.network_security_event_id for f in only} == {one_event}


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["id"]) for i in items]


def _backward(pager: Any) -> list[dict[str, Any]]:
    """Pages fetched backwards come last-first; each page's items are in ascending order."""
    pages = list(pager.pages())
    return [item for page in reversed(pages) for item in page.items]
