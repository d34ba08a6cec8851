"""The SDK's observer hooks (issue #15 metrics): every answer's status and every retry."""

from __future__ import annotations

import httpx
from tests._support.fake_api import CUSTOMER, FakeApi, FakeClock, json_response, make_client, page

ALERTS = f"/alert-management/customer/{CUSTOMER}/alerts"


def test_on_response_sees_every_answer_and_on_retry_every_retry(
    api: FakeApi, clock: FakeClock
) -> None:
    api.route("GET", ALERTS, page([{"id": "a1"}], "c1", False))
    api.fail = [json_response(503, {}), json_response(429, {}, {"Retry-After": "1"})]
    client = make_client(api, clock)
    statuses: list[int] = []
    causes: list[str] = []
    client.transport.on_response = statuses.append
    client.transport.on_retry = causes.append
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert statuses[-3:] == [503, 429, 200]
    assert causes == ["503", "429"]


def test_a_network_retry_is_observed_too(api: FakeApi, clock: FakeClock) -> None:
    api.route("GET", ALERTS, page([], None, False))
    api.fail = [httpx.ConnectError("refused")]
    client = make_client(api, clock)
    causes: list[str] = []
    client.transport.on_retry = causes.append
    list(client.alerts.list())
    assert causes == ["ConnectError"]
