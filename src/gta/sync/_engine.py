"""The engine: page -> enrich -> format -> sink.write -> sink.flush -> checkpoint, per stream.

The commit rule is the whole point: a checkpoint moves only after ``flush`` returned for every
record before it, so after a crash at any instant at most the batch in flight is delivered
again, with the same record ids (formats make ids from object versions, never from time).

Throughput comes from overlap, not from batching more: a thread fetches pages ahead, a second
thread enriches them (its lookups themselves run in parallel), and the calling thread formats,
writes, flushes and commits. The queues between the stages hold one or two pages, so memory
depends on page size and cache size, never on the backlog.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from gta._context import bound, in_context
from gta.formats._base import Format
from gta.sinks._base import Record, Sink
from gta.sync._enrich import Enricher, PageContext
from gta.sync._freshness import newest_time
from gta.sync._state import CheckpointStore
from gta.sync._streams import FetchedPage, Stream

log = logging.getLogger("gta.sync")

T = TypeVar("T")
R = TypeVar("R")
ENRICH_PAGES = 2
"""Pages enriched at the same time (each with its own parallel lookups)."""
STOP_POLL_S = 0.1
"""How often a stage waiting for the one before it looks at the stop event."""
_DONE = object()


@dataclass
class StreamResult:
    """What one run of one stream did."""

    stream: str
    pages: int = 0
    fetched: int = 0
    records: int = 0
    cursor: str | None = None
    seconds: float = 0.0
    stopped: bool = False
    rejected: int = 0  # records the sink refused as undeliverable and dropped (see _rejected)
    gaps: dict[str, int] = field(default_factory=dict)  # parents the API did not return, by kind
    risk: dict[str, int] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)  # (risk, status) -> alerts
    tombstones: int = 0  # removed alerts delivered as tombstones (see _alert_removals)


class Reporter(Protocol):
    """Receives progress; the CLI renders it (Rich bars, plain lines, or nothing)."""

    def stream_started(self, stream: str) -> None: ...

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None: ...

    def stream_done(self, result: StreamResult) -> None: ...


class FreshnessReporter(Reporter, Protocol):
    """A reporter that also wants the time of the newest object of each delivered page (the
    engine calls ``page_newest`` after ``page_done`` only on reporters that have it, so older
    reporters keep working unchanged)."""

    def page_newest(self, stream: str, newest: datetime) -> None: ...


class NullReporter:
    """Reports nothing (``--quiet``, library use)."""

    def stream_started(self, stream: str) -> None:
        pass

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        pass

    def stream_done(self, result: StreamResult) -> None:
        pass


def prefetch(
    source: Iterable[T], depth: int, stop: threading.Event, name: str
) -> Generator[T, None, None]:
    """Iterate ``source`` on a thread, at most ``depth`` items ahead of the consumer.

    An exception in the source is re-raised in the consumer. When the consumer stops early
    (break, error, ``stop``), the thread stops at its next hand-over; it is a daemon so a
    request still in flight cannot keep the process alive. The consumer never waits on the
    thread once ``stop`` is set: a signal must not wait for a slow answer, so the iteration
    simply ends (what was not yet handed over is fetched again by the next run).
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    abandoned = threading.Event()

    def put(item: Any) -> bool:
        while not abandoned.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in source:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=in_context(run), name=f"gta-{name}", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = q.get(timeout=STOP_POLL_S)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        abandoned.set()
        if not stop.is_set() and thread.is_alive():
            thread.join(timeout=0.5)


