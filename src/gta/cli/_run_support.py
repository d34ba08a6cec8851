"""What ``gta export`` and ``gta sync`` share: the state and quiet options, stream names, the
signal handling that stops a run at the page in flight, progress, and the run's summary.

Progress and summaries go to stderr so that ``--output -`` keeps stdout for records only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from gta._context import bound
from gta.cli._errors import Interrupted, UsageError
from gta.cli._logging import final_line, json_logging, service_line
from gta.cli._progress import describe_result, reporting
from gta.formats import FORMAT_NAMES
from gta.state import (
    StateLocation,
    StateUrlError,
    open_state,
    parse_state,
)
from gta.sync import (
    DEFAULT_LEASE_TTL_S,
    CheckpointStore,
    Job,
    Reporter,
    StreamResult,
    UnknownStreamError,
    expand_streams,
    run_job,
)

STATE_HELP = (
    "State: a file, sqlite:///PATH or postgresql://USER@HOST/DB (default: "
    "$GTA_STATE_DIR/state.db, else $XDG_STATE_HOME/gta/state.db, else "
    "~/.local/state/gta/state.db)."
)
StateOpt = Annotated[str | None, typer.Option("--state", metavar="FILE|URL", help=STATE_HELP)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
ReadersOpt = Annotated[
    int | None,
    typer.Option(
        "--readers",
        metavar="N",
        min=1,
        max=32,
        help="Readers of an events, threat-detections or flows backlog, each through its own "
        "cursor (1: one cursor). [default: chosen from the backlog]",
    ),
]
_STREAM_HELP = "events, alerts, threat-detections, flows, or all of them."


class ReportFormat(StrEnum):
    """How a report is printed: for people, or one JSON document for scripts."""

    table = "table"
    json = "json"


def _complete_streams(incomplete: str) -> list[str]:
    from gta.sync import STREAM_NAMES

    return [name for name in (*STREAM_NAMES, "all") if name.startswith(incomplete)]


def _complete_schemas(incomplete: str) -> list[str]:
    return [name for name in FORMAT_NAMES if name.startswith(incomplete)]


def _streams(name: str) -> list[str]:
    """``all`` or one stream, as a list; an unknown name is a usage error listing ``all`` too."""
    try:
        return expand_streams(name)
    except UnknownStreamError:
        from gta.sync import STREAM_NAMES

        raise UsageError(
            f"unknown stream {name!r}; choose one of: {', '.join((*STREAM_NAMES, 'all'))}"
        ) from None


def _err() -> Console:
    return Console(stderr=True)


def state_location(state: str | None) -> StateLocation:
    """Where ``--state`` (None: the default file) points; a malformed one is a usage error."""
    try:
        return parse_state(state)
    except StateUrlError as exc:
        raise UsageError(str(exc)) from None


def _open_store(state: str | None, lease_ttl: float | None = None) -> CheckpointStore:
    """The checkpoint store; a ``StateError`` is a failure (exit 1, ``gta.cli._errors``)."""
    state_location(state)
    return open_state(state, lease_ttl=lease_ttl or DEFAULT_LEASE_TTL_S)


class Stop(threading.Event):
    """Set by SIGTERM/SIGINT: the engine finishes and commits the page in flight and ends.

    ``signum`` says which signal, for the exit code and the closing line."""

    signum: int | None = None


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Stop]:
    """SIGTERM/SIGINT set a ``Stop``: the page in flight is finished and committed, then we exit.

    A stage waiting for a slow answer does not wait on: it notices the stop within a tenth of a
    second. A second signal stops at once; the checkpoint is still consistent (commits are
    atomic), only the page in flight will be delivered again."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            # A second signal: do not wait for requests in flight (worker threads would hold
            # an orderly exit). Like a crash, this is safe: commits are atomic and the page in
            # flight is simply delivered again by the next run.
            os.write(2, final_line("error: interrupted again; exiting now"))
            os._exit(128 + signum)
        stop.signum = signum
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _signal_name(signum: int) -> str:
    return signal.Signals(signum).name


@contextlib.contextmanager
def _reporting(quiet: bool, plain: str | None = None) -> Iterator[Reporter]:
    """Progress of one run (``gta.cli._progress.reporting``). ``plain`` (a line prefix) asks
    for plain lines even on a terminal: several jobs running side by side cannot share bars.
    JSON logs own stderr: progress is then the engine's info records, not bars or lines."""
    with reporting(quiet=quiet or json_logging(), prefix=plain) as reporter:
        yield reporter


def _run(client: Any, job: Job, store: CheckpointStore, **kwargs: Any) -> list[StreamResult]:
    """Run a job; its failures reach the user as one line with the exit code of their kind
    (``gta.cli._errors.EXIT_CODES``: a sink option that cannot work 2, a held lease 1, ...)."""
    return run_job(client, job, store, **kwargs)


def _summary(results: list[StreamResult], console: Console) -> None:
    """One line per stream after the bars; without a terminal the plain reporter's own
    ``done`` line is the summary, so this is not printed twice."""
    for r in results:
        text = f"{r.stream}: {describe_result(r)}"
        if json_logging():
            with bound(stream=r.stream):
                service_line(text, records=r.records, pages=r.pages, rejected=r.rejected)
        else:
            console.print(text, markup=False, highlight=False)


def _raise_if_interrupted(stop: Stop, results: list[StreamResult]) -> None:
    """A run a signal stopped did not deliver everything: say so, with the shell's exit code."""
    if stop.signum is None:
        return
    delivered = sum(r.records for r in results)
    raise Interrupted(
        f"interrupted ({_signal_name(stop.signum)}) after {delivered:,} records; "
        "run the same command to resume",
        128 + stop.signum,
    )


def with_readers(config: Any, readers: int | None) -> Any:
    """``config`` with every job's ``readers`` set to ``--readers`` (unchanged when not given)."""
    if readers is None:
        return config
    jobs = {
        name: spec.model_copy(update={"readers": readers}) for name, spec in config.jobs.items()
    }
    return config.model_copy(update={"jobs": jobs})
