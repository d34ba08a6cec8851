"""The error tree, configuration from the environment, and secrets kept out of sight."""

from __future__ import annotations

import base64
import logging

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

import gta
import gta.errors
from gta.client import Client, ConfigurationError
from gta.errors import (
    ApiConnectionError,
    ApiError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    GtaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

ENV = {
    "SECUREX_CLIENT_ID": "cid",
    "SECUREX_CLIENT_PASSWORD": "pw",
    "SECUREX_VISIBILITY_HOST_NAME": "visibility.eu.amp.cisco.com",
}


def test_tree_shape() -> None:
    assert issubclass(ConfigurationError, GtaError)
    assert issubclass(ApiError, GtaError) and issubclass(ApiStatusError, ApiError)
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
        ServerError,
    ):
        assert issubclass(cls, ApiStatusError)
    assert issubclass(ApiTimeoutError, ApiConnectionError)
    assert issubclass(ApiConnectionError, GtaError) and not issubclass(ApiConnectionError, ApiError)
    assert gta.errors.ConfigurationError is ConfigurationError
    assert "ServerError" in gta.errors.__all__


def test_status_error_carries_request_id_and_body(api: FakeApi) -> None:
    api.route(
        "GET",
        f"/alert-management/customer/{CUSTOMER}/alerts/x",
        lambda r: json_response(
            403, {"title": "Forbidden", "status": 403}, {"X-Request-Id": "req-123"}
        ),
    )
    client = make_client(api)
    with pytest.raises(PermissionDeniedError) as info:
        client.alerts.get("x")
    assert info.value.request_id == "req-123"
    assert info.value.body == {"title": "Forbidden", "status": 403}
    assert str(info.value) == (
        f"403 Forbidden for GET /alert-management/customer/{CUSTOMER}/alerts/x "
        "(request id req-123): Forbidden"
    )


def test_from_env_defaults_and_overrides() -> None:
    client = Client.from_env(ENV)
    assert client.securex_host == "https://visibility.eu.amp.cisco.com"
    assert client.token_url == "https://visibility.eu.amp.cisco.com/iroh/oauth2/token"
    assert client.api_url == "https://api.cta.eu.amp.cisco.com"
    assert client.app_url == "https://cta.eu.amp.cisco.com"
    emu = {
        **ENV,
        "SECUREX_VISIBILITY_HOST_NAME": "http://127.0.0.1:8765",
        "GTA_API_URL": "http://127.0.0.1:8765",
        "GTA_APP_URL": "127.0.0.1:8765",
        "GTA_CUSTOMER_ID": "CTA1",
    }
    with Client.from_env(emu, max_retries=1) as client:
        assert client.token_url == "http://127.0.0.1:8765/iroh/oauth2/token"
        assert client.api_url == "http://127.0.0.1:8765"
        assert client.app_url == "https://127.0.0.1:8765"
        assert client.customer_id == "CTA1"
        assert client.transport.max_retries == 1


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GTA_CUSTOMER_ID", raising=False)
    assert Client.from_env().client_id == "cid"


@pytest.mark.parametrize("missing", sorted(ENV))
def test_missing_env_var_is_named(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(ConfigurationError) as info:
        Client.from_env(env)
    assert missing in str(info.value)
    assert "\n" not in str(info.value)


def test_all_missing_named_in_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        Client.from_env({"SECUREX_CLIENT_ID": "  "})
    message = str(info.value)
    assert "SECUREX_CLIENT_ID" in message and "SECUREX_CLIENT_PASSWORD" in message
    assert "SECUREX_VISIBILITY_HOST_NAME" in message


def test_bad_url_env_var_is_named() -> None:
    with pytest.raises(ConfigurationError, match="GTA_API_URL"):
        Client.from_env({**ENV, "GTA_API_URL": "ftp://x"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
        ({"max_response_bytes": 1.5}, "max_response_bytes"),
        ({"max_retries": -1}, "max_retries"),
        ({"customer_id": ""}, "customer_id"),
        ({"securex_host": ""}, "securex_host"),
    ],
)
def test_constructor_validation(kwargs: dict[str, object], match: str) -> None:
    settings: dict[str, object] = {"securex_host": "h", **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        Client("id", "pw", **settings)  # type: ignore[arg-type]


def test_secrets_absent_from_reprs_errors_and_debug_logs(
    api: FakeApi, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Password, Basic header and token never appear in a repr, an error or any log line."""
    alerts = f"/alert-management/customer/{CUSTOMER}/alerts"
    api.route("GET", alerts, page([{"id": "a1"}], "c", False))
    api.fail = [json_response(503, {}), httpx.ConnectError("reset")]
    client = make_client(api, clock)
    with caplog.at_level(logging.DEBUG):
        list(client.alerts.list())
        api.revoke_all()
        list(client.alerts.list())  # 401 -> refresh
        api.route("GET", alerts, lambda r: json_response(401, {"title": "Unauthorized"}))
        errors: list[BaseException] = []
        try:
            list(client.alerts.list())
        except AuthenticationError as exc:
            errors.append(exc)
        bad = make_client(FakeApi(), password="not-the-" + PASSWORD)
        try:
            bad.alerts.get("x")
        except AuthenticationError as exc:
            errors.append(exc)
    assert len(errors) == 2
    basic = base64.b64encode(f"{CLIENT_ID}:{PASSWORD}".encode()).decode()
    secrets = [PASSWORD, basic, *api.issued]
    assert len(api.issued) >= 2
    texts = [
        repr(client),
        str(client),
        repr(client.auth),
        repr(client.alerts.list()),
        *(str(e) for e in errors),
        *(repr(e) for e in errors),
        *(_exposed_attributes(e) for e in errors),
        caplog.text,
        *(str(r.args) for r in caplog.records),
    ]
    assert any("retrying" in r.getMessage() for r in caplog.records)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert "client-abc" in repr(client) and "***" in repr(client)


def _exposed_attributes(exc: BaseException) -> str:
    """What an error reporter would serialise: every attribute, and the requests' headers."""
    response = getattr(exc, "response", None)
    requests = [getattr(exc, "request", None), response.request if response is not None else None]
    parts = [repr(vars(exc))]
    for request in requests:
        if request is not None:
            parts.append(repr(dict(request.headers)))
            parts.append(request.content.decode("latin-1"))
    return "\n".join(parts)


def test_gta_reexports_client() -> None:
    assert gta.Client is Client


def test_closed_client_says_so(api: FakeApi) -> None:
    client = Client.from_env(ENV)
    with client:
        pass
    with pytest.raises(ConfigurationError, match="closed"):
        client.alerts.get("a1")
