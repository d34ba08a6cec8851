"""Property tests (hypothesis) of pagination over HTTP against the shared emulator.

- Walking any collection forward visits every item exactly once, in order, for any page size.
- Walking backward with ``before`` gives the same items (pages last-first).
- After activity, resuming from a saved MSN cursor returns exactly what was created or updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from emu_http import HTTP, client, paths, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gta.emulator import RunningEmulator

RISKS = ["Critical", "High", "Medium", "Low"]
COLLECTIONS = {
    # name: (path key, query, body, sort key of an item or None when the MSN orders it)
    "alerts": ("alerts", {}, None),
    "alerts by time": ("alerts", {"sort": "triggeredAt:asc"}, None),
    "threat detections": ("tds", {"sort": "modificationSequenceNumber"}, None),
    "events": ("events", {}, None),
    "enriched events": ("enriched", {"sort": "modificationSequenceNumber"}, None),
    "events search": ("events_search", {}, {"filter": {}}),
    "flows": ("flows_search", {"sort": "modificationSequenceNumber"}, {"filter": {}}),
}
_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with client(emulator) as c:
        yield c


@pytest.fixture(scope="module")
def reference(emulator: RunningEmulator, http: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    """Each collection read once with full pages: the expected content and order."""
    p = paths(emulator.customer_id)
    out = {}
    for name, (key, query, body) in COLLECTIONS.items():
        out[name] = walk(http, p[key], {**query, "size": 1000}, body)
    return out


def _pages(
    http: httpx.Client,
    path: str,
    query: dict[str, Any],
    body: Any,
    direction: str,
    start: str | None,
) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = start
    while True:
        params = dict(query)
        if cursor is not None:
            params[direction] = cursor
        response = (
            http.get(path, params=params)
            if body is None
            else http.post(path, params=params, json=body)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        info = page["pageInfo"]
        assert len(page["items"]) <= query["size"]
        if page["items"]:
            assert info["startCursor"] is not None and info["endCursor"] is not None
        pages.append(page["items"])
        more = info["hasNextPage"] if direction == "after" else info["hasPreviousPage"]
        if not more:
            return pages
        cursor = info["endCursor"] if direction == "after" else info["startCursor"]


def _cursor_of(http: httpx.Client, path: str, query: dict[str, Any], body: Any, index: int) -> str:
    """The endCursor naming item ``index`` (pages are capped at 1000, so go there by pages)."""
    cursor: str | None = None
    remaining = index + 1
    while True:
        size = min(remaining, 1000)
        params = {**query, "size": size, **({"after": cursor} if cursor else {})}
        response = (
            http.get(path, params=params)
            if body is None
            else http.post(path, params=params, json=body)
        )
        cursor = response.json()["pageInfo"]["endCursor"]
        assert cursor is not None
        remaining -= size
        if not remaining:
            return cursor


@given(name=st.sampled_from(sorted(COLLECTIONS)), size=st.integers(min_value=1, max_value=1000))
@_SETTINGS
def test_forward_walk_visits_every_item_once_in_order(
    emulator: RunningEmulator,
    http: httpx.Client,
    reference: dict[str, list[dict[str, Any]]],
    name: str,
    size: int,
) -> None:
    key, query, body = COLLECTIONS[name]
    path = paths(emulator.customer_id)[key]
    if len(reference[name]) / size > 400:
        size = len(reference[name]) // 400 + 1  # keep one example to a few hundred requests
    pages = _pages(http, path, {**query, "size": size}, body, "after", None)
    items = [item for page in pages for item in page]
    assert items == reference[name]
    assert all(len(page) == size for page in pages[:-1])


@given(
    name=st.sampled_from(sorted(COLLECTIONS)),
    size=st.integers(min_value=1, max_value=1000),
    where=st.floats(min_value=0.0, max_value=1.0),
)
@_SETTINGS
def test_backward_walk_returns_the_same_items(
    emulator: RunningEmulator,
    http: httpx.Client,
    reference: dict[str, list[dict[str, Any]]],
    name: str,
    size: int,
    where: float,
) -> None:
    key, query, body = COLLECTIONS[name]
    path = paths(emulator.customer_id)[key]
    expected = reference[name]
    if len(expected) / size > 400:
        size = len(expected) // 400 + 1
    # Start before some item: its startCursor is the cursor of that item alone.
    index = round(where * (len(expected) - 1))
    start_cursor = _cursor_of(http, path, query, body, index)
    pages = _pages(http, path, {**query, "size": size}, body, "before", start_cursor)
    position = {item["id"]: i for i, item in enumerate(expected)}
    for page in pages:
        places = [position[item["id"]] for item in page]
        assert places == sorted(places)  # ascending within a page
    backward = [item for page in reversed(pages) for item in page]
    assert backward == expected[:index]


@given(
    new=st.integers(min_value=0, max_value=15),
    updated=st.integers(min_value=0, max_value=15),
    size=st.integers(min_value=1, max_value=50),
)
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_resume_from_saved_msn_returns_exactly_the_changes(
    make_emulator: Callable[..., RunningEmulator], new: int, updated: int, size: int
) -> None:
    emu = make_emulator(events=150)
    p = paths(emu.customer_id)
    with client(emu) as http:
        saved = str(HTTP.get(f"{emu.url}/_emulator/stats").json()["maxMsn"])
        change = HTTP.post(
            f"{emu.url}/_emulator/activity", json={"new_events": new, "updated_events": updated}
        ).json()
        events = walk(http, p["enriched"], {"size": size}, start=saved)
        assert sorted(e["id"] for e in events) == sorted(
            change["newEventIds"] + change["updatedEventIds"]
        )
        tds = walk(http, p["tds"], {"size": size}, start=saved)
        assert sorted(t["id"] for t in tds) == sorted(
            change["newThreatDetectionIds"] + change["updatedThreatDetectionIds"]
        )
        flows = walk(http, p["flows_search"], {"size": size}, {"filter": {}}, start=saved)
        assert len(flows) == change["newFlowCount"]
