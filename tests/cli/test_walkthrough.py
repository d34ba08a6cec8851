"""The triage walkthrough in docs/triage.md (and README.md) runs, as written, on the emulator."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.helpers import sdk

from gta.emulator import RunningEmulator

ROOT = Path(__file__).resolve().parents[2]
# (document, heading that starts the section): the lead copies the section into the README.
SOURCES = [("docs/triage.md", "Walkthrough"), ("README.md", "Triage walkthrough")]


def walkthrough_commands(text: str, heading: str) -> str | None:
    """The bash code blocks of the section under *heading* (any level), or None if absent."""
    match = re.search(rf"^(#+) +{re.escape(heading)} *$", text, re.MULTILINE | re.IGNORECASE)
    if match is None:
        return None
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    section = rest[: end.start()] if end else rest
    blocks = re.findall(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    return "\n".join(blocks) if blocks else None


def test_walkthrough_parser_finds_blocks_of_its_section_only() -> None:
    text = (
        "# A\n```bash\nno\n```\n## Walkthrough\n```bash\nyes 1\n```\ntext\n"
        "```bash\nyes 2\n```\n### Sub\n```bash\nyes 3\n```\n## B\n```bash\nno\n```\n"
    )
    assert walkthrough_commands(text, "Walkthrough") == "yes 1\n\nyes 2\n\nyes 3\n"
    assert walkthrough_commands(text, "Missing") is None


@pytest.mark.parametrize(("document", "heading"), SOURCES)
def test_walkthrough_runs_on_the_emulator(
    document: str, heading: str, fresh_emu: RunningEmulator, tmp_path: Path
) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    commands = walkthrough_commands(text, heading)
    if commands is None:
        pytest.fail(f"{document} has no '{heading}' section with bash blocks")
    assert "gta alerts" in commands
    shim = tmp_path / "bin" / "gta"  # `gta` on PATH, running this interpreter's package
    shim.parent.mkdir()
    shim.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from gta.cli import main; main()" "$@"\n'
    )
    shim.chmod(0o755)
    env = {
        **os.environ,
        **fresh_emu.env(),
        "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GTA_CONFIG_DIR": str(tmp_path / "config"),
    }
    script = f'set -euo pipefail\n{commands}\necho "WALKTHROUGH_ID=$ID"\n'
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    alert_id = result.stdout.rsplit("WALKTHROUGH_ID=", 1)[1].strip()
    with sdk(fresh_emu) as client:
        alert = {a["id"]: a for a in client.alerts.search([alert_id]).raw()}[alert_id]
    assert alert["status"] == {"value": "Closed", "closingReasons": ["FalsePositive"]}
    assert alert["note"]
    with (work / "open-alerts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["status"] == "Open" for row in rows)
