"""A stream run with one reader or several: the engine's entry point for jobs.

``run_stream_readers`` runs an MSN stream's backlog through partitions (``_partitions``) when
that pays, and through the engine's one cursor otherwise: a small backlog, one reader asked
for (``readers=1``), a stream that is not sorted by MSN, or an API that refuses a cursor it did
not issue (a warning says so). Each partition is a stream the engine runs unchanged, so the
commit rule holds per partition; this module only plans, starts the readers at once, and
hands the stream back to one cursor when all of them are done.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from gta.formats import Format
from gta.sinks import Record, Sink
from gta.state import Lease, StateStore
from gta.sync._cursors import FetchedPage
from gta.sync._engine import NullReporter, Reporter, StreamResult, _rejected, run_stream
from gta.sync._enrich import Enricher
from gta.sync._msn_probe import parse_msn
from gta.sync._partitions import (
    DRAINED,
    LOOKUP_THREADS_PER_READER,
    PartitionStream,
    Plan,
    Prober,
    ProbeRefusedError,
    Split,
    forget,
    make_plan,
    partitionable,
    plan_key,
    run_partitions,
    stale_keys,
)
from gta.sync._reader_gate import ReaderGate, watch_rate_limits
from gta.sync._streams import Stream

log = logging.getLogger("gta.sync")

PROBE_THREADS = 8
SCOUT_PAGES = 2
"""Full pages read through the stream's own cursor before a backlog is split."""
MAX_READERS_ASKED = 32
"""The most readers ``--readers`` accepts."""


class MergedReporter:
    """Partitions report as their stream: one start, every page, one result at the end."""

    def __init__(self, reporter: Reporter, stream: str) -> None:
        self._reporter = reporter
        self._stream = stream
        self._lock = threading.Lock()
        self._started = False

    def stream_started(self, stream: str) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                self._reporter.stream_started(self._stream)

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        with self._lock:
            self._reporter.page_done(self._stream, fetched, records, cursor)

    def page_newest(self, stream: str, newest: datetime) -> None:
        page_newest = getattr(self._reporter, "page_newest", None)
        if page_newest is not None:
            with self._lock:
                page_newest(self._stream, newest)

    def stream_done(self, result: StreamResult) -> None:
        pass  # the merged result is reported once every partition is done


class ScoutStream:
    """The stream itself, stopping after its first pages when they are full: a backlog.

    A pass with nothing new, or a small one, costs no request more than before: partitions are
    planned only once ``SCOUT_PAGES`` full pages have been delivered through the stream's own
    cursor (the pager checks each answer's cursor on the way, as it always did)."""

    def __init__(self, base: Stream) -> None:
        self.base = base
        self.name = base.name
        self.kind = base.kind
        self.backlog = False
        self.context = base.context

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        full, scouting, previous = 0, True, cursor
        for page in self.base.pages(client, cursor, page_size):
            yield page
            if not scouting:
                continue
            if page.fetched < page_size or not _moved_on(previous, page.cursor):
                # a short page, or a cursor that did not move on (the pager judges it when it
                # follows): read on through this cursor, as without partitions
                scouting = False
                continue
            previous = page.cursor
            full += 1
            if full == SCOUT_PAGES:
                self.backlog = True
                return


def _moved_on(previous: str | None, cursor: str | None) -> bool:
    """``cursor`` is a sequence number after ``previous``."""
    try:
        before, after = parse_msn(previous) or 0, parse_msn(cursor)
    except ProbeRefusedError:
        return False
    return after is not None and after > before


def run_stream_readers(*, readers: int | None = 1, **kwargs: Any) -> StreamResult:
    """``run_stream(**kwargs)`` with ``readers`` (``None``: chosen from the backlog)."""
    stream: Stream = kwargs["stream"]
    if readers == 1 or not partitionable(stream):
        return run_stream(**kwargs)
    reporter = kwargs.get("reporter") or NullReporter()
    once = OnceReporter(reporter)
    if not has_live_plan(kwargs["store"], kwargs["job"], kwargs["client"], stream.name):
        scout = ScoutStream(stream)
        first = run_stream(**{**kwargs, "stream": scout, "reporter": once})
        if not scout.backlog or first.stopped:
            reporter.stream_done(first)
            return first
        kwargs = {**kwargs, "from_start": False}
    else:
        first = StreamResult(stream=stream.name)
    rest = run_partitioned(readers=readers, **{**kwargs, "reporter": once})
    if rest is None:
        rest = run_stream(**{**kwargs, "reporter": once})
    merged = add_results(first, rest)
    reporter.stream_done(merged)
    return merged


