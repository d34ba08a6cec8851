"""The command line's outer contract for the triage commands: help, completion, exit codes."""

from __future__ import annotations

import pytest
from tests.cli.helpers import Gta


def test_groups_are_registered_and_completion_stays_available(gta: Gta) -> None:
    run = gta("--help")
    assert run.code == 0
    for name in ("alerts", "auth", "configure", "--install-completion", "--show-completion"):
        assert name in run.out
    alerts = gta("alerts", "--help")
    for name in ("list", "show", "status", "note", "close", "watch"):
        assert name in alerts.out


def test_our_usage_errors_exit_2_with_one_line(gta: Gta) -> None:
    run = gta("alerts", "note", "abcdef", env={"SECUREX_CLIENT_ID": "x"})
    assert run.code == 2
    assert run.err == "error: give either a note TEXT or --delete, not both and not neither\n"


@pytest.mark.parametrize(
    "args",
    [
        ("alerts", "list", "--format", "xml"),
        ("alerts", "list", "--no-such-flag"),
        ("alerts", "status", "abc"),
    ],
)
def test_typer_usage_errors_exit_2_without_traceback(gta: Gta, args: tuple[str, ...]) -> None:
    run = gta(*args)
    assert run.code == 2
    assert "Error: " in run.err and "Traceback" not in run.err
