"""The triage groups on the root app: ``gta configure``, ``gta auth``, ``gta alerts``."""

from __future__ import annotations

import typer

from gta.cli import _alerts, _auth_cmd, _configure


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(_configure.app, name="configure")
    app.add_typer(_auth_cmd.app, name="auth")
    app.add_typer(_alerts.app, name="alerts")
