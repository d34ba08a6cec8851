"""Contract: alert writes and removal through the SDK against the emulator."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import gta
from gta.emulator import RunningEmulator
from gta.errors import BadRequestError, NotFoundError


def test_status_note_and_delete_note(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=300)
    with gta.Client.from_env(emu.env()) as sdk:
        alert = next(a for a in sdk.alerts.list() if a.status and a.status.value == "New")
        assert alert.id is not None and alert.modified_at is not None
        opened = sdk.alerts.set_status(alert.id, "Open")
        assert opened.status is not None and opened.status.value == "Open"
        assert opened.modified_at is not None and opened.modified_at > alert.modified_at
        closed = sdk.alerts.set_status(alert.id, "Closed", closing_reasons=["FalsePositive"])
        assert closed.status is not None and closed.status.closing_reasons == ["FalsePositive"]
        noted = sdk.alerts.set_note(alert.id, "triaged by the SOC")
        assert noted.note == "triaged by the SOC"
        assert sdk.alerts.delete_note(alert.id) is None
        again = sdk.alerts.get(alert.id)
        assert again.note is None and again.status is not None and again.status.value == "Closed"
        with pytest.raises(BadRequestError):
            sdk.alerts.set_status(alert.id, "Resolved")
        with pytest.raises(NotFoundError):
            sdk.alerts.set_note("f" * 64, "nobody")


def test_removed_alert_is_not_found(make_emulator: Callable[..., RunningEmulator]) -> None:
    emu = make_emulator(events=200)
    with gta.Client.from_env(emu.env()) as sdk:
        alert_ids = [a.id for a in sdk.alerts.list()]
        assert alert_ids
        httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 80}).raise_for_status()
        assert list(sdk.alerts.list()) == []
        with pytest.raises(NotFoundError):
            sdk.alerts.get(str(alert_ids[0]))
        assert list(sdk.alerts.search([str(i) for i in alert_ids])) == []


def test_sync_resumes_from_saved_msn_after_activity(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = make_emulator(events=500)
    with gta.Client.from_env(emu.env()) as sdk:
        pager = sdk.events.enriched(size=200).raw()
        first = list(pager)
        saved = pager.end_cursor
        assert saved is not None and len(first) == 500
        change = httpx.post(
            f"{emu.url}/_emulator/activity", json={"new_events": 20, "updated_events": 10}
        ).json()
        resumed = sdk.events.enriched(after=saved).raw()
        items = list(resumed)
        assert sorted(e["id"] for e in items) == sorted(
            change["newEventIds"] + change["updatedEventIds"]
        )
        assert resumed.end_cursor is not None
        assert change["minMsn"] <= int(resumed.end_cursor) <= change["maxMsn"]
        nothing = sdk.events.enriched(after=resumed.end_cursor).raw()
        assert list(nothing) == []
        assert nothing.end_cursor == resumed.end_cursor  # an empty page keeps the cursor
