"""``gta demo``: the whole product offline in well under a minute.

Every stream is synced into a folder; then the API creates activity (new events, updated events
and alerts) and a second sync shows that only new and changed records arrive. The API is the
emulator, but this module does not know it: the CLI layer starts the emulator and hands over a
:class:`DemoBackend` (a client and a way to create activity), so the sync package does not
depend on the emulator.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from gta._text import cell, visible
from gta.formats import ALERTS, EVENTS
from gta.state import CheckpointStore, StateStore
from gta.sync._engine import NullReporter, Reporter, StreamResult
from gta.sync._jobs import Job, run_job
from gta.sync._progress import PlainReporter, RichReporter
from gta.sync._sdk import SyncClient
from gta.sync._streams import STREAM_NAMES

DEMO_SEED = 7
ACTIVITY = {"new_events": 300, "updated_events": 200}
_FORMATS = {EVENTS: "annotation"}  # the SIEM recipe; other streams as nested records


@dataclass(frozen=True)
class DemoBackend:
    """What the demo needs from the API it runs against.

    ``make_client`` returns a new client (a context manager) for the tenant; ``create_activity``
    creates new and updated events (it gets ``ACTIVITY``) and returns the API's summary, whose
    numbers and id lists are printed."""

    url: str
    make_client: Callable[[], AbstractContextManager[SyncClient]]
    create_activity: Callable[[dict[str, int]], Any]


def _files(directory: Path) -> dict[str, Path]:
    return {stream: directory / f"{stream}.jsonl" for stream in STREAM_NAMES}


MARKER = ".gta-demo"  # written in a folder the demo made its own; nothing else is ever deleted
_STATE_FILES = ("state.db", "state.db-wal", "state.db-shm")


class DemoDirError(Exception):
    """The demo's folder holds something the demo did not make: nothing was deleted."""


def prepare_demo_dir(directory: Path) -> None:
    """Make *directory* the demo's own, or fail without touching anything in it.

    A new or empty folder is created and marked with ``MARKER``; a folder carrying the marker
    is the demo's and starts over (the emulator's data is regenerated, so old cursors would
    skip it): only the files the demo writes are removed. Any other folder is refused, so a
    real ``state.db`` or ``events.jsonl`` is never replaced. ``OSError`` (a read-only disk, no
    permission) is left to the caller.
    """
    if directory.exists() and not directory.is_dir():
        raise DemoDirError(f"--dir {directory} is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    names = sorted(entry.name for entry in directory.iterdir())
    if names and MARKER not in names:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise DemoDirError(
            f"--dir {directory} holds files the demo did not make ({shown}); "
            "nothing was changed: give a new or empty folder"
        )
    if not names:
        (directory / MARKER).write_text(
            "Made by `gta demo`: a later demo run may replace its files here.\n", encoding="utf-8"
        )
        return
    for path in _files(directory).values():
        path.unlink(missing_ok=True)
    for name in _STATE_FILES:
        (directory / name).unlink(missing_ok=True)


@contextlib.contextmanager
def _reporter(console: Console, quiet: bool) -> Iterator[Reporter]:
    if quiet:
        yield NullReporter()
    elif console.is_terminal:
        with RichReporter(console) as bars:
            yield bars
    else:
        yield PlainReporter(console.file)


def _sync_all(
    client: SyncClient, directory: Path, store: StateStore, reporter: Reporter
) -> list[StreamResult]:
    results: list[StreamResult] = []
    for stream, path in _files(directory).items():
        job = Job(
            name=f"demo-{stream}",
            streams=[stream],
            format=_FORMATS.get(stream, "nested"),
            sink_url=str(path),
        )
        results.extend(run_job(client, job, store, reporter=reporter))
    return results


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
    alerts = next((r for r in results if r.stream == ALERTS), None)
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
        with _reporter(out, quiet) as reporter:
            first = _sync_all(client, directory, store, reporter)
        say(_results_table("first sync", first))
        say(_alerts_table(first))

        new, updated = ACTIVITY["new_events"], ACTIVITY["updated_events"]
        say(f"\n[bold]2. activity[/]: {new} new and {updated} updated events")
        activity: Any = backend.create_activity(dict(ACTIVITY))
        say(Text(f"emulator: {visible(_counts(activity))}"))

        say("\n[bold]3. incremental sync[/]: only new and changed records arrive")
        with _reporter(out, quiet) as reporter:
            second = _sync_all(client, directory, store, reporter)
        say(_results_table("second sync", second))
    elapsed = time.monotonic() - started
    say(Text(f"\ndone in {elapsed:.1f}s; records in {directory}/"))
    say(Text(f"checkpoints: gta state show --state {directory / 'state.db'}"))
    return {"first": first, "second": second, "activity": activity, "seconds": elapsed}
