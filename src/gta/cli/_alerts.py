"""``gta alerts ...``: the triage commands. Each one parses flags and hands off to
:mod:`gta.cli._alert_ops` (what to do) and :mod:`gta.cli._render` (how it looks)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.text import Text

from gta._text import for_terminal, visible
from gta.cli import _alert_ops as ops
from gta.cli._confirm import YesOption, confirm_destructive
from gta.cli._durations import parse_duration, parse_instant
from gta.cli._errors import CommandError, UsageError
from gta.cli._help import GtaTyper
from gta.cli._options import TimeoutOpt, timeout_option
from gta.cli._profile import make_client
from gta.cli._render import (
    alert_row,
    alert_table,
    alert_view,
    plural,
    write_json,
    write_rows,
)
from gta.cli._watch import WatchState, watch

__all__ = ["app"]

_TIME_HELP = "7d, 12h, 30m (that long ago) or RFC 3339 (server-side filter)."
WIDE = 110  # terminal width from which tables also show when each alert was modified

app = GtaTyper(
    help="""Triage alerts: list, show, set status and notes, close in bulk, watch.

    Examples:
      gta alerts list --risk Critical,High --status New
      gta alerts show 3f2a9c41d0b7
    """,
    no_args_is_help=True,
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class AlertSort(StrEnum):
    """The orders the API documents for alerts (anything else is a 400 from the server)."""

    risk = "risk"
    triggered = "triggeredAt:asc"


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


class WatchFormat(StrEnum):
    auto = "auto"
    table = "table"
    jsonl = "jsonl"


class SetStatus(StrEnum):
    Open = "Open"
    Closed = "Closed"


Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        help="Settings profile (default: $GTA_PROFILE or 'default').",
    ),
]
Risk = Annotated[
    list[str] | None,
    typer.Option(
        "--risk",
        metavar="RISK",
        autocompletion=ops.completer(ops.RISKS),
        help=f"{', '.join(ops.RISKS)}; a comma list works too (client-side filter).",
    ),
]
Status = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        autocompletion=ops.completer(ops.STATUSES),
        help=f"{', '.join(ops.STATUSES)}; a comma list works too (client-side filter).",
    ),
]
Reason = Annotated[
    list[str] | None,
    typer.Option(
        "--reason",
        metavar="REASON",
        autocompletion=ops.completer(ops.CLOSING_REASONS),
        help=f"Closing reason: {', '.join(ops.CLOSING_REASONS)}.",
    ),
]
Since = Annotated[str | None, typer.Option(metavar="TIME", help=_TIME_HELP)]


def _where(
    risk: list[str] | None, status: list[str] | None, before: str | None = None
) -> ops.AlertFilter:
    return ops.AlertFilter(
        risks=ops.normalise_choices(risk or [], ops.RISKS, "risk"),
        statuses=ops.normalise_choices(status or [], ops.STATUSES, "status"),
        triggered_before=parse_instant(before) if before else None,
    )


@app.command("list")
def list_alerts(
    risk: Risk = None,
    status: Status = None,
    triggered_after: Since = None,
    modified_after: Since = None,
    sort: Annotated[
        AlertSort,
        typer.Option(help="risk (Critical first, then id) or triggeredAt:asc (oldest first)."),
    ] = AlertSort.risk,
    limit: Annotated[
        int, typer.Option("--limit", "-L", min=0, help="Stop after N matches (0: no limit).")
    ] = 100,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ListFormat.table
    ),
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """List alerts: a table for people; json, jsonl or csv (fixed columns) for scripts.

    Examples:
      gta alerts list --risk Critical --risk High --status New -L 10
      gta alerts list --status Open --format csv --limit 0 > open-alerts.csv
    """
    where = _where(risk, status)
    after = parse_instant(triggered_after) if triggered_after else None
    modified = parse_instant(modified_after) if modified_after else None
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        alerts = ops.iter_alerts(
            client,
            where,
            sort=None if sort is AlertSort.risk else sort.value,
            triggered_after=after,
            modified_after=modified,
            limit=limit,
        )
        rows = (alert_row(alert) for alert in alerts)
        if fmt is not ListFormat.table:
            write_rows(sys.stdout, rows, fmt.value)
            return
        shown = list(rows)
        console = Console()
        console.print(alert_table(shown, wide=console.width >= WIDE))
        more = " (limit reached: use --limit to see more)" if limit and len(shown) >= limit else ""
        console.print(f"{plural(len(shown), 'alert')}{more}", style="dim")


@app.command("show")
def show(
    alert_id: Annotated[
        str, typer.Argument(metavar="ID", help="Alert id (or a unique prefix of 6+ characters).")
    ],
    events: Annotated[
        int, typer.Option(metavar="N", min=0, help="How many recent events to show.")
    ] = 10,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ShowFormat.table
    ),
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Show an alert with its threat detections, threat intel, assets and recent events.

    Examples:
      gta alerts show 3f2a9c41d0b7 --events 5
      gta alerts show 3f2a9c41d0b7 --format json
    """
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        details = ops.alert_details(client, alert_id, events=events)
    if fmt is ShowFormat.json:
        write_json(sys.stdout, details.as_json())
        return
    Console().print(
        alert_view(
            details.alert, details.detections, details.records, details.assets, details.events
        )
    )


