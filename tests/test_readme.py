"""README.md's examples run as written: the tenant example against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
from tests.cli.test_walkthrough import walkthrough_commands

from gta.emulator import RunningEmulator

ROOT = Path(__file__).resolve().parents[1]


def test_quick_start_names_the_demo_and_the_test_command() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = walkthrough_commands(text, "Quick start")
    assert quick_start is not None
    assert "gta demo" in quick_start
    assert "python -m pytest" in quick_start
    # .ci/run must call the README's test command.
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_tenant_example_runs_against_the_emulator(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = walkthrough_commands(text, "Use it with your tenant")
    assert block is not None
    # The `export` lines hold placeholders for a real tenant; the emulator's values replace them.
    commands = "\n".join(
        line for line in block.splitlines() if not line.startswith("export SECUREX_")
    )
    shim = tmp_path / "bin" / "gta"
    shim.parent.mkdir()
    shim.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from gta.cli import main; main()" "$@"\n'
    )
    shim.chmod(0o755)
    env = {
        **os.environ,
        **emulator.env(),
        "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{commands}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert emulator.customer_id in result.stdout
    rows = [orjson.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().splitlines()]
    assert rows
    assert {row["stream"] for row in rows} == {"events"}
    assert all("eventId" in row and "recordId" in row for row in rows)
