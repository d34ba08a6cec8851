"""The root ``gta`` command: global options and the registry of command groups."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from gta._version import __version__
from gta.cli import _emulator_cmd, _sinks_cmd, _sync_cmds, _triage
from gta.cli._help import GtaTyper
from gta.cli._help_cmd import help_command

app = GtaTyper(
    name="gta",
    help="""Cisco Global Threat Alerts: SDK, SIEM sync, triage and an offline emulator.

    Documentation: gta help TOPIC (gta help lists the topics).

    Examples:
      gta alerts list --status New -L 10
      gta export events --output events.jsonl
      gta demo
    """,
    no_args_is_help=True,
)

app.add_typer(_emulator_cmd.app, name="emulator")
_sync_cmds.register(app)  # export, sync, state, demo
_triage.register(app)  # alerts, auth, configure
_sinks_cmd.register(app)  # sinks list, sinks check
app.command("help")(help_command)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"gta {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show debug logs and tracebacks (secrets stay masked).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