@app.command("status")
def status_cmd(
    alert_ids: Annotated[
        list[str], typer.Argument(metavar="ID...", help="Alert id(s) or unique prefixes.")
    ],
    set_to: Annotated[SetStatus, typer.Option("--set", help="The new status.")],
    reason: Reason = None,
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="Also set this note.")] = None,
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Set the status of one or more alerts (closing reasons only with Closed).

    Examples:
      gta alerts status 3f2a9c41d0b7 --set Open
      gta alerts status 3f2a9c41d0b7 --set Closed --reason FalsePositive
    """
    if reason and set_to is not SetStatus.Closed:
        raise UsageError("--reason is only valid with --set Closed")
    reasons = sorted(ops.normalise_choices(reason or [], ops.CLOSING_REASONS, "closing reason"))
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        outcomes = ops.apply_each(
            alert_ids,
            lambda alert_id: ops.set_status(
                client, ops.resolve_id(client, alert_id), set_to.value, reasons, note
            ),
            _describe,
        )
    _report(outcomes)


@app.command("note")
def note_cmd(
    alert_id: Annotated[
        str, typer.Argument(metavar="ID", help="Alert id (or a unique prefix of 6+ characters).")
    ],
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="The note.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Delete the note.")] = False,
    open_: Annotated[
        bool, typer.Option("--open", help="Move a New alert to Open first, so the note is kept.")
    ] = False,
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Set (or --delete) the note of an alert; a New alert's note may be dropped, see --open.

    Examples:
      gta alerts note 3f2a9c41d0b7 "checked: backup server talking to its vendor" --open
      gta alerts note 3f2a9c41d0b7 --delete
    """
    if (text is None) == (not delete):
        raise UsageError("give either a note TEXT or --delete, not both and not neither")
    if delete and open_:
        raise UsageError("--open goes with a note TEXT, not with --delete")
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        alert_id = ops.resolve_id(client, alert_id)
        if delete:
            ops.get_alert(client, alert_id)  # a clear "not found" rather than a bare 404
            client.alerts.delete_note(alert_id)
            _line().print(Text(f"deleted the note of {visible(alert_id)}"))
            return
        assert text is not None
        updated, left_new = ops.annotate(client, alert_id, text, open_new=open_)
    if left_new:
        sys.stderr.write(
            f"warning: alert {alert_id} is New: its note may be deleted when alerts are "
            "recalculated; pass --open to move it to Open in the same call\n"
        )
    _line().print(Text(f"{visible(alert_id)}: {_describe(updated)}"))


