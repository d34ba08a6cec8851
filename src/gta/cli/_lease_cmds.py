"""``gta state unlock`` and the lease lines of ``gta state show``.

A lease frees itself when its holder dies or stops renewing it (after its TTL); unlocking by
hand is for an operator who knows the holder is gone and will not wait. The holder, if it still
runs, cannot move a cursor afterwards (its commits are fenced) and stops with one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Annotated

import typer

from gta.cli._confirm import YesOption, confirm_destructive
from gta.cli._errors import CommandError, UsageError
from gta.cli._progress import plural
from gta.cli._run_support import StateOpt, _open_store, state_location
from gta.state import (
    Checkpoint,
    LeaseInfo,
    StateError,
    StateStore,
)
from gta.sync import (
    WORKERS_JOB,
    UnknownStreamError,
    check_lease_ttl,
    expand_streams,
    parse_interval,
)

LeaseTtlOpt = Annotated[
    str | None,
    typer.Option(
        "--lease-ttl",
        metavar="DURATION",
        help="A run silent this long loses its leases to the next one (default 60s).",
    ),
]


def lease_ttl_seconds(text: str | None) -> float | None:
    """``--lease-ttl`` as seconds (None when not given); a bad value is a usage error."""
    try:
        return None if text is None else check_lease_ttl(parse_interval(text))
    except ValueError as exc:
        raise UsageError(f"--lease-ttl: {exc}") from None


def checked(read: Callable[[], list[Checkpoint]]) -> list[Checkpoint]:
    """A store read with its StateError as a one-line CommandError."""
    try:
        return read()
    except StateError as exc:
        raise CommandError(str(exc)) from None


def describe(
    info: LeaseInfo, now: float, workers: Mapping[tuple[str, str, int], str] | None = None
) -> str:
    """``stream 'events' of job 'ev' (customer C): pid 12 on host (heartbeat 3s ago), ...``;
    a unit held by a ``gta sync --worker`` also names the worker (``worker node-1``)."""
    whose = f" (customer {info.customer_id})" if info.customer_id else ""
    state = "expired" if info.expired(now) else f"ttl {info.ttl:g}s"
    worker = (workers or {}).get((info.host, info.pidns, info.pid))
    by = f"worker {worker}, " if worker and info.job != WORKERS_JOB else ""
    return f"{info.what()}{whose}: {by}{info.holder(now)}, {state}, fencing number {info.fence}"


def lease_lines(store: StateStore) -> list[str]:
    """One line per lease held (for ``gta state show``)."""
    now = time.time()
    try:
        infos = store.leases()
    except StateError as exc:
        raise CommandError(str(exc)) from None
    # A worker's presence lease (job WORKERS_JOB, stream = its id) names the process holding units.
    workers = {
        (i.host, i.pidns, i.pid): i.stream for i in infos if i.job == WORKERS_JOB and i.owner
    }
    return [describe(info, now, workers) for info in infos]


def state_unlock(
    job: Annotated[str | None, typer.Option("--job", help="Only the leases of this job.")] = None,
    stream: Annotated[str | None, typer.Option("--stream", help="Only this stream.")] = None,
    yes: YesOption = False,
    state: StateOpt = None,
) -> None:
    """Release leases by hand (a holder that is gone, without waiting for its TTL).

    A released run notices at its next commit and stops without moving its cursor (fencing).

    Examples:
      gta state unlock --job nightly --stream events
      gta state unlock --yes
    """
    if stream is not None:
        try:
            expand_streams(stream)
        except UnknownStreamError as exc:
            raise UsageError(str(exc)) from None
    where = state_location(state)
    if where.path is not None and not where.path.exists():
        typer.echo(f"no state file at {where.path}; no lease held")
        return
    try:
        with _open_store(state) as store:
            found = store.leases(job=job, stream=None if stream == "all" else stream)
            if not found:
                typer.echo("no lease held" + (" matching the filters" if job or stream else ""))
                return
            now = time.time()
            for info in found:
                typer.echo(f"held: {describe(info, now)}", err=True)
            confirm_destructive(f"release {plural(len(found), 'lease')}", yes)
            released = store.unlock(found)
    except StateError as exc:
        raise CommandError(str(exc)) from None
    now = time.time()
    for info in released:
        typer.echo(f"released: {describe(info, now)}")
    if len(released) < len(found):
        typer.echo(f"{len(found) - len(released)} lease(s) changed hands meanwhile; left alone")
