"""The token flow: request shape, reuse, proactive refresh, 401 replay, errors, threads."""

from __future__ import annotations

import base64
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest
from tests._support.fake_api import (
    CLIENT_ID,
    CUSTOMER,
    PASSWORD,
    FakeApi,
    FakeClock,
    json_response,
    make_client,
    page,
)

from gta.client import ApiError, AuthenticationError, RateLimitError, ServerError

ALERTS = f"/alert-management/customer/{CUSTOMER}/alerts"


def one_alert(api: FakeApi) -> None:
    api.route("GET", ALERTS, page([{"id": "a1"}], "c1", False))


def test_token_request_is_client_credentials_with_basic_auth(api: FakeApi) -> None:
    one_alert(api)
    client = make_client(api)
    assert [a.id for a in client.alerts.list()] == ["a1"]
    (token_request,) = api.token_requests
    assert str(token_request.url) == "https://visibility.test/iroh/oauth2/token"
    assert token_request.method == "POST"
    basic = base64.b64encode(f"{CLIENT_ID}:{PASSWORD}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {basic}"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.content.decode()) == {"grant_type": ["client_credentials"]}
    # Capitalised scheme: lower-case "bearer" is rejected by the real service.
    assert api.seen_auth[0] == f"Bearer {api.issued[0]}"


def test_token_reused_then_refreshed_before_expiry(api: FakeApi, clock: FakeClock) -> None:
    one_alert(api)
    client = make_client(api, clock)
    for _ in range(3):
        list(client.alerts.list())
    assert len(api.token_requests) == 1  # reused
    clock.t += 479  # 80 % of 600 s is 480 s: still fresh
    list(client.alerts.list())
    assert len(api.token_requests) == 1
    clock.t += 2  # past 480 s, before the 600 s expiry: refreshed proactively
    list(client.alerts.list())
    assert len(api.token_requests) == 2
    assert api.seen_auth[-1] == f"Bearer {api.issued[1]}"


def test_short_lived_tokens_are_still_used(clock: FakeClock) -> None:
    api = FakeApi(lifetime=2)
    one_alert(api)
    client = make_client(api, clock)
    list(client.alerts.list())
    list(client.alerts.list())
    assert len(api.token_requests) == 1  # a 2 s token serves requests for 1 s
    clock.t += 1.1
    list(client.alerts.list())
    assert len(api.token_requests) == 2


def test_401_refreshes_and_retries_once(api: FakeApi) -> None:
    one_alert(api)
    client = make_client(api)
    list(client.alerts.list())
    api.revoke_all()  # the server forgets the token before its lifetime is over
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert len(api.token_requests) == 2
    first, second = (f"Bearer {token}" for token in api.issued)
    assert api.seen_auth == [first, first, second]


def test_second_401_is_an_authentication_error_not_a_loop(api: FakeApi) -> None:
    api.route("GET", ALERTS, lambda r: json_response(401, {"title": "Unauthorized"}))
    client = make_client(api)
    with pytest.raises(AuthenticationError) as info:
        list(client.alerts.list())
    assert info.value.status_code == 401
    assert len(api.requests) == 2  # first try + one replay
    assert len(api.token_requests) == 2


def test_invalid_client_is_authentication_error_with_description(api: FakeApi) -> None:
    one_alert(api)
    client = make_client(api, password="wrong")
    with pytest.raises(AuthenticationError) as info:
        list(client.alerts.list())
    error = info.value
    assert error.status_code == 400
    assert error.error == "invalid_client"
    assert error.error_description == "unknown client"
    assert "unknown client" in str(error)
    assert "\n" not in str(error)
    assert api.requests == []  # nothing sent to the API without a token
    assert len(api.token_requests) == 1  # a refusal is not retried


def test_token_endpoint_5xx_is_retried(api: FakeApi, clock: FakeClock) -> None:
    one_alert(api)
    api.token_fail = [json_response(503, {"title": "busy"}), json_response(502, {})]
    client = make_client(api, clock)
    assert [a.id for a in client.alerts.list()] == ["a1"]
    assert len(api.token_requests) == 3
    assert len(clock.sleeps) == 2


def test_token_endpoint_keeps_failing_gives_server_error(api: FakeApi) -> None:
    api.token_fail = [json_response(500, {})] * 10
    client = make_client(api, max_retries=2)
    with pytest.raises(ServerError):
        client.alerts.get("a1")
    assert len(api.token_requests) == 3


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}),
        json_response(200, {"token_type": "bearer"}),
        json_response(200, ["access_token"]),
    ],
)
def test_malformed_token_response_is_api_error(api: FakeApi, response: httpx.Response) -> None:
    api.token_fail = [response]
    client = make_client(api)
    with pytest.raises(ApiError, match="token response"):
        client.alerts.get("a1")


def test_one_refresh_at_a_time_across_threads() -> None:
    """Eight threads find no token: exactly one token request is made, all reuse it."""
    api = FakeApi()
    one_alert(api)
    gate = threading.Event()
    inner = api._token

    def slow_token(request: httpx.Request) -> httpx.Response:
        gate.wait(1)
        time.sleep(0.05)  # let the other threads pile up on the lock
        return inner(request)

    api._token = slow_token  # type: ignore[method-assign]
    client = make_client(api)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            list(client.alerts.list())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert errors == []
    assert len(api.issued) == 1
    assert len(api.requests) == 8


def test_token_endpoint_rate_limit_past_budget(api: FakeApi, clock: FakeClock) -> None:
    api.token_fail = [json_response(429, {}, {"Retry-After": "4"})] * 3
    client = make_client(api, clock, max_retries=2)
    with pytest.raises(RateLimitError) as info:
        client.alerts.get("a1")
    assert info.value.retry_after == 4.0
    assert clock.sleeps == [4.0, 4.0]


def test_concurrent_401s_refresh_once() -> None:
    """Six threads all hold a revoked token: one new token is fetched, all replay with it."""
    api = FakeApi()
    one_alert(api)
    client = make_client(api)
    list(client.alerts.list())
    api.revoke_all()
    barrier = threading.Barrier(6)

    def work() -> None:
        barrier.wait(5)
        assert [a.id for a in client.alerts.list()] == ["a1"]

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(api.issued) == 2
    assert api.seen_auth.count(f"Bearer {api.issued[1]}") == 6
