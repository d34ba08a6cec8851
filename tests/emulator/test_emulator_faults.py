"""Fault injection: 5xx, 429 with Retry-After, dropped connections, latency, short tokens."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from emu_http import HTTP, paths, token

from gta.emulator import RunningEmulator


def _get(emu: RunningEmulator, tok: str) -> httpx.Response:
    return HTTP.get(
        emu.url + paths(emu.customer_id)["alerts"],
        params={"size": 1},
        headers={"Authorization": f"Bearer {tok}"},
    )


def _put_faults(emu: RunningEmulator, **faults: object) -> None:
    response = HTTP.put(f"{emu.url}/_emulator/faults", json=faults)
    assert response.status_code == 200, response.text


def test_error_and_rate_limit_answers(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=100)
    tok = token(emu)
    _put_faults(emu, error_rate=0.3, rate_limit_rate=0.3, retry_after=7)
    seen: Counter[int] = Counter()
    with httpx.Client(headers={"Authorization": f"Bearer {tok}"}) as http:
        for _ in range(120):
            response = http.get(emu.url + paths(emu.customer_id)["alerts"], params={"size": 1})
            seen[response.status_code] += 1
            if response.status_code == 429:
                assert response.headers["retry-after"] == "7"
            if response.status_code != 200:
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["status"] == response.status_code
    assert set(seen) <= {200, 429, 500, 502, 503}
    assert seen[200] and seen[429] and (seen[500] + seen[502] + seen[503])
    # The admin API is never faulted, so the faults can always be switched off.
    for _ in range(30):
        assert HTTP.get(f"{emu.url}/_emulator/stats").status_code == 200
    _put_faults(emu)
    assert all(_get(emu, tok).status_code == 200 for _ in range(20))


def test_faults_from_settings_hit_the_token_endpoint(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=50, error_rate=1.0)
    response = HTTP.post(
        f"{emu.url}/iroh/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(emu.client_id, emu.client_password),
    )
    assert response.status_code in (500, 502, 503)
    assert HTTP.get(f"{emu.url}/openapi.json").status_code == 200


def test_reset_drops_the_connection_without_a_response(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=50)
    tok = token(emu)
    _put_faults(emu, reset_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        _get(emu, tok)
    _put_faults(emu, reset_rate=0.5)
    outcomes: Counter[str] = Counter()
    for _ in range(40):
        try:
            outcomes[str(_get(emu, tok).status_code)] += 1
        except httpx.RemoteProtocolError:
            outcomes["dropped"] += 1
    assert outcomes["dropped"] and outcomes["200"]
    _put_faults(emu)
    assert _get(emu, tok).status_code == 200  # the server is still healthy


def test_latency_does_not_serialise_requests(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=50)
    tok = token(emu)
    _put_faults(emu, latency_ms=400)
    started = time.monotonic()
    assert _get(emu, tok).status_code == 200
    single = time.monotonic() - started
    assert single >= 0.4
    results: list[int] = []

    def call() -> None:
        with httpx.Client() as own:  # one connection each, so the requests really overlap
            results.append(
                own.get(
                    emu.url + paths(emu.customer_id)["alerts"],
                    headers={"Authorization": f"Bearer {tok}"},
                ).status_code
            )

    threads = [threading.Thread(target=call) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    together = time.monotonic() - started  # includes making the 8 clients
    assert results == [200] * 8
    assert together < 0.4 * 8 * 0.6  # the waits overlap (serialised would take 3.2 s)
    admin_started = time.monotonic()
    HTTP.get(f"{emu.url}/_emulator/stats")
    assert time.monotonic() - admin_started < 0.4  # admin is not delayed


def test_short_token_ttl_is_advertised_and_enforced(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=50)
    _put_faults(emu, token_ttl=1)
    grant = HTTP.post(
        f"{emu.url}/iroh/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(emu.client_id, emu.client_password),
    ).json()
    assert grant["expires_in"] == 1
    assert _get(emu, grant["access_token"]).status_code == 200
    time.sleep(1.1)
    assert _get(emu, grant["access_token"]).status_code == 401


def test_fault_settings_are_validated(emulator: RunningEmulator) -> None:
    for bad in ({"error_rate": 2}, {"latency_ms": -1}, {"unknown": 1}, {"token_ttl": 0}):
        response = HTTP.put(f"{emulator.url}/_emulator/faults", json=bad)
        assert response.status_code == 400
    current = HTTP.get(f"{emulator.url}/_emulator/faults").json()
    assert current["error_rate"] == 0 and current["token_ttl"] == 600


def test_fault_draws_are_seeded(make_emulator: Callable[..., RunningEmulator]) -> None:
    patterns = []
    for _ in range(2):
        emu = make_emulator(events=20, seed=5, error_rate=0.5)
        with httpx.Client() as http:
            codes = []
            for _ in range(20):
                codes.append(http.get(f"{emu.url}/auth/api-clients/me").status_code)
        patterns.append(codes)
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) - {401}  # some were faulted, some reached the handler
