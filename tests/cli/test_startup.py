"""Fast to start: each command imports only what it uses.

Timing is measured by ``python -m benchmarks startup`` (docs/benchmarks.md); here the property
that makes it fast is checked exactly, in a fresh interpreter: which modules a command loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import typer

from gta.cli._app import _Root
from gta.cli._help import summary_of
from gta.cli._lazy import load
from gta.emulator import RunningEmulator

HEAVY = ("httpx", "pydantic", "rich", "fastapi", "uvicorn", "gta.client", "gta.sync",
         "gta.emulator", "gta.sinks", "gta.formats")  # fmt: skip

_PROBE = """
import json, sys
from gta.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
print("\\n" + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(*args: str, env: dict[str, str] | None = None) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return set(json.loads(run.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


@pytest.mark.parametrize("args", [("--version",), ("-V",), ("--help",)])
def test_version_and_help_import_nothing_heavy(args: tuple[str, ...]) -> None:
    assert _heavy(_loaded(*args)) == set()


def test_a_command_imports_only_its_own_needs() -> None:
    # Typer itself validates parameter values with pydantic, so any command that takes one
    # loads pydantic; nothing else heavy is needed to print a help topic.
    assert _heavy(_loaded("help", "sync")) <= {
        m for m in _loaded("help", "sync") if m.startswith("pydantic")
    }


def test_alerts_list_imports_the_sdk_but_not_sync_sinks_or_the_emulator(
    emulator: RunningEmulator,
) -> None:
    modules = _loaded("alerts", "list", "--limit", "2", env=emulator.env())
    assert "gta.client" in modules and "rich.table" in modules
    for unused in ("gta.sync", "gta.emulator", "gta.sinks", "fastapi", "uvicorn"):
        assert unused not in modules, unused
    # nor httpx's own command line, and what only it needs (gta.cli.main: ~20 ms)
    for unused in ("httpx._main", "click", "pygments", "rich.progress", "rich.syntax"):
        assert unused not in modules, unused


def test_the_root_listing_matches_each_loaded_command() -> None:
    """The summaries `gta --help` shows without importing are the commands' own first lines."""
    for name, entry in _Root.lazy.items():
        command = load(name, entry)
        assert summary_of(command.short_help or command.help) == entry.summary, name


def test_commands_load_only_when_used() -> None:
    root = typer.main.get_command(__import__("gta.cli", fromlist=["app"]).app)
    assert isinstance(root, _Root)
    assert set(root.commands) <= {"help"} or not set(root.commands) & set(_Root.lazy)


def test_a_mistyped_command_suggests_one_that_is_not_loaded_yet(gta: object) -> None:
    from tests.cli.helpers import run_gta

    run = run_gta("alrts")
    assert run.code == 2 and "Did you mean 'alerts'?" in run.err


_MODELS_PROBE = """
import json, sys
from gta.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
from gta.client import _models
built = [n for n in _models.__all__ if getattr(_models, n).__pydantic_complete__]
import httpx._main  # importable again: the command's block on httpx's CLI ended with it
print("\\n" + json.dumps(built), file=sys.stderr)
"""


def test_alerts_list_builds_no_alert_model(emulator: RunningEmulator) -> None:
    """The listing works on the API's dicts: of the SDK's models (validators built on first
    use, pydantic's ``defer_build``), only the page's own are built."""
    run = subprocess.run(
        [sys.executable, "-c", _MODELS_PROBE, "alerts", "list", "--limit", "2"],
        env={**os.environ, **emulator.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    built = set(json.loads(run.stderr.strip().splitlines()[-1]))
    assert "Alert" not in built and built <= {"Page", "PageInfo"}, built
