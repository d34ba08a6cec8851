"""Retries: 429 with Retry-After, 5xx within the budget, resets and timeouts; retry logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from tests._support.fake_api import CUSTOMER, FakeApi, FakeClock, json_response, make_client, page

from gta.client import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

ALERTS = f"/alert-management/customer/{CUSTOMER}/alerts"


@pytest.fixture
def ready(api: FakeApi) -> FakeApi:
    api.route("GET", ALERTS, page([{"id": "a1"}], "c1", False))
    return api


def test_429_retry_after_seconds_is_honoured(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [json_response(429, {"title": "Too Many"}, {"Retry-After": "7"})]
    client = make_client(ready, clock)
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert clock.sleeps == [7.0]


def test_429_retry_after_http_date_is_honoured(ready: FakeApi, clock: FakeClock) -> None:
    # The fake wall clock reads 2026-01-01 12:00:00 UTC.
    ready.fail = [json_response(429, {}, {"Retry-After": "Thu, 01 Jan 2026 12:00:42 GMT"})]
    client = make_client(ready, clock)
    list(client.alerts.list())
    assert clock.sleeps == [42.0]


def test_429_retry_after_is_capped(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [json_response(429, {}, {"Retry-After": "86400"})]
    client = make_client(ready, clock)
    list(client.alerts.list())
    assert clock.sleeps == [120.0]


def test_429_past_budget_is_rate_limit_error(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [json_response(429, {}, {"Retry-After": "3", "x-request-id": "r-9"})] * 5
    client = make_client(ready, clock, max_retries=2)
    with pytest.raises(RateLimitError) as info:
        list(client.alerts.list())
    assert info.value.retry_after == 3.0
    assert info.value.request_id == "r-9"
    assert clock.sleeps == [3.0, 3.0]
    assert len(ready.requests) == 3


def test_5xx_retried_with_backoff_until_budget_then_server_error(
    ready: FakeApi, clock: FakeClock
) -> None:
    body = {"type": "about:blank", "title": "Bad Gateway", "status": 502, "detail": "upstream down"}
    ready.fail = [json_response(502, body)] * 10
    client = make_client(ready, clock, max_retries=4)
    with pytest.raises(ServerError) as info:
        list(client.alerts.list())
    error = info.value
    assert error.status_code == 502
    assert error.body == body
    assert "upstream down" in str(error) and ALERTS in str(error)
    assert len(ready.requests) == 5  # 1 + max_retries
    # Full jitter with random() = 0.5: half of 0.5, 1, 2, 4 s.
    assert clock.sleeps == pytest.approx([0.25, 0.5, 1.0, 2.0])


def test_5xx_then_success(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [json_response(500, {}), json_response(503, {}, {"Retry-After": "1"})]
    client = make_client(ready, clock)
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert clock.sleeps == pytest.approx([0.25, 1.0])


@pytest.mark.parametrize(
    "exc",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.ReadTimeout("timed out"),
    ],
)
def test_connection_failures_are_retried(ready: FakeApi, clock: FakeClock, exc: Exception) -> None:
    ready.fail = [exc, exc]
    client = make_client(ready, clock)
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert len(clock.sleeps) == 2
    assert len(ready.requests) == 3


def test_connection_failure_past_budget(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [httpx.ConnectError("[Errno 111] Connection refused")] * 5
    client = make_client(ready, clock, max_retries=2)
    with pytest.raises(ApiConnectionError) as info:
        list(client.alerts.list())
    assert not isinstance(info.value, ApiTimeoutError)
    assert "Connection refused" in str(info.value)
    assert "after 3 attempts" in str(info.value)


def test_unresolvable_host_gives_up_after_two_retries(ready: FakeApi, clock: FakeClock) -> None:
    """A host that does not resolve is usually a typo: a few retries, not the whole budget."""
    failure = httpx.ConnectError("[Errno -2] Name or service not known")
    ready.fail = [failure] * 10
    client = make_client(ready, clock, max_retries=8)
    with pytest.raises(ApiConnectionError, match="Name or service not known"):
        list(client.alerts.list())
    assert len(clock.sleeps) == 2


def test_name_resolution_failure_is_found_in_the_cause_chain() -> None:
    import socket

    from gta.client._retry import is_name_resolution_failure

    try:
        try:
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        except socket.gaierror as inner:
            raise httpx.ConnectError("connect failed") from inner
    except httpx.ConnectError as outer:
        assert is_name_resolution_failure(outer)
    assert not is_name_resolution_failure(httpx.ConnectError("[Errno 111] Connection refused"))


def test_timeout_past_budget_is_timeout_error(ready: FakeApi, clock: FakeClock) -> None:
    ready.fail = [httpx.ReadTimeout("timed out")] * 5
    client = make_client(ready, clock, max_retries=1)
    with pytest.raises(ApiTimeoutError):
        list(client.alerts.list())


def test_every_request_carries_a_timeout(ready: FakeApi, clock: FakeClock) -> None:
    # Each phase gets what remains of the whole-request deadline (60 s by default) when it starts.
    client = make_client(ready, clock)
    list(client.alerts.list())
    timeout = ready.requests[0].extensions["timeout"]
    assert dict(timeout) == {"connect": 60.0, "read": 60.0, "write": 60.0, "pool": 60.0}
    clock.t += 45
    assert timeout["read"] == 15.0
    clock.t += 100
    assert 0 < timeout["read"] < 0.01  # expired: the next blocking operation times out at once


def test_per_phase_limits_are_capped_by_the_deadline(ready: FakeApi, clock: FakeClock) -> None:
    client = make_client(ready, clock, timeout=httpx.Timeout(5.0, read=90.0))
    list(client.alerts.list())
    timeout = ready.requests[0].extensions["timeout"]
    assert dict(timeout) == {"connect": 5.0, "read": 60.0, "write": 5.0, "pool": 5.0}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ApiStatusError),
    ],
)
def test_status_switch(ready: FakeApi, clock: FakeClock, status: int, cls: type[Exception]) -> None:
    ready.fail = [json_response(status, {"title": "nope", "detail": "multi\nline\tdetail"})]
    client = make_client(ready, clock)
    with pytest.raises(cls) as info:
        list(client.alerts.list())
    assert type(info.value) is cls
    assert "\n" not in str(info.value)
    assert clock.sleeps == []  # answers, not accidents: no retry
    assert len(ready.requests) == 1


def test_retries_are_logged_without_query(
    ready: FakeApi, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ready.fail = [json_response(503, {})]
    client = make_client(ready, clock)
    with caplog.at_level(logging.INFO, logger="gta.client"):
        list(client.alerts.list(sort="triggeredAt:asc", after="secret-cursor"))
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert message == f"retrying GET {ALERTS} after 503 (retry 1 of 3) in 0.25 s"
    assert "secret-cursor" not in message
    assert record.gta_attempt == 1  # type: ignore[attr-defined]


def test_a_read_response_is_freed_by_reference_counting(ready: FakeApi) -> None:
    # httpx binds a response's stream back to the response: left as is, every page body stays in
    # memory until the cyclic collector runs (a sync that runs it rarely grew by pages' worth).
    import gc
    import weakref

    client = make_client(ready)
    request = client.transport.build("GET", f"https://api.test{ALERTS}")
    gc.disable()
    try:
        response = client.transport.send(request)
        assert response.json()["items"] == [{"id": "a1"}]  # the body is still readable
        ref = weakref.ref(response)
        del response
        assert ref() is None
    finally:
        gc.enable()
