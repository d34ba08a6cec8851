"""The examples in docs/architecture.md, docs/emulator.md and docs/sync.md run as written.

Blocks are chosen by their fence language: ``python`` blocks are executed, ``bash`` blocks run in
bash, ``console`` blocks run their ``$ `` lines (the other lines are the output they show); other
languages (``toml``, ``text``, bare fences) are samples, not programs. Shell examples run against
the emulator that docs/emulator.md's own ``gta emulator serve`` command starts, with the
environment it prints, through a ``gta`` on PATH that runs this checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.cli.test_walkthrough import walkthrough_commands

ROOT = Path(__file__).resolve().parents[1]
PYTHON_DOCS = ["docs/architecture.md", "docs/emulator.md"]
# Sinks that need a service outside this machine (a Splunk indexer, a syslog daemon).
NETWORK_SINK = re.compile(r"--to +(splunk-hec|syslog)\+")


def fenced(text: str, language: str) -> list[str]:
    """The bodies of the blocks fenced as ```language (walkthrough_commands' pattern, any language).

    ``walkthrough_commands`` reads ```bash blocks within one heading's section; a console block's
    output may hold a column-0 ``# `` line, which would end such a section, so whole documents
    are read here by fence language alone.
    """
    return re.findall(rf"^```{re.escape(language)}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def console_commands(block: str) -> list[str]:
    """The commands of a console block: its ``$ `` lines, without the prompt."""
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def _read(doc: str) -> str:
    return (ROOT / doc).read_text(encoding="utf-8")


def test_fenced_and_console_helpers() -> None:
    text = "```console\n$ gta a\nout\n# comment out\n```\n```bash\nb\n```\n```console\n$ c\n```\n"
    blocks = fenced(text, "console")
    assert blocks == ["$ gta a\nout\n# comment out\n", "$ c\n"]
    assert [console_commands(b) for b in blocks] == [["gta a"], ["c"]]
    assert fenced(text, "bash") == ["b\n"]
    assert fenced(text, "toml") == []


@pytest.mark.parametrize("doc", PYTHON_DOCS)
def test_python_examples_run(doc: str) -> None:
    blocks = fenced(_read(doc), "python")
    assert blocks, f"{doc} has no python example"
    for block in blocks:
        exec(compile(block, doc, "exec"), {"__name__": "docs_example"})


@dataclass
class Served:
    """The emulator started by docs/emulator.md's command-line example."""

    expected: list[str]
    printed: list[str]
    env: dict[str, str]
    bin_dir: Path


def _gta_shim(directory: Path) -> Path:
    """A ``gta`` executable that runs this interpreter's package."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "gta"
    shim.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from gta.cli import main; main()" "$@"\n'
    )
    shim.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Run the ``$ gta emulator serve`` line of docs/emulator.md (on a free port, not 8080)."""
    (block,) = fenced(_read("docs/emulator.md"), "console")
    (command,) = console_commands(block)
    assert command.startswith("gta emulator serve") and "--port 8080" in command
    expected = [line for line in block.splitlines() if not line.startswith("$ ")]
    bin_dir = _gta_shim(tmp_path_factory.mktemp("bin"))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        ["bash", "-c", "exec " + command.replace("--port 8080", "--port 0")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        printed = [proc.stdout.readline().rstrip("\n") for _ in expected]
        url = printed[0].split(" on ", 1)[1].split(" ", 1)[0]
        exports = {}
        for line in printed:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].partition("=")
                exports[name] = shlex.split(value)[0]
        # The doc shows port 8080; the run used a free port.
        shown = [line.replace(url, "http://127.0.0.1:8080") for line in printed]
        yield Served(expected, shown, exports, bin_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def _run(script: str, served: Served, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **served.env,
        "PATH": f"{served.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_emulator_command_line_example_prints_what_the_doc_shows(served: Served) -> None:
    assert served.printed == served.expected
    assert served.env["GTA_API_URL"] != "http://127.0.0.1:8080"


def _json_documents(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    out, at = [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        out.append(value)
    return out


def test_emulator_bash_examples_run(served: Served, tmp_path: Path) -> None:
    text = _read("docs/emulator.md")
    blocks = fenced(text, "bash")
    assert blocks
    # The admin example is the bash of its section (read as test_walkthrough reads sections).
    admin = walkthrough_commands(text, "Admin API (`/_emulator`, never faulted)")
    assert admin is not None and admin in "\n".join(blocks)
    before = orjson.loads(_run('curl -sf "$GTA_API_URL/_emulator/stats"', served, tmp_path).stdout)
    result = _run("\n".join(blocks), served, tmp_path)
    answers = _json_documents(result.stdout)  # curl adds no newline between answers
    assert len(answers) == 7
    stats = answers[5]
    history = answers[6]  # the activity above made versions: the history lists them
    assert history["items"] and {"seq", "kind", "id"} <= history["items"][0].keys()
    assert stats["counts"]["events"] == before["counts"]["events"] + 5
    assert stats["now"] > before["now"]  # the clock moved a day
    assert {"error_rate": 0.1, "latency_ms": 20}.items() <= answers[3].items()
    assert answers[4]["error_rate"] == 0.0  # `{}` switched the faults off again
    assert answers[0]["newEventIds"] and len(answers[0]["updatedEventIds"]) == 2


def _runnable(command: str, tmp_path: Path) -> str | None:
    """A sync.md command as run here, or None when it needs what an offline test cannot have.

    Placeholder credentials (``...``) give way to the emulator's; destinations under /var are
    moved into the test's directory (their directories created, as an operator would).
    """
    if command.startswith("export ") and "..." in command:
        return None
    if NETWORK_SINK.search(command):
        return None
    for absolute in re.findall(r"(?<![\w.])(/var/\S+)", command):
        moved = tmp_path / absolute.lstrip("/")
        moved.parent.mkdir(parents=True, exist_ok=True)
        command = command.replace(absolute, str(moved))
    return command


def test_sync_console_examples_run_against_the_emulator(served: Served, tmp_path: Path) -> None:
    blocks = fenced(_read("docs/sync.md"), "console")
    assert blocks
    commands = [c for block in blocks for c in console_commands(block)]
    runnable = [r for r in (_runnable(c, tmp_path) for c in commands) if r is not None]
    assert any(c.startswith("gta export") for c in runnable)
    assert any(c.startswith("gta state") for c in runnable)
    result = _run("\n".join(runnable), served, tmp_path)
    exported = list((tmp_path / "var").rglob("*.jsonl"))
    assert exported, "no example wrote a JSON lines file"
    for path in exported:
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        assert rows and all("recordId" in row for row in rows)
    assert "events" in result.stdout + result.stderr
