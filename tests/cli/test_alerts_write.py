"""``gta alerts status``, ``note`` and ``close`` on the emulator: what changed, and what not."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.helpers import Gta, sdk

from gta.emulator import RunningEmulator


def _alerts(running: RunningEmulator) -> list[dict[str, Any]]:
    with sdk(running) as client:
        return list(client.alerts.list().raw())


def _alert(running: RunningEmulator, alert_id: str) -> dict[str, Any]:
    with sdk(running) as client:
        return {a["id"]: a for a in client.alerts.search([alert_id]).raw()}[alert_id]


def _new_ids(running: RunningEmulator, count: int) -> list[str]:
    ids = [a["id"] for a in _alerts(running) if a["status"]["value"] == "New"]
    assert len(ids) >= count
    return ids[:count]


def test_status_sets_each_alert_and_reports_failures(gta: Gta, fresh_emu: RunningEmulator) -> None:
    first, second = _new_ids(fresh_emu, 2)
    run = gta(
        "alerts", "status", first, second[:12], "f" * 64, "--set", "Closed",
        "--reason", "FalsePositive", "--note", "duplicate of INC-1", env=fresh_emu.env(),
    )  # fmt: skip
    assert run.code == 1
    assert run.err == "error: 1 of 3 alerts failed\n"
    assert f"ok     {first}: Closed (FalsePositive), note 'duplicate of INC-1'" in run.out
    assert f"failed {'f' * 64}: not found" in run.out
    for alert_id in (first, second):
        alert = _alert(fresh_emu, alert_id)
        assert alert["status"] == {"value": "Closed", "closingReasons": ["FalsePositive"]}
        assert alert["note"] == "duplicate of INC-1"
    reopened = gta("alerts", "status", first, "--set", "Open", env=fresh_emu.env())
    assert reopened.code == 0 and _alert(fresh_emu, first)["status"]["value"] == "Open"
    misuse = gta("alerts", "status", first, "--set", "Open", "--reason", "X", env=fresh_emu.env())
    assert misuse.code == 2 and misuse.err == "error: --reason is only valid with --set Closed\n"


def test_note_on_a_new_alert_warns_and_open_moves_it(gta: Gta, fresh_emu: RunningEmulator) -> None:
    warned_id, opened_id = _new_ids(fresh_emu, 2)
    warned = gta("alerts", "note", warned_id, "first look", env=fresh_emu.env())
    assert warned.code == 0, warned.both
    assert warned.err.startswith(f"warning: alert {warned_id} is New: its note may be deleted")
    assert "--open" in warned.err
    assert _alert(fresh_emu, warned_id)["note"] == "first look"
    assert _alert(fresh_emu, warned_id)["status"]["value"] == "New"

    opened = gta("alerts", "note", opened_id, "kept", "--open", env=fresh_emu.env())
    assert opened.code == 0 and opened.err == ""
    after = _alert(fresh_emu, opened_id)
    assert after["note"] == "kept" and after["status"]["value"] == "Open"

    deleted = gta("alerts", "note", opened_id, "--delete", env=fresh_emu.env())
    assert deleted.code == 0, deleted.both
    assert not _alert(fresh_emu, opened_id)["note"]
    both = gta("alerts", "note", opened_id, "text", "--delete", env=fresh_emu.env())
    assert both.code == 2


def test_bulk_close_dry_run_confirmation_and_yes(
    gta: Gta, fresh_emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    low_new = {
        a["id"] for a in _alerts(fresh_emu) if a["risk"] == "Low" and a["status"]["value"] == "New"
    }
    assert low_new
    before = {a["id"]: a["status"] for a in _alerts(fresh_emu)}
    args = ("alerts", "close", "--risk", "Low", "--status", "New", "--triggered-before", "1d")

    dry = gta(*args, "--dry-run", env=fresh_emu.env())
    assert dry.code == 0, dry.both
    assert f"would close {len(low_new)} alert{'' if len(low_new) == 1 else 's'}; nothing" in dry.out
    no_terminal = gta(*args, input="y\n", env=fresh_emu.env())
    assert no_terminal.code == 2 and "refusing without --yes" in no_terminal.err
    with monkeypatch.context() as patch:  # a person at a terminal who answers no
        patch.setattr("gta.cli._confirm._interactive", lambda: True)
        refused = gta(*args, input="n\n", env=fresh_emu.env())
    assert refused.code == 1 and "not confirmed" in refused.err
    assert {a["id"]: a["status"] for a in _alerts(fresh_emu)} == before

    done = gta(*args, "--reason", "Other", "--yes", env=fresh_emu.env())
    assert done.code == 0, done.both
    assert done.out.count("ok     ") == len(low_new)
    after = {a["id"]: a for a in _alerts(fresh_emu)}
    for alert_id, alert in after.items():
        if alert_id in low_new:
            assert alert["status"] == {"value": "Closed", "closingReasons": ["Other"]}
        else:
            assert alert["status"] == before[alert_id]
    nothing = gta(*args, "--yes", env=fresh_emu.env())
    assert nothing.code == 0 and "no matching alerts" in nothing.out
    unfiltered = gta("alerts", "close", "--yes", env=fresh_emu.env())
    assert unfiltered.code == 2 and "at least one filter" in unfiltered.err
