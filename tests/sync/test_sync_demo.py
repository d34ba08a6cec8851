"""``gta demo`` end to end at a small scale: two syncs, the second only what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gta.cli import main
from gta.sync._demo import ACTIVITY, run_demo


def test_demo_second_sync_carries_only_the_activity(tmp_path: Path) -> None:
    figures = run_demo(tmp_path, events=1000, quiet=True)
    first = {r.stream: r for r in figures["first"]}
    second = {r.stream: r for r in figures["second"]}
    assert first["events"].fetched == 1000
    assert second["events"].fetched == ACTIVITY["new_events"] + ACTIVITY["updated_events"]
    assert second["flows"].fetched == figures["activity"]["newFlowCount"]
    assert sum(first["alerts"].risk.values()) == first["alerts"].records > 0
    for stream in ("events", "alerts", "threat-detections", "flows"):
        lines = (tmp_path / f"{stream}.jsonl").read_bytes().count(b"\n")
        assert lines == first[stream].records + second[stream].records


def test_demo_command_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--dir", str(tmp_path / "d"), "--events", "500"])
    out = capsys.readouterr().out
    assert "first sync" in out and "second sync" in out and "alerts by risk and status" in out
    assert (tmp_path / "d" / "state.db").exists()
