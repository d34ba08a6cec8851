"""The root group loads a command's module only when that command runs (or its help is shown).

``gta --version`` and ``gta --help`` then import Typer and nothing of the SDK, the sync engine,
the emulator or Rich; ``gta alerts list`` imports the alerts commands and the SDK, not the sync
engine. The root help lists each command with the summary written here, so listing costs no
import either; a test checks each summary against the loaded command's own help.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from difflib import get_close_matches
from typing import ClassVar

import typer
from typer._click import Command, Context
from typer._click.exceptions import UsageError

from gta.cli._help import GtaGroup, GtaTyper, summary_of

__all__ = ["LazyCommand", "LazyGroup", "load"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: ``attribute`` of ``module`` is a Typer app or a command function."""

    module: str
    attribute: str
    summary: str


def load(name: str, entry: LazyCommand) -> Command:
    """Import the command's module and build its click command (a group for a Typer app)."""
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    if isinstance(target, typer.Typer):
        command: Command = typer.main.get_group(target)
    else:
        single = GtaTyper(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(GtaGroup):
    """A :class:`GtaGroup` whose :attr:`lazy` commands are imported on first use."""

    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = load(cmd_name, self.lazy[cmd_name])
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as exc:  # suggest among every command, loaded or not
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggestions = ", ".join(repr(match) for match in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise

    def command_summaries(self, ctx: Context) -> list[tuple[str, str]]:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                rows.append((name, self.lazy[name].summary))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary_of(command.short_help or command.help)))
        return rows
