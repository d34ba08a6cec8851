"""End to end against the emulator: ``gta export`` checked against an independent traversal.

The expected rows come from plain httpx calls to the emulator (no gta.client, no gta.sync), so a
bug shared by the SDK and the engine cannot hide itself.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sync_raw_api import Key, RawApi

from gta.cli import main
from gta.emulator import RunningEmulator


def export(tmp_path: Path, out: Path, *args: str) -> None:
    try:
        main(
            [
                "export",
                *args,
                "--output",
                str(out),
                "--state",
                str(tmp_path / "state.db"),
                "--quiet",
            ]
        )
    except SystemExit as exc:  # main exits only on failure
        pytest.fail(f"gta export exited with {exc.code}")


def read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def row_key(row: dict[str, Any]) -> Key:
    return row["eventId"], row.get("threatDetectionId"), row.get("alertId")


@pytest.fixture
def emu(make_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    running: RunningEmulator = make_emulator(seed=3, events=3000)
    for name, value in running.env().items():
        monkeypatch.setenv(name, value)
    return running


def test_annotation_export_has_exactly_one_row_per_event_detection_alert(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    export(tmp_path, out, "events", "--schema", "annotation")
    rows = read(out)
    raw = RawApi(emu)
    expected = raw.expected_rows()
    raw.close()
    assert Counter(row_key(r) for r in rows) == expected
    assert max(expected.values()) == 1  # one row each, none of the vendor's duplicates
    assert len({r["recordId"] for r in rows}) == len(rows)
    assert sum(1 for k in expected if k[1] is None) > 0  # contextual events were covered
    assert all(r["indexTime"].endswith("Z") and r["stream"] == "events" for r in rows)
    full = [r for r in rows if "risk" in r]
    assert full and all(r["threatTitle"] and "assumedOwner" in r for r in full)


def test_second_run_delivers_exactly_the_created_and_updated_events(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    export(tmp_path, out, "events")
    first = read(out)
    activity = httpx.post(
        f"{emu.url}/_emulator/activity", json={"new_events": 40, "updated_events": 25}
    ).json()
    second_out = tmp_path / "events-2.jsonl"
    # Same job name as the first run, so the checkpoint carries over to a new file.
    export(tmp_path, second_out, "events", "--job", f"export:annotation:{out}")
    second = read(second_out)
    assert {r["eventId"] for r in second} == set(activity["newEventIds"]) | set(
        activity["updatedEventIds"]
    )
    assert len(activity["updatedEventIds"]) == 25 and len(activity["newEventIds"]) == 40
    # And the row set of the second run equals the independent traversal restricted to them.
    raw = RawApi(emu)
    expected = raw.expected_rows()
    raw.close()
    changed = {r["eventId"] for r in second}
    assert Counter(row_key(r) for r in second) == Counter(
        {k: v for k, v in expected.items() if k[0] in changed}
    )
    # A third run finds nothing new.
    third_out = tmp_path / "events-3.jsonl"
    export(tmp_path, third_out, "events", "--job", f"export:annotation:{out}")
    assert not third_out.exists() or read(third_out) == []
    assert first  # the first run delivered the backlog


def test_all_streams_nested_cover_every_object(emu: RunningEmulator, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    export(tmp_path, out, "all", "--schema", "nested")
    counts = Counter(r["stream"] for r in read(out))
    stats = httpx.get(f"{emu.url}/_emulator/stats").json()["counts"]
    assert counts["events"] == stats["events"]
    assert counts["flows"] == stats["flows"]
    assert counts["threat-detections"] == stats["threatDetections"]
    assert counts["alerts"] == stats["alerts"]


def test_alerts_runs_deliver_every_version_once(emu: RunningEmulator, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    job = ["--job", "alerts-e2e", "--schema", "nested"]
    export(tmp_path, out, "alerts", *job)
    first = read(out)
    httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 60, "updated_events": 40})
    export(tmp_path, out, "alerts", *job)
    delivered = read(out)
    second = delivered[len(first) :]
    raw = RawApi(emu)
    current = {
        (a["id"], a["modifiedAt"])
        for a in raw.pages(f"/alert-management/customer/{raw.cid}/alerts", {})
    }
    raw.close()
    versions = [(r["id"], r["modifiedAt"]) for r in delivered]
    assert current <= set(versions)  # every alert in its current version arrived
    assert len(versions) == len(set(versions))  # and no version twice
    assert second and all(v in current for v in ((r["id"], r["modifiedAt"]) for r in second))
    assert len(second) < len(first)  # the second run is incremental, not a re-read
