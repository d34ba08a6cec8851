"""``gta help [TOPIC]``: the documentation pages, from the installed package.

Help texts point here rather than at ``docs/...`` paths, which a ``pip install`` does not have:
the wheel carries the pages as ``gta/_docs/*.md`` (see ``pyproject.toml``); a source checkout
reads them from its ``docs/`` folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from gta.cli._errors import CommandError, UsageError

__all__ = ["TOPICS", "help_command", "topic_text"]

TOPICS: dict[str, str] = {
    "architecture": "layers and the contracts between them",
    "emulator": "gta emulator serve, its admin API and faults",
    "sdk": "the Python SDK: client, resources, pagination, errors",
    "sinks": "Splunk HEC, syslog, CEF and OCSF",
    "sync": "gta export, gta sync, gta state, gta demo; the sync config file",
    "triage": "gta configure, gta auth, gta alerts",
}


def _complete_topics(incomplete: str) -> list[str]:
    return [name for name in TOPICS if name.startswith(incomplete)]


def topic_text(topic: str) -> str:
    """The page of *topic*, from the package data, else from a source checkout's docs/."""
    if topic not in TOPICS:
        raise UsageError(f"unknown help topic {topic!r}; choose one of: {', '.join(TOPICS)}")
    packaged = resources.files("gta") / "_docs" / f"{topic}.md"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "docs" / f"{topic}.md"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise CommandError(f"the {topic} page is not installed with this copy of gta")


def help_command(
    topic: Annotated[
        str | None,
        typer.Argument(
            metavar="TOPIC", help=f"One of: {', '.join(TOPICS)}.", autocompletion=_complete_topics
        ),
    ] = None,
) -> None:
    """Read a documentation page in the terminal (without TOPIC: list the topics).

    Examples:
      gta help
      gta help sync | less
    """
    if topic is None:
        width = max(map(len, TOPICS))
        lines = [f"  {name:<{width}}  {what}" for name, what in TOPICS.items()]
        typer.echo("Topics (gta help TOPIC):\n" + "\n".join(lines))
        return
    typer.echo(topic_text(topic), nl=False)
