"""Rendering with fake alerts: fixed script columns, an 80-column table, the detail view."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from rich.console import Console

from gta.cli._render import ALERT_COLUMNS, alert_row, alert_table, alert_view, write_rows

ALERT: dict[str, Any] = {
    "id": "b641415c" + "0" * 56,
    "risk": "High",
    "status": {"value": "Closed", "closingReasons": ["FalsePositive", "Duplicate"]},
    "etaFlag": "EtaBasedDetection",
    "note": "seen before, see ticket 42",
    "triggeredAt": "2026-01-31T12:34:56.789Z",
    "modifiedAt": "2026-02-01T08:00:00.000Z",
    "state": "deprecated",
    "somethingNew": {"x": 1},
}


def test_alert_row_has_the_stable_columns_only() -> None:
    row = alert_row(ALERT)
    assert tuple(row) == ALERT_COLUMNS
    assert row["status"] == "Closed"
    assert row["closingReasons"] == ["FalsePositive", "Duplicate"]


def test_alert_row_tolerates_missing_and_odd_fields() -> None:
    row = alert_row({"id": "x", "status": "Open"})
    assert row["status"] == "Open"
    assert row["risk"] is None and row["closingReasons"] is None


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_script_formats_carry_the_same_columns(fmt: str) -> None:
    rows = [alert_row(ALERT), alert_row({**ALERT, "id": "c" * 64, "note": None})]
    out = io.StringIO()
    assert write_rows(out, iter(rows), fmt) == 2
    text = out.getvalue()
    if fmt == "json":
        parsed = json.loads(text)
    elif fmt == "jsonl":
        parsed = [json.loads(line) for line in text.splitlines()]
    else:
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert list(parsed[0]) == list(ALERT_COLUMNS)
        assert parsed[0]["closingReasons"] == "FalsePositive;Duplicate"
        assert parsed[1]["note"] == ""
        return
    assert [list(item) for item in parsed] == [list(ALERT_COLUMNS)] * 2
    assert parsed[1]["note"] is None


def test_empty_json_is_an_empty_array() -> None:
    out = io.StringIO()
    write_rows(out, iter([]), "json")
    assert json.loads(out.getvalue()) == []


def test_table_fits_80_columns_and_colours_risk() -> None:
    console = Console(width=80, record=True, force_terminal=True, color_system="truecolor")
    rows = [alert_row({**ALERT, "risk": risk}) for risk in ("Critical", "High", "Medium", "Low")]
    console.print(alert_table(rows))
    text = console.export_text(clear=False)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "b641415c0000" in text and "Critical" in text and "2026-01-31 12:34" in text
    styled = console.export_text(styles=True)
    assert "\x1b[1;31mHigh" in styled  # bold red


def test_alert_view_joins_detections_records_assets_events() -> None:
    detection = {
        "id": "td-1",
        "affectedAssetId": "asset-1",
        "threatIntelRecordId": "rec-1",
        "confidence": "High",
        "detectedAt": "2026-01-30T10:00:00Z",
    }
    records = {"rec-1": {"id": "rec-1", "title": "Emotet", "category": "Malware", "severity": 90}}
    assets = {"asset-1": {"id": "asset-1", "assumedOwner": "alice@example.com"}}
    events = [
        {"title": "C2 beacon", "detectedAt": "2026-01-31T10:00:00Z", "affectedAssetId": "asset-1"}
    ]
    console = Console(width=100, record=True)
    console.print(alert_view(ALERT, [detection], records, assets, events))
    text = console.export_text()
    for expected in ("Emotet", "Malware", "alice@example.com", "C2 beacon", "FalsePositive"):
        assert expected in text
    assert "threat detections (1)" in text and "most recent events (1)" in text
