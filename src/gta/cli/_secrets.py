"""Secrets given to a command: never best on its command line.

A process's arguments are visible to every local user (``ps``, ``/proc/PID/cmdline``) and land in
shell history. So a secret given as a flag still works, with a warning that names the safer ways:
a hidden prompt, an environment variable, or standard input (``--...-stdin``).
"""

from __future__ import annotations

import sys

import typer

from gta.cli._errors import UsageError

__all__ = ["read_secret_stdin", "warn_if_on_command_line"]


def warn_if_on_command_line(ctx: typer.Context, param: str, flag: str, instead: str) -> None:
    """Warn on stderr when *param* came from the command line (not from a variable or prompt)."""
    source = ctx.get_parameter_source(param)  # an enum of typer's vendored click
    if source is not None and source.name == "COMMANDLINE":
        sys.stderr.write(
            f"warning: {flag} on the command line is visible to other users (ps) and in shell "
            f"history; {instead}\n"
        )


def read_secret_stdin(flag: str) -> str:
    """The secret piped on standard input: its first line, without the line ending."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(f"{flag}: pipe the secret in, e.g. `pass show x | gta ... {flag}`")
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError(f"{flag}: standard input was empty")
    return line
