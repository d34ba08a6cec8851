"""The watch loop survives token expiry and injected server errors on the emulator."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest
from tests._support.clients import emulator_client
from tests.cli.helpers import Gta

from gta.cli._alert_ops import AlertFilter
from gta.cli._watch import watch
from gta.emulator import RunningEmulator


def test_watch_keeps_going_through_token_expiry_and_5xx(
    fresh_emu: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # No SDK retries, so every injected 5xx reaches the watch loop, which must log and go on.
    client = emulator_client(fresh_emu, max_retries=0)
    # Tokens of 1 s (renewed at 0.5 s) and 30 % of requests failing, the token's included.
    faults = {"token_ttl": 1, "error_rate": 0.3}
    assert httpx.put(f"{fresh_emu.url}/_emulator/faults", json=faults).status_code == 200
    made: dict[str, Any] = {}
    naps = 0

    def sleep(seconds: float) -> None:
        nonlocal naps
        naps += 1
        if naps == 3:  # the baseline is likely done by now; if not, it is still retried
            answer = httpx.post(f"{fresh_emu.url}/_emulator/activity", json={"new_events": 40})
            made.update(answer.json())
        time.sleep(seconds)

    reported: list[dict[str, Any]] = []
    problems: list[str] = []
    with caplog.at_level(logging.WARNING, logger="gta.cli._watch"), client:
        watch(
            client,
            lambda alert, kind: reported.append(alert),
            where=AlertFilter(),
            interval=0.15,
            duration=4.0,
            sleep=sleep,
            on_poll=lambda state, problem: problems.append(problem) if problem else None,
        )
        fetched = client.auth.fetch_count
    assert made["newAlertIds"]
    assert set(made["newAlertIds"]) <= {alert["id"] for alert in reported}
    assert problems, "no poll failed: the fault injection did not happen"
    assert fetched >= 3, "the 1 s tokens were not renewed"
    assert any("poll failed, will retry" in r.getMessage() for r in caplog.records)


def test_live_table_mode_renders_and_stops(gta: Gta, fresh_emu: RunningEmulator) -> None:
    run = gta(
        "alerts", "watch", "--format", "table", "--interval", "0.1s", "--duration", "0.3s",
        env=fresh_emu.env(),
    )  # fmt: skip
    assert run.code == 0, run.both
    assert "0 change(s); watching" in run.out
    bad = gta("alerts", "watch", "--interval", "soon", env=fresh_emu.env())
    assert bad.code == 2 and bad.err.startswith("error: invalid duration 'soon'")
