"""The root ``gta`` command: global options and the registry of command groups."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from gta._text import VisibleFormatter
from gta._version import __version__
from gta.cli import _emulator_cmd, _sinks_cmd, _sync_cmds, _triage

app = typer.Typer(
    name="gta",
    help="Cisco Global Threat Alerts: SDK, SIEM sync, triage and an offline emulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(_emulator_cmd.app, name="emulator")
_sync_cmds.register(app)  # export, sync, state, demo
_triage.register(app)  # alerts, auth, configure
_sinks_cmd.register(app)  # sinks check


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
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}
    handler = logging.StreamHandler(sys.stderr)
    # A log line may quote a server (an error detail): shown as text, never obeyed.
    handler.setFormatter(VisibleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
