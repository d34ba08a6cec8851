"""Options shared by every command that talks to the API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gta.cli._durations import parse_duration

__all__ = ["TimeoutOpt", "timeout_option"]

TimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="DURATION",
        help="Deadline of each API request attempt, answer included: 30s, 2m (default 60s).",
    ),
]


def timeout_option(text: str | None) -> dict[str, Any]:
    """``--timeout`` as client options: ``{"timeout": seconds}``, or nothing when not given."""
    if text is None:
        return {}
    return {"timeout": parse_duration(text).total_seconds()}
