"""Every command's help reads like gh's or llm's: real metavars, choices, one example at least.

The command tree is walked from the Typer app, so commands added later are covered too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from tests.cli.helpers import Gta

from gta.cli import app


def _walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    commands = getattr(command, "commands", None)
    if isinstance(commands, dict):
        ctx = typer.Context(command)  # type: ignore[arg-type]
        for name in command.list_commands(ctx):  # type: ignore[attr-defined]
            sub = command.get_command(ctx, name)  # type: ignore[attr-defined]
            if sub is not None and not sub.hidden:
                yield from _walk(sub, (*path, name))


COMMANDS = sorted(_walk(typer.main.get_command(app)))
LEAVES = [path for path in COMMANDS if path and (*path,) not in {p[:-1] for p in COMMANDS}]


def test_the_walk_finds_the_commands() -> None:
    for expected in [("export",), ("alerts", "list"), ("state", "show"), ("sinks", "list")]:
        assert expected in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "gta")
def test_help_has_no_python_types_and_has_an_example(gta: Gta, path: tuple[str, ...]) -> None:
    run = gta(*path, "--help")
    assert run.code == 0, run.err
    text = run.out
    for bad in ("<bool>", "<str>", "<int", "<path>", "list[", "<float>", "x>="):
        assert bad not in text, f"{bad!r} in help of {path}"
    assert "{" not in text and "}" not in text, f"a {{name}} metavar in help of {path}"
    # Typer's fallback metavar is the parameter's name in capitals (METRICS_ADDRESS): say
    # what the value is instead (HOST:PORT, LEVEL, [text|json]).
    fallback = re.search(r"--[a-z][a-z-]* ([A-Z]+_[A-Z_]+)\b", text)
    assert fallback is None, f"metavar {fallback.group(1)} in help of {path}"
    assert re.search(r"^Examples?:$", text, re.MULTILINE), f"no example in help of {path}"
    examples = text.split("Examples:")[-1] if "Examples:" in text else text.split("Example:")[-1]
    assert "gta " in examples


def test_flags_show_no_metavar_and_values_show_real_ones(gta: Gta) -> None:
    export = gta("export", "--help").out
    assert re.search(r"--to URL\b", export)
    assert re.search(r"--schema \[annotation\|nested\|ocsf\|ecs\]", export)
    assert re.search(r"--from-start\s+Ignore", export)
    listing = gta("alerts", "list", "--help").out
    assert re.search(r"-L, --limit N\b", listing)
    assert re.search(r"--format \[table\|json\|jsonl\|csv\]", listing)
    assert re.search(r"--triggered-after TIME\b", listing)
    assert "gta sinks list" in " ".join(export.split())


def test_version_short_and_long(gta: Gta) -> None:
    from gta import __version__

    for flag in ("-V", "--version"):
        run = gta(flag)
        assert run.code == 0 and run.out == f"gta {__version__}\n"


def test_limit_has_a_short_form(gta: Gta) -> None:
    run = gta("alerts", "list", "-L", "x")
    assert run.code == 2 and "No such option" not in run.err


def test_help_topics_exist_for_what_help_texts_name(gta: Gta) -> None:
    """Help never points at a docs/ path a pip install does not have."""
    for path in COMMANDS:
        text = gta(*path, "--help").out
        assert "docs/" not in text, f"{path} points at docs/"


def test_state_help_names_a_file_and_xdg_state_home(gta: Gta) -> None:
    text = " ".join(gta("state", "show", "--help").out.split())
    assert "--state FILE" in text
    assert "$XDG_STATE_HOME/gta/state.db" in text and "$GTA_STATE_DIR/state.db" in text


def test_help_topics_are_readable(gta: Gta) -> None:
    listing = gta("help")
    assert listing.code == 0 and "sync" in listing.out
    page = gta("help", "sync")
    assert page.code == 0 and page.out.startswith("# Sync and export")
    unknown = gta("help", "nope")
    assert unknown.code == 2 and unknown.err.startswith("error: unknown help topic 'nope'")