@app.command("close")
def close(
    risk: Risk = None,
    status: Status = None,
    triggered_before: Annotated[
        str | None,
        typer.Option(
            metavar="TIME", help="Only alerts triggered before this: 30d, 12h or RFC 3339."
        ),
    ] = None,
    triggered_after: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Only alerts triggered after this: 7d or RFC 3339."),
    ] = None,
    reason: Reason = None,
    note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Also set this note on each alert.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    yes: YesOption = False,
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Close every alert that matches the filters (already Closed ones are left alone).

    Examples:
      gta alerts close --risk Low --status New --triggered-before 30d --dry-run
      gta alerts close --risk Low --triggered-before 30d --reason FalsePositive --yes
    """
    where = _where(risk, status, triggered_before)
    if where.is_empty and not triggered_after:
        raise UsageError("give at least one filter (--risk, --status, --triggered-before/after)")
    after = parse_instant(triggered_after) if triggered_after else None
    reasons = sorted(ops.normalise_choices(reason or [], ops.CLOSING_REASONS, "closing reason"))
    console = Console()
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        targets = [
            alert_row(alert)
            for alert in ops.iter_alerts(client, where, triggered_after=after)
            if ops.status_of(alert) != "Closed"
        ]
        if not targets:
            console.print("no matching alerts to close")
            return
        title = f"{plural(len(targets), 'alert')} to close"
        console.print(alert_table(targets, title=title, wide=console.width >= WIDE))
        if dry_run:
            console.print(
                f"dry run: would close {plural(len(targets), 'alert')}; nothing was changed"
            )
            return
        confirm_destructive(f"close {plural(len(targets), 'alert')}", yes)
        outcomes = ops.apply_each(
            [str(row["id"]) for row in targets],
            lambda alert_id: ops.set_status(client, alert_id, "Closed", reasons, note),
            _describe,
        )
    _report(outcomes)


@app.command("watch")
def watch_cmd(
    interval: Annotated[
        str, typer.Option(metavar="DURATION", help="Time between polls: 30s, 5m.")
    ] = "30s",
    since: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Also report changes since this: 1h or RFC 3339."),
    ] = None,
    count: Annotated[
        int | None, typer.Option(min=1, help="Stop after N alert versions were reported.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(metavar="DURATION", help="Stop after this long: 10m, 1h.")
    ] = None,
    risk: Risk = None,
    status: Status = None,
    fmt: Annotated[
        WatchFormat,
        typer.Option(
            "--format", "-f", help="auto: a live table on a terminal, JSON lines if piped."
        ),
    ] = WatchFormat.auto,
    profile: Profile = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Watch for new and changed alerts, polling with modifiedAfter.

    Examples:
      gta alerts watch --risk Critical,High
      gta alerts watch --interval 1s --duration 2s --format jsonl
    """
    pause = parse_duration(interval).total_seconds()
    stop_after = parse_duration(duration).total_seconds() if duration else None
    start = parse_instant(since) if since else None
    where = _where(risk, status)
    console = Console()
    live_view = fmt is WatchFormat.table or (fmt is WatchFormat.auto and console.is_terminal)
    with make_client(profile, interactive=True, **timeout_option(timeout)) as client:
        if not live_view:
            watch(
                client,
                _emit_line,
                where=where,
                interval=pause,
                since=start,
                count=count,
                duration=stop_after,
            )
            return
        _watch_live(client, console, where, pause, start, count, stop_after)


def _emit_line(alert: dict[str, Any], change: str) -> None:
    row = for_terminal({**alert_row(alert), "change": change})
    sys.stdout.write(orjson.dumps(row).decode() + "\n")
    sys.stdout.flush()  # a pipe reader sees each version as it comes


def _watch_live(
    client: Any,
    console: Console,
    where: ops.AlertFilter,
    pause: float,
    start: Any,
    count: int | None,
    stop_after: float | None,
) -> None:
    from rich.live import Live

    recent: dict[str, dict[str, Any]] = {}

    def emit(alert: dict[str, Any], change: str) -> None:
        recent.pop(str(alert.get("id")), None)
        recent[str(alert.get("id"))] = alert_row(alert)

    with Live(alert_table([]), console=console, refresh_per_second=2) as live:

        def on_poll(state: WatchState, problem: str | None) -> None:
            rows = list(reversed(list(recent.values())))[: max(console.height - 8, 5)]
            note = f"last poll failed: {problem}" if problem else "watching (Ctrl-C to stop)"
            live.update(alert_table(rows, title=f"{state.reported} change(s); {note}"))

        watch(
            client,
            emit,
            where=where,
            interval=pause,
            since=start,
            count=count,
            duration=stop_after,
            on_poll=on_poll,
        )


def _line() -> Console:
    """A console for one-line reports: no wrapping at the terminal width, no highlighting."""
    return Console(highlight=False, soft_wrap=True)


def _describe(alert: dict[str, Any]) -> str:
    row = alert_row(alert)
    reasons = row.get("closingReasons")
    shown = f" ({', '.join(map(str, reasons))})" if isinstance(reasons, list) and reasons else ""
    note = f", note {row['note']!r}" if row.get("note") else ""
    return visible(f"{row.get('status')}{shown}{note}")


def _report(outcomes: list[ops.Outcome]) -> None:
    console = _line()
    for outcome in outcomes:
        line = Text("ok     ", style="green") if outcome.ok else Text("failed ", style="red")
        line.append(visible(f"{outcome.alert_id}: {outcome.detail}"))
        console.print(line)
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        raise CommandError(f"{failed} of {plural(len(outcomes), 'alert')} failed")
