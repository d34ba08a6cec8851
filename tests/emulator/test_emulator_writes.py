"""Alert writes: status, note, note deletion; validation; modifiedAt bumps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from emu_http import client, paths

from gta.emulator import RunningEmulator


@pytest.fixture
def writable(make_emulator: Callable[..., RunningEmulator]) -> Iterator[tuple[httpx.Client, str]]:
    emu = make_emulator(events=300)
    with client(emu) as http:
        yield http, paths(emu.customer_id)["alerts"]


def _first_alert(http: httpx.Client, base: str, status: str = "New") -> dict[str, Any]:
    items = http.get(base, params={"size": 1000}).json()["items"]
    alert: dict[str, Any] = next(a for a in items if a["status"]["value"] == status)
    return alert


def test_status_change_returns_updated_alert(writable: tuple[httpx.Client, str]) -> None:
    http, base = writable
    alert = _first_alert(http, base)
    response = http.patch(f"{base}/{alert['id']}/status", json={"status": {"value": "Open"}})
    assert response.status_code == 200
    updated = response.json()
    assert updated["id"] == alert["id"]
    assert updated["status"] == {"value": "Open", "closingReasons": None}
    assert updated["modifiedAt"] > alert["modifiedAt"]
    assert http.get(f"{base}/{alert['id']}").json() == updated
    closed = http.patch(
        f"{base}/{alert['id']}/status",
        json={"status": {"value": "Closed", "closingReasons": ["FalsePositive"]}},
    ).json()
    assert closed["status"] == {"value": "Closed", "closingReasons": ["FalsePositive"]}
    assert closed["modifiedAt"] >= updated["modifiedAt"]
    reopened = http.patch(f"{base}/{alert['id']}/status", json={"status": {"value": "New"}})
    assert reopened.json()["status"]["value"] == "New"


def test_note_set_and_delete(writable: tuple[httpx.Client, str]) -> None:
    http, base = writable
    alert = _first_alert(http, base)
    noted = http.patch(f"{base}/{alert['id']}/note", json={"note": "INC0001 \u2013 ünïcode"})
    assert noted.status_code == 200
    assert noted.json()["note"] == "INC0001 \u2013 ünïcode"
    assert noted.json()["modifiedAt"] > alert["modifiedAt"]
    deleted = http.delete(f"{base}/{alert['id']}/note")
    assert deleted.status_code == 204 and deleted.content == b""
    after = http.get(f"{base}/{alert['id']}").json()
    assert after["note"] is None
    assert after["modifiedAt"] >= noted.json()["modifiedAt"]


def test_modified_after_sees_the_write(writable: tuple[httpx.Client, str]) -> None:
    http, base = writable
    alert = _first_alert(http, base)
    newest = max(a["modifiedAt"] for a in http.get(base).json()["items"])
    assert http.get(base, params={"modifiedAfter": newest}).json()["items"] == []
    http.patch(f"{base}/{alert['id']}/note", json={"note": "seen"})
    changed = http.get(base, params={"modifiedAfter": newest}).json()["items"]
    assert [a["id"] for a in changed] == [alert["id"]]


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("status", {"status": {"value": "Resolved"}}),
        ("status", {"status": {"value": "Open", "closingReasons": ["Other"]}}),
        ("status", {"status": {"value": "Closed", "closingReasons": "Other"}}),
        ("status", {"status": "Open"}),
        ("status", {"state": "Remediated"}),
        ("status", {}),
        ("note", {"note": 5}),
        ("note", {}),
        ("note", {"note": "x" * 10_001}),
    ],
)
def test_bad_write_bodies_are_400(
    writable: tuple[httpx.Client, str], suffix: str, body: dict[str, Any]
) -> None:
    http, base = writable
    alert = _first_alert(http, base)
    response = http.patch(f"{base}/{alert['id']}/{suffix}", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert http.get(f"{base}/{alert['id']}").json() == alert  # nothing changed


@pytest.mark.parametrize("method", ["patch-status", "patch-note", "delete-note"])
def test_writes_to_unknown_alert_are_404(writable: tuple[httpx.Client, str], method: str) -> None:
    http, base = writable
    url = f"{base}/{'a' * 64}/{method.split('-')[1]}"
    if method == "patch-status":
        response = http.patch(url, json={"status": {"value": "Open"}})
    elif method == "patch-note":
        response = http.patch(url, json={"note": "x"})
    else:
        response = http.delete(url)
    assert response.status_code == 404
    assert response.json()["status"] == 404
