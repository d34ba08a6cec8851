"""Contract: the SDK survives every fault the emulator injects and ends with the same items.

Each test reads a collection fault-free first, switches one fault on, reads it again through a
fresh client, and compares. The emulator's stats show the faults really happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import gta
from gta.emulator import RunningEmulator


def _all_enriched(emu: RunningEmulator, size: int) -> list[dict[str, Any]]:
    with gta.Client.from_env(emu.env(), max_retries=20) as sdk:
        return list(sdk.events.enriched(size=size).raw())


def _all_flows(emu: RunningEmulator, size: int) -> list[dict[str, Any]]:
    with gta.Client.from_env(emu.env(), max_retries=20) as sdk:
        return list(sdk.flows.search(size=size).raw())


def _faults(emu: RunningEmulator, **faults: object) -> None:
    httpx.put(f"{emu.url}/_emulator/faults", json=faults).raise_for_status()


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.15},
        {"rate_limit_rate": 0.25, "retry_after": 0},
        {"reset_rate": 0.25},
        {"error_rate": 0.1, "rate_limit_rate": 0.1, "reset_rate": 0.1, "retry_after": 0},
    ],
    ids=["5xx", "429", "reset", "mixed"],
)
def test_same_items_under_faults(
    make_emulator: Callable[..., RunningEmulator], faults: dict[str, object]
) -> None:
    emu = make_emulator(events=800)
    clean = _all_enriched(emu, 100)
    clean_flows = _all_flows(emu, 400)
    _faults(emu, **faults)
    assert _all_enriched(emu, 100) == clean
    assert _all_flows(emu, 400) == clean_flows  # POST searches are retried too


def test_latency_is_survived(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=600)
    clean = _all_enriched(emu, 200)
    _faults(emu, latency_ms=150)
    assert _all_enriched(emu, 200) == clean


def test_token_expiry_mid_iteration(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=1000, token_ttl=1, latency_ms=150)
    issued_before = httpx.get(f"{emu.url}/_emulator/stats").json()["tokensIssued"]
    with gta.Client.from_env(emu.env()) as sdk:
        pager = sdk.events.enriched(size=50).raw()
        items = list(pager)  # 20 pages x 150 ms: the 1 s token expires several times
    assert len(items) == 1000
    assert len({e["id"] for e in items}) == 1000
    issued = httpx.get(f"{emu.url}/_emulator/stats").json()["tokensIssued"] - issued_before
    assert issued >= 3
