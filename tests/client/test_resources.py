"""Every row of API.md §4: method, path, parameters and body; bulk search chunking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest
from tests._support.fake_api import API, CUSTOMER, FakeApi, json_response, make_client, page

from gta.client import Alert, ApiError, ConfigurationError, NotFoundError, ThreatIntelRecord

AM = f"/alert-management/customer/{CUSTOMER}"


def echo_search(key: str) -> Any:
    """A search endpoint answering one item per id in the filter."""

    def handler(request: httpx.Request) -> httpx.Response:
        ids = orjson.loads(request.content)["filter"][key]
        return json_response(200, page([{"id": i} for i in ids], ids[-1] if ids else None, False))

    return handler


@pytest.mark.parametrize(
    ("call", "method", "path", "params"),
    [
        (
            lambda c: c.alerts.list(sort="triggeredAt:asc", size=50),
            "GET",
            f"{AM}/alerts",
            {"sort": "triggeredAt:asc", "size": "50"},
        ),
        (
            lambda c: c.threat_detections.list(),
            "GET",
            f"/threat-detection/customer/{CUSTOMER}/threat-detections",
            {"sort": "modificationSequenceNumber"},
        ),
        (
            lambda c: c.events.list(size=10),
            "GET",
            f"/event-detection/customer/{CUSTOMER}/events",
            {"size": "10"},
        ),
        (
            lambda c: c.events.enriched(after="25717281", size=1000),
            "GET",
            f"/threat-detection/customer/{CUSTOMER}/enriched-events-with-threat-detection-ids",
            {"sort": "modificationSequenceNumber", "after": "25717281", "size": "1000"},
        ),
        (
            lambda c: c.events.search(),
            "POST",
            f"/event-detection/customer/{CUSTOMER}/events/search",
            {"sort": "modificationSequenceNumber"},
        ),
        (
            lambda c: c.flows.search({"x": 1}),
            "POST",
            f"/event-detection/customer/{CUSTOMER}/flows/search",
            {"sort": "modificationSequenceNumber"},
        ),
    ],
)
def test_collection_requests(
    api: FakeApi, call: Any, method: str, path: str, params: dict[str, str]
) -> None:
    api.route(method, path, page([{"id": "1"}], "1", False))
    client = make_client(api)
    assert len(list(call(client))) == 1
    (request,) = api.requests
    assert str(request.url).startswith(API + path)
    assert dict(request.url.params) == params


def test_search_bodies_default_to_empty_filter(api: FakeApi) -> None:
    api.route("POST", f"/event-detection/customer/{CUSTOMER}/flows/search", page([], None, False))
    client = make_client(api)
    list(client.flows.search())
    assert orjson.loads(api.requests[0].content) == {"filter": {}}


def test_datetime_parameters(api: FakeApi) -> None:
    api.route("GET", f"{AM}/alerts", page([], None, False))
    client = make_client(api)
    list(client.alerts.list(triggered_after="2024-03-01T10:00:00+02:00"))
    list(
        client.alerts.list(
            modified_after=datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))
        )
    )
    first, second = api.requests
    # The offset arrives intact: "+" is percent-encoded, not turned into a space.
    assert b"triggeredAfter=2024-03-01T10%3A00%3A00%2B02%3A00" in first.url.raw_path
    assert first.url.params["triggeredAfter"] == "2024-03-01T10:00:00+02:00"
    assert second.url.params["modifiedAfter"] == "2024-03-01T08:00:00.000Z"
    with pytest.raises(ConfigurationError, match="naive"):
        client.alerts.list(triggered_after=datetime(2024, 1, 1))


def test_enriched_detected_or_modified_after(api: FakeApi) -> None:
    path = f"/threat-detection/customer/{CUSTOMER}/enriched-events-with-threat-detection-ids"
    api.route("GET", path, page([], None, False))
    client = make_client(api)
    list(client.events.enriched(detected_or_modified_after=datetime(2024, 1, 1, tzinfo=UTC)))
    assert api.requests[0].url.params["detectedOrModifiedAfter"] == "2024-01-01T00:00:00.000Z"


def test_2500_ids_become_three_search_calls(api: FakeApi) -> None:
    api.route("POST", f"{AM}/alerts/search", echo_search("alertIds"))
    client = make_client(api)
    ids = [f"a{i:04d}" for i in range(2500)] + ["a0001", "a0002"]  # duplicates dropped
    results = client.alerts.search(ids)
    alerts = list(results)
    assert [a.id for a in alerts] == [f"a{i:04d}" for i in range(2500)]
    sent = [orjson.loads(r.content)["filter"]["alertIds"] for r in api.requests]
    assert [len(chunk) for chunk in sent] == [1000, 1000, 500]
    assert [i for chunk in sent for i in chunk] == [f"a{i:04d}" for i in range(2500)]


def test_empty_id_list_sends_nothing(api: FakeApi) -> None:
    client = make_client(api)
    assert list(client.alerts.search([])) == []
    assert list(client.assets.search(iter([])).raw()) == []
    assert api.requests == [] and api.token_requests == []


def test_search_pages_within_a_chunk(api: FakeApi) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        assert orjson.loads(request.content) == {"filter": {"assetId": ["x", "y"]}}
        if after is None:
            return json_response(200, page([{"id": "x"}], "1", True))
        return json_response(200, page([{"id": "y", "assumedOwner": "bob"}], "2", False))

    api.route("POST", f"/asset-management/customer/{CUSTOMER}/assets/search", handler)
    client = make_client(api)
    assets = list(client.assets.search(["x", "y"]))
    assert [(a.id, a.assumed_owner) for a in assets] == [("x", None), ("y", "bob")]


@pytest.mark.parametrize(
    ("call", "path", "key"),
    [
        (
            lambda c, ids: c.threat_detections.search_with_alert_ids(ids),
            f"{AM}/enriched-threat-detections-with-alert-ids/search",
            "threatDetectionIds",
        ),
        (
            lambda c, ids: c.assets.search(ids),
            f"/asset-management/customer/{CUSTOMER}/assets/search",
            "assetId",
        ),
        (
            lambda c, ids: c.threat_intel.search(ids),
            "/threat-catalog/records/search",
            "threatIntelRecordId",
        ),
    ],
)
def test_bulk_search_paths_and_keys(api: FakeApi, call: Any, path: str, key: str) -> None:
    api.route("POST", path, echo_search(key))
    client = make_client(api)
    assert [x["id"] for x in call(client, ["i1", "i2"]).raw()] == ["i1", "i2"]
    assert orjson.loads(api.requests[0].content) == {"filter": {key: ["i1", "i2"]}}


def test_threat_intel_is_not_customer_scoped(api: FakeApi) -> None:
    api.route("POST", "/threat-catalog/records/search", echo_search("threatIntelRecordId"))
    client = make_client(api, customer_id=None)
    records = list(client.threat_intel.search(["t1"]))
    assert isinstance(records[0], ThreatIntelRecord)
    assert [r.url.path for r in api.requests] == ["/threat-catalog/records/search"]


def test_get_alert_and_404(api: FakeApi) -> None:
    api.route("GET", f"{AM}/alerts/a1", {"id": "a1", "risk": "Low"})
    client = make_client(api)
    assert client.alerts.get("a1").risk == "Low"
    with pytest.raises(NotFoundError):
        client.alerts.get("gone")


def test_path_ids_are_quoted_and_validated(api: FakeApi) -> None:
    client = make_client(api)
    with pytest.raises(NotFoundError):
        client.alerts.get("../x?y")
    assert api.requests[0].url.raw_path == f"{AM}/alerts/..%2Fx%3Fy".encode()
    for bad in ("", "  "):
        with pytest.raises(ConfigurationError, match="alert_id"):
            client.alerts.get(bad)
        with pytest.raises(ConfigurationError, match="alert_id"):
            client.alerts.delete_note(bad)


def test_set_status_note_and_delete_note(api: FakeApi) -> None:
    def patch(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        return json_response(200, {"id": "a1", **body})

    api.route("PATCH", f"{AM}/alerts/a1/status", patch)
    api.route("PATCH", f"{AM}/alerts/a1/note", patch)
    api.route("DELETE", f"{AM}/alerts/a1/note", lambda r: httpx.Response(204))
    client = make_client(api)
    closed = client.alerts.set_status("a1", "Closed", ["FalsePositive"])
    assert isinstance(closed, Alert)
    assert closed.status is not None and closed.status.value == "Closed"
    assert closed.status.closing_reasons == ["FalsePositive"]
    assert orjson.loads(api.requests[0].content) == {
        "status": {"value": "Closed", "closingReasons": ["FalsePositive"]}
    }
    opened = client.alerts.set_status("a1", "Open")
    assert orjson.loads(api.requests[1].content) == {"status": {"value": "Open"}}
    assert opened.status is not None and opened.status.value == "Open"
    assert client.alerts.set_note("a1", "looked at it").note == "looked at it"
    client.alerts.delete_note("a1")
    assert [r.method for r in api.requests] == ["PATCH", "PATCH", "PATCH", "DELETE"]


def test_patch_answered_with_204_reads_the_alert_back(api: FakeApi) -> None:
    api.route("PATCH", f"{AM}/alerts/a1/note", lambda r: httpx.Response(204))
    api.route("GET", f"{AM}/alerts/a1", {"id": "a1", "note": "n"})
    client = make_client(api)
    assert client.alerts.set_note("a1", "n").note == "n"


def test_after_and_before_together_are_refused(api: FakeApi) -> None:
    client = make_client(api)
    with pytest.raises(ConfigurationError, match="not both"):
        client.alerts.list(after="a", before="b")


def test_customer_id_discovered_once_across_threads(api: FakeApi) -> None:
    api.route("GET", f"{AM}/alerts", page([], None, False))
    client = make_client(api, customer_id=None)
    threads = [threading.Thread(target=lambda: list(client.alerts.list())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert client.customer_id == CUSTOMER
    me = [r for r in api.requests if r.url.path == "/auth/api-clients/me"]
    assert len(me) == 1
    assert str(me[0].url) == "https://app.test/auth/api-clients/me"
    assert len([r for r in api.requests if r.url.path == f"{AM}/alerts"]) == 6


@pytest.mark.parametrize("body", [{}, {"identity": None}, {"identity": {"customerId": ""}}, []])
def test_customer_discovery_bad_shape(api: FakeApi, body: Any) -> None:
    api.route("GET", "/auth/api-clients/me", body)
    client = make_client(api, customer_id=None)
    with pytest.raises(Exception, match="GTA_CUSTOMER_ID") as info:
        _ = client.customer_id
    assert type(info.value).__name__ == "ApiError"


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (httpx.Response(200, text="<html>SSO login</html>"), "not JSON"),
        (json_response(200, ["a1"]), "expected a JSON object"),
        (json_response(200, {"id": "a1", "status": "Open"}), "not a valid Alert"),
    ],
)
def test_get_with_unusable_body_is_api_error(
    api: FakeApi, response: httpx.Response, match: str
) -> None:
    api.route("GET", f"{AM}/alerts/a1", lambda r: response)
    client = make_client(api)
    with pytest.raises(ApiError, match=match) as info:
        client.alerts.get("a1")
    assert f"GET {AM}/alerts/a1" in str(info.value)
    assert "\n" not in str(info.value)
