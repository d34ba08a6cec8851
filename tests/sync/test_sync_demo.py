"""``gta demo`` end to end at a small scale: two syncs, the second only what changed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gta.sync as sync_package
from gta.cli import main
from gta.cli._demo_cmd import run_emulated_demo
from gta.sync import ACTIVITY


def test_demo_second_sync_carries_only_the_activity(tmp_path: Path) -> None:
    figures = run_emulated_demo(tmp_path / "demo", events=1000, quiet=True)
    first = {r.stream: r for r in figures["first"]}
    second = {r.stream: r for r in figures["second"]}
    assert first["events"].fetched == 1000
    assert second["events"].fetched == ACTIVITY["new_events"] + ACTIVITY["updated_events"]
    assert second["flows"].fetched == figures["activity"]["newFlowCount"]
    assert sum(first["alerts"].risk.values()) == first["alerts"].records > 0
    for stream in ("events", "alerts", "threat-detections", "flows"):
        lines = (tmp_path / "demo" / f"{stream}.jsonl").read_bytes().count(b"\n")
        assert lines == first[stream].records + second[stream].records


def test_demo_command_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--dir", str(tmp_path / "d"), "--events", "500"])
    out = capsys.readouterr().out
    assert "first sync" in out and "second sync" in out and "alerts by risk and status" in out
    assert (tmp_path / "d" / "state.db").exists()


def test_the_sync_package_does_not_depend_on_the_emulator() -> None:
    """The demo's emulator is started by the CLI; nothing under gta.sync imports it."""
    package = Path(sync_package.__file__).parent
    offenders = [
        f"{path.name}: {name}"
        for path in sorted(package.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported(node)
        if name == "gta.emulator" or name.startswith("gta.emulator.")
    ]
    assert offenders == []
    code = "import sys, gta.sync, gta.sync._demo; print('gta.emulator' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    return []


def test_the_demo_tables_right_align_their_numbers() -> None:
    from gta.cli._demo import _alerts_table, _results_table
    from gta.sync import StreamResult

    result = StreamResult(stream="alerts", fetched=3, records=3, seconds=0.5)
    result.status, result.risk, result.pairs = {"New": 3}, {"High": 3}, {("High", "New"): 3}
    table = _results_table("first sync", [result])
    assert [c.justify for c in table.columns] == ["left", "right", "right", "right", "right"]
    assert [c.justify for c in _alerts_table([result]).columns] == ["left", "right", "right"]