def has_live_plan(store: StateStore, job: str, client: Any, stream: str) -> bool:
    """A partitioned backfill of ``stream`` is under way (its plan starts at the cursor)."""
    customer_id: str = client.customer_id
    stored = store.get(job, customer_id, plan_key(stream))
    plan = Plan.loads(stored.cursor if stored else None)
    saved = store.get(job, customer_id, stream)
    return plan is not None and plan.origin == (saved.cursor if saved else None)


def add_results(first: StreamResult, rest: StreamResult) -> StreamResult:
    """One result for a stream read in two goes (a scout page, then the rest)."""
    merged = StreamResult(stream=first.stream)
    for part in (first, rest):
        merged.pages += part.pages
        merged.fetched += part.fetched
        merged.records += part.records
        merged.rejected += part.rejected
        merged.seconds += part.seconds
        for kind, count in part.gaps.items():
            merged.gaps[kind] = merged.gaps.get(kind, 0) + count
    merged.stopped = rest.stopped
    merged.cursor = rest.cursor if rest.cursor is not None else first.cursor
    return merged


class OnceReporter:
    """Passes everything on but ``stream_done`` and a second ``stream_started``: the caller
    reports the stream's whole result once."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._started = False
        page_newest = getattr(reporter, "page_newest", None)
        if page_newest is not None:
            self.page_newest = page_newest

    def stream_started(self, stream: str) -> None:
        if not self._started:
            self._started = True
            self._reporter.stream_started(stream)

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        self._reporter.page_done(stream, fetched, records, cursor)

    def stream_done(self, result: StreamResult) -> None:
        pass


def run_partitioned(
    *,
    client: Any,
    stream: Stream,
    fmt: Format,
    sink: Sink,
    store: StateStore,
    job: str,
    readers: int | None,
    sink_label: str | None = None,
    from_start: bool = False,
    page_size: int = 1000,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    enricher: Enricher | None = None,
    sink_lock: threading.Lock | None = None,
    on_records: Callable[[list[Record]], None] | None = None,
    reconcile_every: float = 0.0,
    lease: Lease | None = None,
) -> StreamResult | None:
    """Deliver ``stream`` through partitions; ``None`` when one cursor should do it instead
    (nothing is delivered then, and no checkpoint has moved)."""
    reporter = reporter or NullReporter()
    stop = stop or threading.Event()
    lock = sink_lock or threading.Lock()
    customer_id: str = client.customer_id
    started = time.monotonic()
    with (
        (
            contextlib.nullcontext(lease)
            if lease is not None
            else store.lease(job, customer_id, stream.name)
        ) as lease,
        ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="gta-probe") as probes,
    ):
        saved = store.get(job, customer_id, stream.name)
        origin = None if from_start or saved is None else saved.cursor
        prober = Prober(client, stream, probes)
        keys = stale_keys(store, job, customer_id, stream.name)
        stored = store.get(job, customer_id, plan_key(stream.name))
        plan = Plan.loads(stored.cursor if stored else None)
        if plan is not None and plan.origin == origin and not from_start:
            log.info("%s: resuming %d partitions", stream.name, len(plan.ranges))
        else:
            forget(store, job, customer_id, keys)  # a finished or abandoned plan
            try:
                split = make_plan(prober, origin, readers, page_size)
            except ProbeRefusedError as exc:
                log.warning(
                    "%s: the API refused a cursor gta made (%s); reading through one cursor",
                    stream.name,
                    str(exc)[:200],
                )
                return None
            if split == DRAINED:  # nothing after the cursor: the stream is read, nothing to do
                merged = StreamResult(stream=stream.name, cursor=origin)
                reporter.stream_done(merged)
                return merged
            if not isinstance(split, Split):
                return None
            if from_start and saved is not None and saved.cursor is not None:
                lease.commit(None, format=fmt.name, sink=sink_label)  # the plan's origin
            plan = split.plan
            store.set_cursor(job, customer_id, plan_key(stream.name), plan.dumps())
            log.info(
                "%s: %d readers over sequence numbers %s to about %d",
                stream.name,
                len(plan.ranges),
                origin or "<start>",
                split.span.low,
            )
        merged = _run_plan(
            client, stream, fmt, sink, store, job, plan, prober, reporter, stop, lock,
            enricher, on_records, sink_label, page_size,
        )  # fmt: skip
        merged.seconds = time.monotonic() - started
        if not merged.stopped:
            keys = stale_keys(store, job, customer_id, stream.name)
            added = sum(
                c.records
                for c in store.list(job=job)
                if c.customer_id == customer_id and c.stream in keys
            )
            # The stream's own cursor first: a crash before the plan is forgotten leaves a plan
            # whose origin is no longer the stream's cursor, which the next run drops.
            lease.commit(merged.cursor, added=added, format=fmt.name, sink=sink_label)
            forget(store, job, customer_id, keys)
        else:
            merged.cursor = origin
    reporter.stream_done(merged)
    return merged


def _run_plan(
    client: Any,
    stream: Stream,
    fmt: Format,
    sink: Sink,
    store: StateStore,
    job: str,
    plan: Plan,
    prober: Prober,
    reporter: Reporter,
    stop: threading.Event,
    lock: threading.Lock,
    enricher: Enricher | None,
    on_records: Callable[[list[Record]], None] | None,
    sink_label: str | None,
    page_size: int,
) -> StreamResult:
    ranges = plan.ranges
    gate = ReaderGate(len(ranges))

    def first_after(end: int) -> str | None:
        try:
            return prober.id_after(end)
        except ProbeRefusedError as exc:  # the page is delivered whole: twice, never lost
            log.warning("%s: could not find where partition ends (%s)", stream.name, exc)
            return None

    parts = [
        PartitionStream(stream, index, start, end, gate, first_after)
        for index, (start, end) in enumerate(ranges)
    ]
    merged_reporter = MergedReporter(reporter, stream.name)
    records_lock = threading.Lock()

    def forward(records: list[Record]) -> None:
        if on_records is not None:
            with records_lock:
                on_records(records)

    rejected_before = _rejected(sink)
    lookups = ThreadPoolExecutor(
        LOOKUP_THREADS_PER_READER * len(parts), thread_name_prefix="gta-lookup"
    )
    shared = Enricher(client, lookups)
    if enricher is not None:  # keep the job's caches of assets and threat-intel records
        shared.assets, shared.intel = enricher.assets, enricher.intel

    def run_one(part: Stream, inner: threading.Event) -> StreamResult:
        return run_stream(
            client=client, stream=part, fmt=fmt, sink=sink, store=store, job=job,
            sink_label=sink_label, page_size=page_size, reporter=merged_reporter, stop=inner,
            enricher=shared, sink_lock=lock, on_records=forward if on_records else None,
        )  # fmt: skip

    try:
        with watch_rate_limits(client, gate):
            results = run_partitions(run_one, list(parts), stop)
    finally:
        # wait for the lookups in flight (as the job's own pool does): the client is closed
        # after this returns, and a lookup left running on it would hold the process's exit
        lookups.shutdown(wait=True, cancel_futures=True)
    merged = StreamResult(stream=stream.name)
    for result in results:
        merged.pages += result.pages
        merged.fetched += result.fetched
        merged.records += result.records
        merged.stopped = merged.stopped or result.stopped
        for kind, count in result.gaps.items():
            merged.gaps[kind] = merged.gaps.get(kind, 0) + count
    merged.stopped = merged.stopped or stop.is_set()
    # the last partition always commits (an empty first page keeps its start), but a stream's
    # cursor must never go back to the beginning
    merged.cursor = results[-1].cursor or str(plan.bounds[-1])
    merged.rejected = _rejected(sink) - rejected_before
    return merged
