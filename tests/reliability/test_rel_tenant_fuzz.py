"""Guarantee 6 on the emulator side: tenant isolation and token checks under an OpenAPI fuzzer.

Schemathesis 4 generates requests for every customer-scoped operation of the emulator's own
OpenAPI document (loopback HTTP, ``--customers 2``). Each case is sent three ways: with customer
A's token to customer B's path (must be 401/403/404, never 2xx), with no token and with a
forged token (must be 401). B's alerts are compared before and after: nothing A sent changed
them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.reliability.rel_support import record_figures

from gta.emulator import RunningEmulator

pytestmark = pytest.mark.reliability

EXAMPLES = 12  # per operation: about 13 customer operations x 3 sends


def _token(emu: RunningEmulator, customer: int) -> str:
    who = emu.customers[customer]
    body = httpx.post(
        f"{emu.url}/iroh/oauth2/token",
        auth=(who.client_id, who.client_password),
        data={"grant_type": "client_credentials"},
    ).json()
    return str(body["access_token"])


def _b_alerts(emu: RunningEmulator, token: str) -> list[Any]:
    cid = emu.customers[1].customer_id
    items: list[Any] = []
    after = None
    while True:
        params: dict[str, Any] = {"size": 1000} | ({"after": after} if after else {})
        body = httpx.get(
            f"{emu.url}/alert-management/customer/{cid}/alerts",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        items += body["items"]
        if not body["items"] or not body["pageInfo"]["hasNextPage"]:
            return items
        after = body["pageInfo"]["endCursor"]


def _sender(
    http: httpx.Client,
    operation: Any,
    b_cid: str,
    tokens: tuple[str, str],
    statuses: Counter[str],
    violations: list[str],
) -> Callable[[], None]:
    """A hypothesis test that sends each generated case to B's path three ways."""
    token_a, token_b = tokens

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Any) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "customerId": b_cid}
        path = operation.path.format(**case.path_parameters)
        for how, auth in (
            ("a-token", f"Bearer {token_a}"),
            ("no-token", None),
            ("forged-token", "Bearer forged-" + token_b[7:]),
        ):
            headers = {"Authorization": auth} if auth else {}
            response = http.request(
                operation.method.upper(),
                path,
                params=case.query if isinstance(case.query, dict) else None,
                json=case.body if isinstance(case.body, dict | list | str | int | float) else None,
                headers=headers,
            )
            status = response.status_code
            statuses[f"{how}:{status}"] += 1
            allowed = (401, 403, 404) if how == "a-token" else (401,)
            if status not in allowed:
                violations.append(f"{how} {operation.method.upper()} {path} -> {status}")

    return send


def test_other_tenants_paths_never_answer_2xx(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(seed=4, events=300, customers=2)
    token_a, token_b = _token(emu, 0), _token(emu, 1)
    b_cid = emu.customers[1].customer_id
    before = _b_alerts(emu, token_b)
    schema = schemathesis.openapi.from_url(f"{emu.url}/openapi.json")
    statuses: Counter[str] = Counter()
    violations: list[str] = []
    operations = 0
    with httpx.Client(base_url=emu.url, timeout=30) as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            if "{customerId}" not in operation.path:
                continue
            operations += 1

            _sender(http, operation, b_cid, (token_a, token_b), statuses, violations)()
    after = _b_alerts(emu, token_b)
    sent = sum(statuses.values())
    record_figures(
        "tenant_fuzz",
        {
            "operations": operations,
            "requests": sent,
            "statuses": dict(statuses),
            "violations": violations[:20],
            "violation_count": len(violations),
            "b_alerts_unchanged": after == before,
        },
    )
    assert operations >= 10 and sent >= 200
    assert not [v for v in violations if " -> 2" in v], violations[:10]
    assert not violations, violations[:10]
    assert after == before, "customer A's requests changed customer B's alerts"
