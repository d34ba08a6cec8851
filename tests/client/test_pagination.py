"""Pager and SearchResults: cursors, POST body re-sent, resume, empty pages, bad shapes."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from tests._support.fake_api import CUSTOMER, FakeApi, json_response, make_client, page

from gta.client import ApiError, Event, Page

SEARCH = f"/event-detection/customer/{CUSTOMER}/events/search"
ALERTS = f"/alert-management/customer/{CUSTOMER}/alerts"


def paged(pages: dict[str | None, dict[str, Any]]) -> Any:
    """A handler serving ``pages[after]``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(200, pages[request.url.params.get("after")])

    return handler


THREE = {
    None: page([{"id": "e1"}, {"id": "e2"}], "101", True),
    "101": page([{"id": "e3"}, {"id": "e4"}], "102", True),
    "102": page([{"id": "e5"}], "103", False),
}


def test_three_pages_post_body_resent(api: FakeApi) -> None:
    api.route("POST", SEARCH, paged(THREE))
    client = make_client(api)
    pager = client.events.search({"securityEventTypeId": [1, 2]}, size=2)
    assert pager.end_cursor is None
    events = list(pager)
    assert [e.id for e in events] == ["e1", "e2", "e3", "e4", "e5"]
    assert all(isinstance(e, Event) for e in events)
    assert pager.end_cursor == "103"
    assert len(api.requests) == 3
    for request in api.requests:
        assert orjson.loads(request.content) == {"filter": {"securityEventTypeId": [1, 2]}}
        assert request.headers["content-type"] == "application/json"
        assert request.url.params["sort"] == "modificationSequenceNumber"
        assert request.url.params["size"] == "2"
    assert [r.url.params.get("after") for r in api.requests] == [None, "101", "102"]
    # pageInfo.next is never followed
    assert all(r.url.path == SEARCH for r in api.requests)


def test_resume_from_cursor(api: FakeApi) -> None:
    api.route("POST", SEARCH, paged(THREE))
    client = make_client(api)
    pager = client.events.search(after="101")
    assert pager.end_cursor == "101"
    assert [e.id for e in pager] == ["e3", "e4", "e5"]
    assert api.requests[0].url.params["after"] == "101"
    assert pager.end_cursor == "103"


def test_empty_last_page_keeps_cursor(api: FakeApi) -> None:
    api.route(
        "POST",
        SEARCH,
        paged(
            {
                "103": page([], None, False),
                None: page([{"id": "x"}], "200", True),
                "200": page([], None, False),
            }
        ),
    )
    client = make_client(api)
    caught_up = client.events.search(after="103")
    assert list(caught_up) == []
    assert caught_up.end_cursor == "103"  # nothing new: the starting cursor stays
    fresh = client.events.search()
    assert [e.id for e in fresh] == ["x"]
    assert fresh.end_cursor == "200"  # the empty page after it changes nothing


def test_pages_and_raw(api: FakeApi) -> None:
    api.route("POST", SEARCH, paged(THREE))
    client = make_client(api)
    pages = list(client.events.search().pages())
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert isinstance(pages[0], Page)
    assert pages[0].page_info.end_cursor == "101" and pages[0].page_info.has_next_page
    raw = client.events.search(after="102").raw()
    items = list(raw)
    assert items == [{"id": "e5"}]
    assert type(items[0]) is dict
    assert raw.end_cursor == "103"


def test_raw_keeps_items_exactly(api: FakeApi) -> None:
    item = {
        "id": "e1",
        "detectedAt": "2020-10-14T13:59:54.047Z",
        "newField": {"a": [1, None]},
        "threatDetectionIds": None,
    }
    api.route("POST", SEARCH, page([item], "1", False))
    client = make_client(api)
    assert list(client.events.search().raw()) == [item]


def test_cursor_that_does_not_advance_raises(api: FakeApi) -> None:
    api.route("POST", SEARCH, lambda r: json_response(200, page([{"id": "e1"}], "5", True)))
    client = make_client(api)
    with pytest.raises(ApiError, match="did not advance"):
        list(client.events.search())
    assert len(api.requests) == 2


def test_has_next_without_cursor_raises(api: FakeApi) -> None:
    api.route("POST", SEARCH, page([{"id": "e1"}], None, True))
    client = make_client(api)
    with pytest.raises(ApiError, match="no cursor"):
        list(client.events.search())


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(
            200, text="<html><body>Maintenance</body></html>", headers={"content-type": "text/html"}
        ),
        httpx.Response(200, content=b'{"items": [', headers={"content-type": "application/json"}),
        json_response(200, {"items": {"id": "x"}, "pageInfo": {}}),
        json_response(200, {"items": [], "pageInfo": None}),
        json_response(200, [{"id": "x"}]),
        json_response(200, {"pageInfo": {"hasNextPage": False}}),
        json_response(200, {"items": [], "pageInfo": {"hasNextPage": "maybe"}}),
        json_response(200, {"items": ["not-an-object"], "pageInfo": {"hasNextPage": False}}),
        json_response(200, {"items": [{"id": ["list"]}], "pageInfo": {"hasNextPage": False}}),
    ],
)
def test_malformed_collection_is_api_error(api: FakeApi, response: httpx.Response) -> None:
    api.route("GET", ALERTS, lambda r: response)
    client = make_client(api)
    with pytest.raises(ApiError) as info:
        list(client.alerts.list())
    assert ALERTS in str(info.value)
    assert "\n" not in str(info.value)


def test_backwards_with_before(api: FakeApi) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        before = request.url.params.get("before")
        assert "after" not in request.url.params
        body = {
            "S2": {
                "items": [{"id": "b"}],
                "pageInfo": {"hasPreviousPage": True, "startCursor": "S1", "endCursor": "E1"},
            },
            "S1": {
                "items": [{"id": "a"}],
                "pageInfo": {"hasPreviousPage": False, "startCursor": "S0", "endCursor": "E0"},
            },
        }[before]
        return json_response(200, body)

    api.route("GET", ALERTS, handler)
    client = make_client(api)
    assert [a.id for a in client.alerts.list(before="S2")] == ["b", "a"]
    assert [r.url.params["before"] for r in api.requests] == ["S2", "S1"]


def test_pager_is_lazy(api: FakeApi) -> None:
    api.route("POST", SEARCH, paged(THREE))
    client = make_client(api, customer_id=None)
    pager = client.events.search()
    assert api.requests == [] and api.token_requests == []
    iterator = iter(pager)
    next(iterator)
    assert len([r for r in api.requests if r.url.path == SEARCH]) == 1


def test_invalid_item_names_its_place(api: FakeApi) -> None:
    body = {"items": [{"id": "ok"}, {"id": ["x"]}], "pageInfo": {"hasNextPage": False}}
    api.route("GET", ALERTS, body)
    client = make_client(api)
    with pytest.raises(ApiError, match=r"not a valid Alert at items\[1\]\.id"):
        list(client.alerts.list())
    assert [a["id"] for a in client.alerts.list().raw()] == ["ok", ["x"]]  # raw: as received


def test_next_cursor_refuses_a_cursor_already_followed() -> None:
    from gta.client._pagination import CursorStuckError, next_cursor

    assert next_cursor("10", True, "20", 5, seen={"10"}) == "20"
    with pytest.raises(CursorStuckError, match="already followed"):
        next_cursor("20", True, "10", 5, seen={"10", "20"})
