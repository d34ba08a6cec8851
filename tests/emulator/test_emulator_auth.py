"""Authentication as API.md section 2: client credentials, bearer tokens, tenant isolation."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from emu_http import HTTP, paths, token

from gta.emulator import RunningEmulator

RFC = "https://tools.ietf.org/html/rfc6749#section-5.2"


def _token_request(emu: RunningEmulator, **kwargs: object) -> httpx.Response:
    return HTTP.post(f"{emu.url}/iroh/oauth2/token", **kwargs)  # type: ignore[arg-type]


def test_token_grant_has_the_documented_shape(emulator: RunningEmulator) -> None:
    response = _token_request(
        emulator,
        content=b"grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(emulator.client_id, emulator.client_password),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "casebook"
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(
    ("auth", "form", "error"),
    [
        (("nobody", "secret"), {"grant_type": "client_credentials"}, "invalid_client"),
        (None, {"grant_type": "client_credentials"}, "invalid_client"),
        ("wrong-password", {"grant_type": "client_credentials"}, "invalid_client"),
        ("ok", {"grant_type": "password"}, "unsupported_grant_type"),
        ("ok", {}, "invalid_request"),
    ],
)
def test_token_errors_are_rfc6749_bodies(
    emulator: RunningEmulator, auth: object, form: dict[str, str], error: str
) -> None:
    if auth == "ok":
        auth = (emulator.client_id, emulator.client_password)
    elif auth == "wrong-password":
        auth = (emulator.client_id, "not-the-password")
    response = _token_request(emulator, data=form, auth=auth)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert body["error_uri"] == RFC
    if error == "invalid_client":
        assert body["error_description"] == "unknown client"


def test_unknown_client_body_is_exactly_as_documented(emulator: RunningEmulator) -> None:
    response = _token_request(
        emulator, data={"grant_type": "client_credentials"}, auth=("nobody", "x")
    )
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "unknown client",
        "error_uri": RFC,
    }


@pytest.mark.parametrize(
    "header",
    [None, "bearer {t}", "BEARER {t}", "Bearer", "Bearer not-a-token", "Basic {t}", "{t}"],
)
def test_bad_authorization_is_401(emulator: RunningEmulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header.format(t=token(emulator))}
    response = HTTP.get(emulator.url + paths(emulator.customer_id)["alerts"], headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_me_names_the_customer(emulator: RunningEmulator) -> None:
    response = HTTP.get(
        f"{emulator.url}/auth/api-clients/me",
        headers={"Authorization": f"Bearer {token(emulator)}"},
    )
    assert response.status_code == 200
    assert response.json()["identity"]["customerId"] == emulator.customer_id


def test_expired_token_is_401(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=50, token_ttl=1)
    headers = {"Authorization": f"Bearer {token(emu)}"}
    url = emu.url + paths(emu.customer_id)["alerts"]
    assert HTTP.get(url, headers=headers).status_code == 200
    time.sleep(1.2)
    response = HTTP.get(url, headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_tenants_are_isolated(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=200, customers=2)
    first, second = emu.customers
    assert first.customer_id != second.customer_id
    assert first.client_id != second.client_id
    headers = {"Authorization": f"Bearer {token(emu, 1)}"}
    own = HTTP.get(emu.url + paths(second.customer_id)["events"], headers=headers)
    other = HTTP.get(emu.url + paths(first.customer_id)["events"], headers=headers)
    unknown = HTTP.get(emu.url + paths("CTA999999999")["events"], headers=headers)
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert unknown.status_code == 403
    me = HTTP.get(f"{emu.url}/auth/api-clients/me", headers=headers).json()
    assert me["identity"]["customerId"] == second.customer_id
    # Each customer has its own data.
    mine = {e["id"] for e in own.json()["items"]}
    headers_first = {"Authorization": f"Bearer {token(emu, 0)}"}
    theirs = HTTP.get(emu.url + paths(first.customer_id)["events"], headers=headers_first)
    assert mine and mine.isdisjoint({e["id"] for e in theirs.json()["items"]})


def test_secrets_stay_out_of_reprs(emulator: RunningEmulator) -> None:
    assert emulator.client_password not in repr(emulator)
    assert emulator.client_password not in repr(emulator.state.settings)
    assert emulator.client_password not in repr(emulator.customers)
