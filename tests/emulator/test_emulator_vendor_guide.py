"""A client written only from the vendor's guide works against the emulator unchanged.

``vendor_guide_client`` follows the vendor's example scripts (requests, their URL building,
their paging, their variable names); only host names point at the emulator.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from emu_http import HTTP, client, paths, walk

from gta.emulator import RunningEmulator


def _load(monkeypatch: pytest.MonkeyPatch, emu: RunningEmulator, cursor_file: Path) -> ModuleType:
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    import vendor_guide_client

    module = importlib.reload(vendor_guide_client)  # its settings are read at import
    monkeypatch.setattr(module, "EVENTS_END_CURSOR_FILENAME", str(cursor_file))
    return module


def _rows(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _expected_rows(http: httpx.Client, p: dict[str, str], events: list[dict[str, Any]]) -> int:
    """Rows the script prints: its for...else adds one per detection and one per event."""
    td_ids = sorted({t for e in events for t in e["threatDetectionIds"]})
    tds: dict[str, dict[str, Any]] = {}
    for i in range(0, len(td_ids), 1000):
        body = {"filter": {"threatDetectionIds": td_ids[i : i + 1000]}}
        tds.update({t["id"]: t for t in walk(http, p["tds_search"], body=body)})
    total = 0
    for event in events:
        total += 1
        for td_id in event["threatDetectionIds"]:
            total += 1 + (len(tds[td_id]["alertIds"]) if td_id in tds else 0)
    return total


@pytest.fixture
def http_of() -> Iterator[Callable[[RunningEmulator], httpx.Client]]:
    made: list[httpx.Client] = []

    def make(emu: RunningEmulator) -> httpx.Client:
        made.append(client(emu))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_get_all_alerts_follows_next_links(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    http_of: Callable[[RunningEmulator], httpx.Client],
) -> None:
    vendor = _load(monkeypatch, emulator, tmp_path / "cursor.txt")
    alerts = vendor.get_all_alerts()
    expected = walk(http_of(emulator), paths(emulator.customer_id)["alerts"])
    assert alerts == expected and len(alerts) > 100


def test_security_annotations_script_end_to_end(
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    http_of: Callable[[RunningEmulator], httpx.Client],
) -> None:
    emu = make_emulator(events=1200)
    http = http_of(emu)
    p = paths(emu.customer_id)
    cursor_file = tmp_path / "events_end_cursor.txt"
    vendor = _load(monkeypatch, emu, cursor_file)

    vendor.main()
    rows = _rows(capsys.readouterr().out)
    events = walk(http, p["enriched"])
    assert len(rows) == _expected_rows(http, p, events)
    assert {r["eventId"] for r in rows} == {e["id"] for e in events}
    with_alert = [r for r in rows if "alertId" in r]
    assert with_alert and all(r["alertState"] and r["risk"] for r in with_alert)
    assert all(r["threatTitle"] and r["severity"] for r in with_alert)
    assert any("securityAnnotationId" in r for r in rows)
    assert any("assumedOwner" in r for r in rows)
    saved = cursor_file.read_text()
    assert saved == str(int(saved))  # the MSN of the last event

    change = HTTP.post(
        f"{emu.url}/_emulator/activity", json={"new_events": 15, "updated_events": 5}
    ).json()
    vendor.main()
    second = _rows(capsys.readouterr().out)
    changed = set(change["newEventIds"] + change["updatedEventIds"])
    assert {r["eventId"] for r in second} == changed
    assert int(cursor_file.read_text()) > int(saved)
