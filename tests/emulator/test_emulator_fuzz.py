"""An OpenAPI-driven fuzzer (schemathesis) over HTTP on loopback: no 5xx, responses as documented.

The emulator's own ``/openapi.json`` drives it; cases go through real HTTP (``from_url`` and
``case.call``), never through an in-process ASGI client. Faults are off. The fault switches and
the activity generator are left out: they are test controls, not API, and fuzzing them would
switch faults on (5xx on purpose) or create millions of events.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from emu_http import token
from hypothesis import HealthCheck, settings
from schemathesis import checks

from gta.emulator import EmulatorSettings, RunningEmulator, run_in_thread

EXAMPLES_PER_OPERATION = 150
MIN_CASES = 2_000
_counter = {"cases": 0}
_lock = threading.Lock()
_state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[RunningEmulator]:
    with run_in_thread(EmulatorSettings(seed=3, events=300)) as emu:
        _state["headers"] = {"Authorization": f"Bearer {token(emu)}"}
        _state["url"] = emu.url
        yield emu


@pytest.fixture(scope="module")
def api_schema(fuzz_target: RunningEmulator) -> Any:
    schema = schemathesis.openapi.from_url(f"{fuzz_target.url}/openapi.json")
    return schema.exclude(path_regex="^/_emulator/(faults|activity)")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    headers = dict(_state["headers"]) if case.path != "/iroh/oauth2/token" else None
    with _lock:
        _counter["cases"] += 1
    case.call_and_validate(
        base_url=_state["url"],
        headers=headers,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )


@pytest.mark.slow
def test_fuzzer_ran_enough_cases() -> None:
    if _counter["cases"] == 0:
        pytest.skip("the fuzz test did not run in this session")
    print(f"schemathesis cases: {_counter['cases']}")
    assert _counter["cases"] >= MIN_CASES
