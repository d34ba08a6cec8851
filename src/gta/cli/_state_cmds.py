"""``gta state show|reset|set|unlock``: look at and change saved checkpoints and leases."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from gta._text import cell
from gta.cli._confirm import YesOption, confirm_destructive
from gta.cli._errors import CommandError, UsageError
from gta.cli._help import GtaTyper
from gta.cli._lease_cmds import checked, lease_lines, state_unlock
from gta.cli._progress import (
    describe_cursor,
    plural,
)
from gta.cli._render import write_json
from gta.cli._state_migrate import state_migrate
from gta.sync import (
    AlertCursor,
    CursorFormatError,
    StateError,
    UnknownStreamError,
    has_alert_cursor,
)

if TYPE_CHECKING:
    pass
from gta.cli._run_support import (
    _STREAM_HELP,
    ReportFormat,
    StateOpt,
    _complete_streams,
    _open_store,
    _streams,
    state_location,
)

state_app = GtaTyper(
    help="""Show or change saved checkpoints.

    Examples:
      gta state show
      gta state reset --stream alerts
    """,
    no_args_is_help=True,
)


@state_app.command("show")
def state_show(
    state: StateOpt = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table: for people; json: every field, for scripts."),
    ] = ReportFormat.table,
) -> None:
    """List checkpoints: job, customer, stream, cursor, records delivered, last commit.

    A table on a terminal; tab-separated lines otherwise; --format json for scripts.

    Examples:
      gta state show
      gta state show --format json
    """
    columns = ("job", "customer", "stream", "cursor", "records", "updated (UTC)", "schema")
    where = state_location(state)
    path = where.shown
    if where.path is not None and not where.path.exists():
        if fmt is ReportFormat.json:
            write_json(sys.stdout, {"state_file": path, "exists": False, "checkpoints": []})
            return
        typer.echo(f"no state file at {path} yet")
        return
    with _open_store(state) as store:
        checkpoints = checked(store.list)
        leases = lease_lines(store)
        path = store.location
    if fmt is ReportFormat.json:
        document = {
            "state_file": path,
            "exists": True,
            "checkpoints": [_checkpoint_json(cp) for cp in checkpoints],
        }
        write_json(sys.stdout, document)
        return
    rows = [
        (cp.job, cp.customer_id, cp.stream, describe_cursor(cp.stream, cp.cursor),
         str(cp.records), cp.updated_at, cp.format or "-")
        for cp in checkpoints
    ]  # fmt: skip
    console = Console()
    if not console.is_terminal:
        typer.echo(f"# state file: {path}")
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(row))
        for line in leases:
            typer.echo(f"# lease: {line}")
        return
    console.print(f"state file: {path}")
    if not rows:
        console.print("no checkpoints yet")
    else:
        table = Table(*columns)
        table.columns[4].justify = "right"  # numbers line up on their last digit
        for row in rows:
            table.add_row(*map(cell, row[:4]), f"{int(row[4]):,}", *map(cell, row[5:]))
        console.print(table)
    for line in leases:
        console.print(f"lease: {line}", markup=False, highlight=False)


def _checkpoint_json(cp: Any) -> dict[str, Any]:
    """A checkpoint with its cursor whole (an alerts cursor as the JSON object it is)."""
    cursor: Any = cp.cursor
    if has_alert_cursor(cp.stream) and cursor is not None:
        with contextlib.suppress(ValueError):
            cursor = orjson.loads(cursor)
    return {
        "job": cp.job,
        "customer_id": cp.customer_id,
        "stream": cp.stream,
        "cursor": cursor,
        "records": cp.records,
        "updated_at": cp.updated_at,
        "schema": cp.format,
    }


@state_app.command("reset")
def state_reset(
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream",
            metavar="STREAM",
            autocompletion=_complete_streams,
            help=f"Only this stream: {_STREAM_HELP}",
        ),
    ] = None,
    job: Annotated[str | None, typer.Option("--job", metavar="NAME", help="Only this job.")] = None,
    state: StateOpt = None,
    yes: YesOption = False,
) -> None:
    """Delete checkpoints, so the next run starts from the beginning (asks first).

    Examples:
      gta state reset --stream alerts
      gta state reset --job nightly
    """
    if stream is not None:
        _streams(stream)
    where = state_location(state).path
    if where is not None and not where.exists():
        typer.echo(f"removed {plural(0, 'checkpoint')}")
        return
    with _open_store(state) as store:
        chosen = None if stream == "all" else stream
        found = len(store.list(job=job, stream=chosen))
        if not found:
            typer.echo("removed 0 checkpoints")
            return
        confirm_destructive(f"delete {plural(found, 'checkpoint')} from {store.location}", yes)
        try:
            count = store.reset(job=job, stream=chosen)
        except StateError as exc:
            raise CommandError(str(exc)) from None
    typer.echo(f"removed {plural(count, 'checkpoint')}")


@state_app.command("set")
def state_set(
    stream: Annotated[
        str,
        typer.Option(
            "--stream",
            metavar="STREAM",
            autocompletion=_complete_streams,
            help="The stream whose cursor to set (one, not all).",
        ),
    ],
    cursor: Annotated[
        str,
        typer.Option("--cursor", metavar="CURSOR", help="A sequence number, or a time for alerts."),
    ],
    job: Annotated[
        str | None, typer.Option("--job", metavar="NAME", help="Job (needed if several).")
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", metavar="ID", help="Customer id (default: $GTA_CUSTOMER_ID)."),
    ] = None,
    state: StateOpt = None,
    yes: YesOption = False,
) -> None:
    """Set a checkpoint by hand, e.g. to skip history or to replay from an earlier point.

    Examples:
      gta state set --stream events --cursor 25717281 --job nightly
      gta state set --stream alerts --cursor 2026-01-31T12:00:00Z
    """
    try:
        if _streams(stream) != [stream]:
            raise UsageError("--stream needs one stream, not 'all'")
        value = _checked_cursor(stream, cursor)
    except (UnknownStreamError, CursorFormatError) as exc:
        raise UsageError(str(exc)) from None
    with _open_store(state) as store:
        existing = store.list(job=job, stream=stream)
        if customer is not None:
            existing = [cp for cp in existing if cp.customer_id == customer]
        targets = {(cp.job, cp.customer_id) for cp in existing}
        if len(targets) > 1:
            names = ", ".join(sorted(f"{j} ({c})" for j, c in targets))
            raise UsageError(f"several checkpoints for {stream}: {names}; pick one with --job")
        if not targets:
            customer = customer or os.environ.get("GTA_CUSTOMER_ID")
            missing = [
                what
                for what, absent in (
                    ("--job", job is None),
                    ("--customer (or set GTA_CUSTOMER_ID)", not customer),
                )
                if absent
            ]
            if missing:
                raise UsageError(f"no checkpoint for {stream} yet; give {' and '.join(missing)}")
            assert job is not None and customer
            targets = {(job, customer)}
        (job_name, customer_id) = targets.pop()
        confirm_destructive(f"set the {stream} cursor of {job_name} ({customer_id})", yes)
        try:
            store.set_cursor(job_name, customer_id, stream, value)
        except StateError as exc:
            raise CommandError(str(exc)) from None
    typer.echo(f"{job_name} {customer_id} {stream}: cursor set")


def _checked_cursor(stream: str, cursor: str) -> str:
    """The cursor as it will be stored, or a UsageError: an MSN stream takes a non-negative
    decimal integer (what its ``endCursor`` is); alerts take a time or a saved alerts cursor."""
    text = cursor.strip()
    if not text:
        raise UsageError("--cursor is empty")
    if has_alert_cursor(stream):
        return AlertCursor.loads(text).dumps()
    if not (text.isascii() and text.isdigit()):
        raise UsageError(
            f"--cursor for {stream} must be a modification sequence number "
            f"(a non-negative whole number), got {text!r}"
        )
    return text


state_app.command("unlock")(state_unlock)
state_app.command("migrate")(state_migrate)
