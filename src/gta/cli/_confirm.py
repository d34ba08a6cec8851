"""One rule for commands that destroy or overwrite: ask a person, refuse a script.

On a terminal the command asks (no answer counts as no); ``--yes`` skips the question; without
a terminal (a pipe, cron, CI) it refuses unless ``--yes`` was given, because nobody can answer
and guessing "yes" is how checkpoints and alerts get lost.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gta.cli._errors import CommandError, UsageError

__all__ = ["YesOption", "confirm_destructive"]

#: The ``--yes`` flag every destructive command declares.
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask; needed without a terminal.")
]


def _interactive() -> bool:
    """True when a person can answer: stdin and stderr are both terminals."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def confirm_destructive(action: str, yes: bool) -> None:
    """Return when *action* may go ahead; else raise (nothing has been changed yet).

    *action* reads as a question's subject, e.g. ``"delete 3 checkpoint(s)"``.
    """
    if yes:
        return
    if not _interactive():
        raise UsageError(f"{action}: refusing without --yes (no terminal to ask)")
    try:
        agreed = typer.confirm(f"{action[:1].upper()}{action[1:]}?", default=False, err=True)
    except typer.Abort:  # end of input or Ctrl-C: no
        sys.stderr.write("\n")
        agreed = False
    if not agreed:
        raise CommandError("not confirmed: nothing was changed (--yes skips the question)")
