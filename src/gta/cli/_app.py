"""The root ``gta`` command: global options and the registry of commands (loaded lazily)."""

from __future__ import annotations

from typing import Annotated, ClassVar

import typer

from gta._version import __version__
from gta.cli._help import GtaTyper
from gta.cli._lazy import LazyCommand, LazyGroup


class _Root(LazyGroup):
    """``gta``: each command's module is imported when that command is used."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "export": LazyCommand(
            "gta.cli._sync_cmds",
            "export",
            "Export new and changed records once, from the saved checkpoint, until drained.",
        ),
        "sync": LazyCommand(
            "gta.cli._service_cmd",
            "sync",
            "Run the jobs of a config file once or on a schedule.",
        ),
        "demo": LazyCommand(
            "gta.cli._demo_cmd",
            "demo",
            "Offline tour: an in-process emulator, a full sync, activity, then an incremental "
            "sync.",
        ),
        "emulator": LazyCommand(
            "gta.cli._emulator_cmd", "app", "Run a faithful offline server of the GTA API."
        ),
        "state": LazyCommand(
            "gta.cli._state_cmds", "state_app", "Show or change saved checkpoints."
        ),
        "configure": LazyCommand(
            "gta.cli._configure",
            "app",
            "Save credentials and endpoints as a named profile (or show the effective settings).",
        ),
        "auth": LazyCommand("gta.cli._auth_cmd", "app", "Check credentials and endpoints."),
        "alerts": LazyCommand(
            "gta.cli._alerts",
            "app",
            "Triage alerts: list, show, set status and notes, close in bulk, watch.",
        ),
        "sinks": LazyCommand(
            "gta.cli._sinks_cmd",
            "app",
            "List and check SIEM destinations (JSON lines, Splunk HEC, syslog, Elasticsearch, "
            "OpenSearch, Microsoft Sentinel).",
        ),
        "help": LazyCommand(
            "gta.cli._help_cmd",
            "help_command",
            "Read a documentation page in the terminal (without TOPIC: list the topics).",
        ),
    }


app = GtaTyper(
    name="gta",
    cls=_Root,
    help="""Cisco Global Threat Alerts: SDK, SIEM sync, triage and an offline emulator.

    Documentation: gta help TOPIC (gta help lists the topics).

    Examples:
      gta alerts list --status New -L 10
      gta export events --output events.jsonl
      gta demo
    """,
    no_args_is_help=True,
)


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
    # Text logs on stderr (``export`` and ``sync`` may switch to JSON or another level).
    from gta.cli._logging import configure_logging

    configure_logging("text", None, debug=debug)
