"""The one reporter selector of the command line (``gta.cli._progress.reporting``)."""

from __future__ import annotations

import io

from rich.console import Console

from gta.cli._progress import PlainReporter, RichReporter, reporting
from gta.sync import NullReporter, StreamResult


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


def test_quiet_reports_nothing_even_on_a_terminal() -> None:
    console, out = _console(terminal=True)
    with reporting(quiet=True, console=console) as reporter:
        assert isinstance(reporter, NullReporter)
    assert out.getvalue() == ""


def test_bars_on_a_terminal_and_plain_lines_otherwise() -> None:
    console, _ = _console(terminal=True)
    with reporting(quiet=False, console=console) as reporter:
        assert isinstance(reporter, RichReporter)
    console, out = _console(terminal=False)
    with reporting(quiet=False, console=console) as reporter:
        assert isinstance(reporter, PlainReporter)
        reporter.stream_started("events")
        reporter.stream_done(StreamResult(stream="events", records=3, fetched=3, pages=1))
    assert out.getvalue().splitlines()[0] == "events: starting"
    assert out.getvalue().splitlines()[1].startswith("events: done, 3 records from 3 objects")


def test_a_prefix_asks_for_plain_lines_even_on_a_terminal() -> None:
    console, out = _console(terminal=True)
    with reporting(quiet=False, console=console, prefix="job j: ") as reporter:
        assert isinstance(reporter, PlainReporter)
        reporter.stream_started("flows")
    assert out.getvalue() == "job j: flows: starting\n"
