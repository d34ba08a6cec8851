"""Commands registered on the root app by `register` (filled by its owner)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
