"""The options of ``gta sync --worker`` and their checks (the worker itself is in
``_worker_cmd``, imported only when a worker runs)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from gta.cli._errors import UsageError
from gta.sync import MAX_WORKER_ID

if TYPE_CHECKING:
    from gta.state import Lease
    from gta.sync import Reporter

WorkerOpt = Annotated[
    bool,
    typer.Option(
        "--worker",
        help="Share the config's units (one stream of one job) with the other workers on the "
        "same state: claim an even share, run them on the schedule, hand them over at a stop.",
    ),
]
WorkerIdOpt = Annotated[
    str | None,
    typer.Option(
        "--worker-id",
        metavar="NAME",
        help="With --worker: this worker's name in the state and logs (default: HOST-PID).",
    ),
]
MaxUnitsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-units", metavar="N", min=1, help="With --worker: hold at most N units at once."
    ),
]


@dataclass
class WorkerUnit:
    """What a pass of ``_job_pass`` needs to run one unit under its claim."""

    stream: str
    lease: Lease
    reporter: Reporter
    shared_destination: bool


def check_worker_options(
    worker: bool, worker_id: str | None, max_units: int | None, scheduled: bool
) -> str | None:
    """The worker id to use (None without ``--worker``); a usage error for options that need
    ``--worker``, a worker without a schedule, or an id that cannot name a worker."""
    if not worker:
        if worker_id is not None or max_units is not None:
            raise UsageError("--worker-id and --max-units need --worker")
        return None
    if not scheduled:
        raise UsageError("--worker runs on a schedule: give --every (or `every` in the config)")
    name = f"{socket.gethostname()}-{os.getpid()}" if worker_id is None else worker_id
    if not name.strip() or len(name) > MAX_WORKER_ID or not name.isprintable():
        raise UsageError(
            f"--worker-id must be 1 to {MAX_WORKER_ID} printable characters, got {name!r}"
        )
    return name