def ordered_map(
    fn: Callable[[T], R], source: Iterable[T], workers: int, name: str
) -> Generator[R, None, None]:
    """``map(fn, source)`` with up to ``workers`` calls in flight, results in source order.

    Enriching a page takes two round trips; running two pages' enrichment at once lets the
    fetch of pages, not the lookups, set the pace when the network is slow.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"gta-{name}")
    pending: deque[Future[R]] = deque()
    failure: Exception | None = None
    try:
        items = iter(source)
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except Exception as exc:  # deliver what was already taken, then fail
                failure = exc
                break
            pending.append(pool.submit(in_context(fn), item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        if failure is not None:
            raise failure
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class _Failure:
    exc: BaseException


@dataclass
class _Enriched:
    page: FetchedPage
    ctx: PageContext


def run_stream(
    *,
    client: Any,
    stream: Stream,
    fmt: Format,
    sink: Sink,
    store: CheckpointStore,
    job: str,
    sink_label: str | None = None,
    from_start: bool = False,
    page_size: int = 1000,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    enricher: Enricher | None = None,
    sink_lock: threading.Lock | None = None,
    on_records: Callable[[list[Record]], None] | None = None,
    reconcile_every: float = 0.0,
) -> StreamResult:
    """Deliver one stream from its checkpoint until drained (or ``stop`` is set between pages).

    A stream may have two optional hooks: ``after_flush(store, job, customer_id, items)``, called
    once a page's records are flushed and before its checkpoint is committed, and
    ``removals(...)``, which yields pages of objects that left the API (alert tombstones) once
    the stream is drained, at most once per ``reconcile_every`` seconds.

    Raises whatever the SDK, sink or store raises; the checkpoint then stays at the last page
    that was flushed.
    """
    reporter = reporter or NullReporter()
    stop = stop or threading.Event()
    lock = sink_lock or threading.Lock()
    customer_id: str = client.customer_id
    result = StreamResult(stream=stream.name)
    started = time.monotonic()
    own_pool = enricher is None
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gta-lookup") if own_pool else None
    if enricher is None:
        assert pool is not None
        enricher = Enricher(client, pool)
    rejected_before = _rejected(sink)
    page_newest = getattr(reporter, "page_newest", None)
    try:
        with bound(stream=stream.name), store.lease(job, customer_id, stream.name) as lease:
            saved = store.get(job, customer_id, stream.name)
            cursor = None if from_start or saved is None else saved.cursor
            result.cursor = cursor
            log.info("%s: starting from cursor %s", stream.name, _short(cursor))
            reporter.stream_started(stream.name)
            active = enricher
            after_flush = getattr(stream, "after_flush", None)
            pages = prefetch(
                stream.pages(client, cursor, page_size), 1, stop, f"{stream.name}-fetch"
            )

            def enrich(page: FetchedPage) -> _Enriched:
                return _Enriched(page, stream.context(active, page.items))

            enriched = prefetch(  # closed below, which stops every stage
                ordered_map(enrich, pages, ENRICH_PAGES, f"{stream.name}-enrich"),
                1,
                stop,
                f"{stream.name}-enrich",
            )
            with contextlib.closing(enriched):
                for item in enriched:
                    page, ctx = item.page, item.ctx
                    records = [r for obj in page.items for r in stream.format(fmt, obj, ctx)]
                    _count_gaps(result, stream.name, ctx.gaps)
                    if records:
                        with lock:
                            sink.write(records)
                            sink.flush()
                        result.rejected = _rejected(sink) - rejected_before
                    if on_records is not None:
                        on_records(records)
                    if after_flush is not None:
                        after_flush(store, job, customer_id, page.items)
                    if page.cursor != cursor or records:
                        lease.commit(
                            page.cursor, added=len(records), format=fmt.name, sink=sink_label
                        )
                        cursor = page.cursor
                    result.pages += 1
                    result.fetched += page.fetched
                    result.records += len(records)
                    result.cursor = cursor
                    _count_alerts(result, stream.name, page)
                    log.info(
                        "%s: page %d, %d objects, %d records, cursor %s",
                        stream.name,
                        result.pages,
                        page.fetched,
                        len(records),
                        _short(cursor),
                    )
                    reporter.page_done(stream.name, page.fetched, len(records), cursor)
                    if page_newest is not None and records:
                        newest = newest_time(page.items)
                        if newest is not None:
                            page_newest(stream.name, newest)
                    if stop.is_set():
                        break
            removals = getattr(stream, "removals", None)
            if removals is not None and after_flush is not None and not stop.is_set():
                for gone in removals(
                    client, store, job, customer_id, every=reconcile_every, page_size=page_size
                ):
                    # Write, flush, forget, commit: a crash re-delivers, never loses, a removal.
                    ctx = enricher.bare()
                    records = [r for obj in gone for r in stream.format(fmt, obj, ctx)]
                    with lock:
                        sink.write(records)
                        sink.flush()
                    if on_records is not None:
                        on_records(records)
                    after_flush(store, job, customer_id, gone)
                    lease.commit(cursor, added=len(records), format=fmt.name, sink=sink_label)
                    result.records += len(records)
                    result.tombstones += len(gone)
                    result.rejected = _rejected(sink) - rejected_before
                    reporter.page_done(stream.name, 0, len(records), cursor)
                    if stop.is_set():  # the reconciliation is repeated next run
                        result.stopped = True
                        break
            if stop.is_set():
                result.stopped = True
                log.info("%s: stop requested; committed what was delivered", stream.name)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    result.seconds = time.monotonic() - started
    if result.rejected:
        log.error(
            "%s: %d record(s) rejected by %s as undeliverable and dropped (each logged above)",
            stream.name,
            result.rejected,
            getattr(sink, "name", None) or "the sink",  # sink names carry no secret
        )
    reporter.stream_done(result)
    return result


def _rejected(sink: Sink) -> int:
    """How many records the sink has dropped as undeliverable so far.

    A sink that can refuse single records (Splunk HEC's 400 ``invalid-event-number``) counts them
    in an integer attribute ``rejected``; re-sending them cannot help, so the checkpoint still
    moves, and the run reports the count instead of hiding it."""
    count = getattr(sink, "rejected", 0)
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _count_gaps(result: StreamResult, stream: str, gaps: dict[str, int]) -> None:
    """Parents a page's lookups did not return (asked twice): its records go out with what is
    known; each such page logs one line, and the run's summary shows the totals."""
    if not gaps:
        return
    for kind, count in gaps.items():
        result.gaps[kind] = result.gaps.get(kind, 0) + count
    log.warning(
        "%s: page %d: enrichment incomplete, the API did not return %s; "
        "records delivered with what is known",
        stream,
        result.pages + 1,
        describe_gaps(gaps),
    )


def describe_gaps(gaps: dict[str, int]) -> str:
    """``3 threat detections, 1 alerts`` (kinds in a fixed order)."""
    return ", ".join(f"{count} {kind}" for kind, count in sorted(gaps.items()) if count)


def _count_alerts(result: StreamResult, stream: str, page: FetchedPage) -> None:
    """Alerts by risk and status, for the run summary."""
    if stream != "alerts":
        return
    for alert in page.items:
        risk = str(alert.get("risk"))
        status = alert.get("status")
        value = str(status.get("value") if isinstance(status, dict) else status)
        result.risk[risk] = result.risk.get(risk, 0) + 1
        result.status[value] = result.status.get(value, 0) + 1
        result.pairs[(risk, value)] = result.pairs.get((risk, value), 0) + 1


def _short(cursor: str | None) -> str:
    if cursor is None:
        return "<start>"
    return cursor if len(cursor) <= 60 else cursor[:57] + "..."
