"""A job: some streams of one tenant, one format, one sink, with their own checkpoints.

``gta export`` builds a job from flags (its name says what it feeds, so exporting the same
stream to two files keeps two checkpoints); ``gta sync`` builds jobs from the config file.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gta.formats import Format, get_format, records_for
from gta.sinks import Record, Sink, destination_key, open_sink, redact_url
from gta.state import Lease, StateStore
from gta.sync._backfill import run_stream_readers
from gta.sync._engine import Reporter, StreamResult
from gta.sync._enrich import Enricher
from gta.sync._sdk import SyncClient
from gta.sync._streams import STREAM_NAMES, get_stream


@dataclass
class Job:
    """What to sync and where to; ``name`` keys its checkpoints in the state store."""

    name: str
    streams: Sequence[str]
    format: str
    sink_url: str
    sink_options: dict[str, Any] = field(default_factory=dict, repr=False)  # may hold secrets
    page_size: int = 1000
    reconcile_every: float = 0.0
    """Seconds between two checks for removed alerts (0: at the end of every run)."""
    readers: int | None = None
    """Readers of an MSN stream's backlog (partitioned backfill); ``None``: chosen by gta."""

    def __post_init__(self) -> None:
        # An unknown name, or a stream whose record kind the format lacks, fails before
        # anything is opened.
        specs = [get_stream(stream) for stream in self.streams]
        fmt = get_format(self.format)
        for spec in specs:
            records_for(fmt, spec.kind)


def expand_streams(name: str) -> list[str]:
    """``all`` or one stream name, as a list (unknown names fail with the valid list)."""
    if name == "all":
        return list(STREAM_NAMES)
    get_stream(name)
    return [name]


def export_job_name(fmt: str, target: str) -> str:
    """The job of ``gta export``: format and destination (a file as its absolute path), so each
    destination has its own checkpoints and no secret ends up in the name."""
    if target != "-" and "://" not in target:
        path = target[len("jsonl:") :] if target.startswith("jsonl:") else target
        target = os.path.abspath(os.path.expanduser(path))
    return f"export:{fmt}:{redact_url(target) if '://' in target else target}"


def run_job(
    client: SyncClient,
    job: Job,
    store: StateStore,
    *,
    from_start: bool = False,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    sink: Sink | None = None,
    on_records: Callable[[str, list[Record]], None] | None = None,
    destination_held: bool = False,
    leases: Mapping[str, Lease] | None = None,
) -> list[StreamResult]:
    """Run each stream of ``job`` once, in order, until drained or stopped.

    The sink is opened here (unless given) and closed at the end; assets and threat-intel
    records are cached across the job's streams. The job holds a lease on its destination for
    the whole run, so a second job writing the same place is refused (``LeaseHeldError``)
    instead of delivering every record twice; ``destination_held`` says the caller already
    holds it for longer (a service, between its passes too: ``DestinationLeases``), or that
    the destination is shared by design (the network sink of ``gta sync --worker``).
    ``leases`` (stream name -> lease): streams whose lease the caller holds beyond this run.
    """
    fmt = get_format(job.format)
    stop = stop or threading.Event()
    destination = None if destination_held else destination_key(job.sink_url, job.sink_options)
    with (
        store.destination_lease(destination, job.name)
        if destination is not None
        else contextlib.nullcontext()
    ):
        return _run_streams(
            client, job, store, fmt, from_start, reporter, stop, sink, on_records, leases or {}
        )


def _run_streams(
    client: SyncClient,
    job: Job,
    store: StateStore,
    fmt: Format,
    from_start: bool,
    reporter: Reporter | None,
    stop: threading.Event,
    sink: Sink | None,
    on_records: Callable[[str, list[Record]], None] | None,
    leases: Mapping[str, Lease],
) -> list[StreamResult]:
    own_sink = sink is None
    target = sink if sink is not None else open_sink(job.sink_url, **job.sink_options)
    results: list[StreamResult] = []
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="gta-lookup") as pool:
            enricher = Enricher(client, pool)
            for name in job.streams:
                if stop.is_set():
                    break

                def forward(records: list[Record], stream: str = name) -> None:
                    if on_records is not None:
                        on_records(stream, records)

                results.append(
                    run_stream_readers(
                        readers=job.readers,
                        client=client,
                        stream=get_stream(name),
                        fmt=fmt,
                        sink=target,
                        store=store,
                        job=job.name,
                        sink_label=job.sink_url,
                        from_start=from_start,
                        page_size=job.page_size,
                        reporter=reporter,
                        stop=stop,
                        enricher=enricher,
                        on_records=forward if on_records is not None else None,
                        reconcile_every=job.reconcile_every,
                        lease=leases.get(name),
                    )
                )
    finally:
        if own_sink:
            target.close()
    return results


class DestinationLeases:
    """The destinations a service writes, each leased from its job's first pass until the
    service stops: between two passes nobody else may write there either (a ``gta export`` to
    the sync job's file would deliver every record twice). A lease the service lost (its
    heartbeat failed past the time-to-live and another run took over) is taken again, or
    refused, at the job's next pass. Safe to use from several threads."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._held: dict[str, tuple[contextlib.ExitStack, Lease]] = {}
        self._lock = threading.Lock()

    def ensure(self, job: Job) -> None:
        """Hold ``job``'s destination (no-op for stdout); another live writer ->
        ``LeaseHeldError`` naming it."""
        key = destination_key(job.sink_url, job.sink_options)
        if key is None:
            return
        with self._lock:
            held = self._held.get(key)
            if held is not None and not held[1].lost:
                return
            if held is not None:
                del self._held[key]
                held[0].close()
            stack = contextlib.ExitStack()
            lease = stack.enter_context(self._store.destination_lease(key, job.name))
            self._held[key] = (stack, lease)

    def close(self) -> None:
        """Release every destination (the service is stopping)."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for stack, _ in held:
            stack.close()
