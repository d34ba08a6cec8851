"""Progress for people: Rich bars on a terminal, plain lines otherwise, nothing with --quiet.

The engine reports through the ``gta.sync.Reporter`` protocol (a stream started, a page done, a
stream done); these are its presentations, chosen in one place: :func:`reporting`. All of it
goes to stderr by default, because stdout may be the data (``gta export ... --output -``).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import IO

from rich.console import Console
from rich.progress import (
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from gta.sync import (
    AlertCursor,
    CursorFormatError,
    NullReporter,
    Reporter,
    StreamResult,
    describe_gaps,
    has_alert_cursor,
)


def plural(count: int, noun: str) -> str:
    """``1 page``, ``2 pages``, ``1,000 records``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def describe_cursor(stream: str, cursor: str | None) -> str:
    """A cursor as a person reads it: an MSN whole; an alerts cursor (JSON with a boundary set)
    summarised as its time and whether a scan is open, never cut into a fragment."""
    if cursor is None:
        return "-"
    if not has_alert_cursor(stream):
        return cursor
    try:
        loaded = AlertCursor.loads(cursor)
    except CursorFormatError:
        return cursor
    return f"since {loaded.since or '-'}" + (" (scan open)" if loaded.scan else "")


class PlainReporter:
    """One line per page and per stream, for logs and pipes; with a ``prefix`` (``job j: ``)
    when several jobs write lines side by side. Each line is one write, so lines never mix."""

    def __init__(self, out: IO[str] | None = None, prefix: str = "") -> None:
        self._out = out or sys.stderr
        self._prefix = prefix

    def stream_started(self, stream: str) -> None:
        self._out.write(f"{self._prefix}{stream}: starting\n")
        self._out.flush()

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        shown = describe_cursor(stream, cursor)
        self._out.write(
            f"{self._prefix}{stream}: +{plural(fetched, 'object')}, +{plural(records, 'record')}, "
            f"cursor {shown}\n"
        )
        self._out.flush()

    def stream_done(self, result: StreamResult) -> None:
        self._out.write(f"{self._prefix}{result.stream}: done, {describe_result(result)}\n")
        self._out.flush()


def describe_result(r: StreamResult) -> str:
    """What a stream's run did, for its summary line: counts, time, and whatever went wrong."""
    rate = r.records / r.seconds if r.seconds > 0 else 0.0
    return (
        f"{plural(r.records, 'record')} from {plural(r.fetched, 'object')} in "
        f"{plural(r.pages, 'page')}, {r.seconds:.1f}s ({rate:,.0f} records/s)"
        + (f", {r.rejected:,} rejected by the sink" if r.rejected else "")
        + (f", enrichment incomplete: {describe_gaps(r.gaps)}" if r.gaps else "")
        + (f", {plural(r.tombstones, 'removed alert')} as tombstones" if r.tombstones else "")
        + (" (stopped)" if r.stopped else "")
    )


class RichReporter:
    """A live bar per stream: objects, records, rate. Use as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("[bold]{task.fields[stream]:<18}"),
            TextColumn("{task.fields[objects]:>9,} objects"),
            TextColumn("{task.fields[records]:>9,} records"),
            TextColumn("{task.fields[rate]:>8,.0f} rec/s"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self._counts: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stream_started(self, stream: str) -> None:
        self._started[stream] = time.monotonic()
        self._counts[stream] = (0, 0)
        self._tasks[stream] = self._progress.add_task(
            stream, total=None, stream=stream, objects=0, records=0, rate=0.0
        )

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        objects, recs = self._counts[stream]
        objects, recs = objects + fetched, recs + records
        self._counts[stream] = (objects, recs)
        elapsed = max(time.monotonic() - self._started[stream], 1e-6)
        self._progress.update(
            self._tasks[stream], objects=objects, records=recs, rate=recs / elapsed
        )

    def stream_done(self, result: StreamResult) -> None:
        task = self._tasks.get(result.stream)
        if task is not None:
            self._progress.update(task, total=1, completed=1)


@contextlib.contextmanager
def reporting(
    *, quiet: bool, console: Console | None = None, prefix: str | None = None
) -> Iterator[Reporter]:
    """The one choice of a run's progress: nothing when *quiet*; plain lines when a *prefix*
    (``job j: ``) is given, since several jobs side by side cannot share live bars; else live
    bars on a terminal and plain lines otherwise. Output goes to *console* (default: stderr)."""
    if quiet:
        yield NullReporter()
        return
    out = console or Console(stderr=True)
    if prefix is None and out.is_terminal:
        with RichReporter(out) as bars:
            yield bars
    else:
        yield PlainReporter(out.file, prefix=prefix or "")
