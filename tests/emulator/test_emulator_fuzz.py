"""An OpenAPI-driven fuzzer (schemathesis) over HTTP on loopback: no 5xx, responses as documented.

The emulator's own ``/openapi.json`` drives it, loaded with ``from_url``; cases go through real
HTTP (``case.call_and_validate``), never an in-process ASGI client. Faults are off. The fault
switches and the activity generator are left out: they are test controls, not API, and fuzzing
them would switch faults on (5xx on purpose) or create millions of events.

schemathesis' pytest plugin does not work with this pytest, so each operation's hypothesis
strategy is driven directly, in positive (schema-valid) and negative (invalid) modes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import schemathesis
from emu_http import HTTP
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from gta.emulator import EmulatorSettings, RunningEmulator, run_in_thread

EXAMPLES = {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 45}
MIN_CASES = 2_000
EXCLUDED = "^/_emulator/(faults|activity)"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


class TokenHook:
    """Fetches a client-credentials token from the emulator and renews it before expiry."""

    def __init__(self, emu: RunningEmulator) -> None:
        self.emu = emu
        self._token = ""
        self._expires = 0.0

    def authorization(self) -> str:
        if time.monotonic() >= self._expires:
            grant = HTTP.post(
                f"{self.emu.url}/iroh/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.emu.client_id, self.emu.client_password),
            ).json()
            self._token = grant["access_token"]
            self._expires = time.monotonic() + grant["expires_in"] / 2
        return f"Bearer {self._token}"

    def apply(self, case: schemathesis.Case) -> None:
        if case.path == "/iroh/oauth2/token":
            return  # the token endpoint takes Basic client credentials, fuzzed as they come
        case.headers = {**(case.headers or {}), "Authorization": self.authorization()}


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[RunningEmulator]:
    with run_in_thread(EmulatorSettings(seed=3, events=300)) as emu:
        yield emu


@pytest.mark.slow
def test_fuzzer_finds_no_server_error(fuzz_target: RunningEmulator) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_target.url}/openapi.json").exclude(
        path_regex=EXCLUDED
    )
    hook = TokenHook(fuzz_target)
    count = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    real_alert = HTTP.get(
        f"{fuzz_target.url}/alert-management/customer/{fuzz_target.customer_id}/alerts",
        headers={"Authorization": hook.authorization()},
        params={"size": 1},
    ).json()["items"][0]["id"]
    for operation in operations:
        passes = list(EXAMPLES.items())
        if "{alertId}" in operation.path:
            passes.append((GenerationMode.POSITIVE, EXAMPLES[GenerationMode.POSITIVE]))
        for index, (mode, examples) in enumerate(passes):
            # The real customer id in the path, so cases reach the handlers instead of a 403
            # (tenant isolation has its own tests); a third pass writes to a real alert.
            fixed: dict[str, str] = {}
            if "{customerId}" in operation.path:
                fixed["customerId"] = fuzz_target.customer_id
            if index == 2:
                fixed["alertId"] = real_alert
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                nonlocal count
                count += 1
                hook.apply(case)
                case.call_and_validate(base_url=fuzz_target.url, checks=CHECKS)

            started, before = time.monotonic(), count
            try:
                run()
            except Unsatisfiable:
                # e.g. no invalid input exists for an operation without parameters
                assert mode is GenerationMode.NEGATIVE
            print(
                f"{operation.label} {mode.value}: {count - before} cases"
                f" in {time.monotonic() - started:.1f} s"
            )
    print(f"schemathesis: {count} cases over {len(operations)} operations")
    assert count >= MIN_CASES
    stats = HTTP.get(f"{fuzz_target.url}/_emulator/stats").json()
    assert stats["counts"]["events"] >= 300  # the emulator is still serving its data
