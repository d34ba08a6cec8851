"""What ``gta demo`` runs, without its presentation (``gta.cli._demo`` prints it).

Every stream is synced into a folder; then the API creates activity (new events, updated events
and alerts) and a second sync shows that only new and changed records arrive. The API is the
emulator, but this module does not know it: the CLI layer starts the emulator and hands over a
:class:`DemoBackend` (a client and a way to create activity), so the sync package does not
depend on the emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gta.errors import InputError
from gta.formats import EVENTS
from gta.state import StateStore
from gta.sync._engine import Reporter, StreamResult
from gta.sync._jobs import Job, run_job
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


class DemoDirError(InputError):
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


def sync_demo_streams(
    client: SyncClient, directory: Path, store: StateStore, reporter: Reporter
) -> list[StreamResult]:
    """Sync every stream of the demo into its own file of *directory* (the SIEM recipe for
    events, nested records for the others), each stream a job with its own checkpoint."""
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
