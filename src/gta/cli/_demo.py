"""``gta demo``'s presentation: what it prints while ``gta.sync``'s demo runs (tables, progress).

The steps themselves (the folder, the syncs, the backend) are ``gta.sync``'s; the emulator that
backs them is started by ``gta.cli._demo_cmd``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from gta._text import cell, visible
from gta.cli._progress import reporting
from gta.sync import ACTIVITY, CheckpointStore, DemoBackend, StreamResult, sync_demo_streams

__all__ = ["run_demo"]


def _results_table(title: str, results: list[StreamResult]) -> Table:
    numbers = ("objects", "records", "seconds", "records/s")
    table = Table("stream", *(Column(header=h, justify="right") for h in numbers), title=title)
    for r in results:
        table.add_row(r.stream, f"{r.fetched:,}", f"{r.records:,}", f"{r.seconds:.1f}", _rate(r))
    total = StreamResult(
        stream="total",
        fetched=sum(r.fetched for r in results),
        records=sum(r.records for r in results),
        seconds=sum(r.seconds for r in results),
    )
    table.add_row(
        "total", f"{total.fetched:,}", f"{total.records:,}", f"{total.seconds:.1f}", _rate(total)
    )
    return table


def _rate(r: StreamResult) -> str:
    return f"{r.records / r.seconds if r.seconds else 0.0:,.0f}"


_RISKS = ("Critical", "High", "Medium", "Low")


def _alerts_table(results: list[StreamResult]) -> Table:
    alerts = next((r for r in results if r.stream == "alerts"), None)
    statuses = sorted(alerts.status) if alerts else []
    table = Table(
        "risk",
        *(Column(header=cell(s), justify="right") for s in statuses),
        Column(header="total", justify="right"),
        title="alerts by risk and status",
    )
    if alerts is None:
        return table
    risks = [*_RISKS, *sorted(set(alerts.risk) - set(_RISKS))]
    for risk in (r for r in risks if r in alerts.risk):
        row = [str(alerts.pairs.get((risk, s), 0)) for s in statuses]
        table.add_row(cell(risk), *row, str(alerts.risk[risk]))
    return table


def _counts(activity: Any) -> str:
    """The activity answer in short: numbers as they are, id lists as their length."""
    if not isinstance(activity, dict):
        return str(activity)
    parts = [
        f"{key} {len(value) if isinstance(value, list) else value}"
        for key, value in activity.items()
        if isinstance(value, int | list)
    ]
    return ", ".join(parts)


def run_demo(
    directory: Path,
    backend: DemoBackend,
    *,
    console: Console | None = None,
    quiet: bool = False,
    started: float | None = None,
) -> dict[str, Any]:
    """Run the demo against ``backend``; returns the figures it printed (tests read them).

    ``started`` is the ``time.monotonic()`` at which the backend began starting up, so the
    time shown includes it."""
    out = console or Console()

    def say(*items: Any) -> None:
        if not quiet:
            out.print(*items, highlight=False)

    started = time.monotonic() if started is None else started
    say(f"emulator ready at {backend.url} in {time.monotonic() - started:.1f}s")
    with backend.make_client() as client, CheckpointStore(directory / "state.db") as store:
        say("\n[bold]1. full sync[/] of every stream")
        with reporting(quiet=quiet, console=out) as reporter:
            first = sync_demo_streams(client, directory, store, reporter)
        say(_results_table("first sync", first))
        say(_alerts_table(first))

        new, updated = ACTIVITY["new_events"], ACTIVITY["updated_events"]
        say(f"\n[bold]2. activity[/]: {new} new and {updated} updated events")
        activity: Any = backend.create_activity(dict(ACTIVITY))
        say(Text(f"emulator: {visible(_counts(activity))}"))

        say("\n[bold]3. incremental sync[/]: only new and changed records arrive")
        with reporting(quiet=quiet, console=out) as reporter:
            second = sync_demo_streams(client, directory, store, reporter)
        say(_results_table("second sync", second))
    elapsed = time.monotonic() - started
    say(Text(f"\ndone in {elapsed:.1f}s; records in {directory}/"))
    say(Text(f"checkpoints: gta state show --state {directory / 'state.db'}"))
    return {"first": first, "second": second, "activity": activity, "seconds": elapsed}
