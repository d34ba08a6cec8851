"""Partitioned backfill: several readers of one MSN stream, each through its own cursor.

One cursor reads one page per round trip, whatever the client does otherwise. The MSN streams
(events, threat detections, flows) are sorted by modification sequence number and their cursor
is that number, so the backlog from the saved cursor to the newest change can be split into
ranges read at once (docs/sync.md, decision 0009):

- ``_msn_probe`` finds the newest change with ``size=1`` probes and the partition bounds, each
  the MSN of a real object (a cursor the API issued);
- partition ``i`` reads ``(bound[i-1], bound[i]]`` as a stream of its own (``events#p2``),
  through the engine unchanged: its own checkpoint, committed after the sink's flush; the last
  partition is open-ended and also catches what changes meanwhile;
- a partition ends at the first page whose ``endCursor`` reaches its bound; the objects of that
  page past the bound (found by one probe: the first object after the bound) are left to the
  next partition, so nothing is delivered twice;
- the plan (``events#plan``: the stream's cursor when it was made, and the bounds) is stored
  before any partition starts, so a crash at any instant resumes every partition where it was;
  when all are done the stream's own cursor moves to the last partition's, and the plan and the
  partitions' checkpoints go;
- the API refusing, or answering inconsistently, a cursor it did not issue makes the run read
  through one cursor, with a warning: how the real service treats such cursors is inferred.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from gta._context import in_context
from gta.client import ApiStatusError
from gta.formats import ApiObject
from gta.state import StateStore
from gta.sync._cursors import FetchedPage, MsnCursor
from gta.sync._enrich import Enricher, PageContext
from gta.sync._msn_probe import (
    MAX_MSN,
    Probe,
    ProbeRefusedError,
    Span,
    bounds,
    checked,
    choose_readers,
    cut_before,
    find_span,
    parse_msn,
)
from gta.sync._reader_gate import ReaderGate
from gta.sync._streams import Stream

log = logging.getLogger("gta.sync")

MAX_READERS = 8
"""Readers chosen automatically at most (``--readers`` may ask for more, up to 32)."""
PAGES_PER_READER = 8
"""A reader is worth its probes (a few round trips) from about this many pages of backlog on."""
LOOKUP_THREADS_PER_READER = 4


def partitionable(stream: Stream) -> bool:
    """The stream reads through an MSN cursor (its spec says so)."""
    return isinstance(getattr(stream, "cursor", None), MsnCursor)


def plan_key(stream: str) -> str:
    return f"{stream}#plan"


def part_key(stream: str, index: int) -> str:
    return f"{stream}#p{index}"


@dataclass(frozen=True)
class Plan:
    """The stream's cursor when the backlog was split (``origin``) and the partition bounds:
    partition ``i`` reads after ``starts[i]`` up to ``ends[i]`` (the last: open-ended)."""

    origin: str | None
    bounds: tuple[int, ...]

    def dumps(self) -> str:
        return f"{self.origin or ''}|{','.join(map(str, self.bounds))}"

    @classmethod
    def loads(cls, text: str | None) -> Plan | None:
        """A stored plan; ``None`` for anything else (never trusted blindly)."""
        if not text or text.count("|") != 1:
            return None
        origin, _, cut = text.partition("|")
        try:
            start = parse_msn(origin or None)
            marks = tuple(parse_msn(p) for p in cut.split(",")) if cut else ()
        except ProbeRefusedError:
            return None
        values = [m for m in marks if m is not None]
        if len(values) != len(marks) or not values:
            return None
        if values != sorted(set(values)) or (start is not None and values[0] <= start):
            return None
        return cls(origin or None, tuple(values))

    @property
    def ranges(self) -> list[tuple[str | None, int | None]]:
        starts: list[str | None] = [self.origin, *(str(b) for b in self.bounds)]
        ends: list[int | None] = [*self.bounds, None]
        return list(zip(starts, ends, strict=True))


class PartitionStream:
    """One partition of an MSN stream, as a stream the engine runs like any other."""

    def __init__(
        self,
        base: Stream,
        index: int,
        start: str | None,
        end: int | None,
        gate: ReaderGate,
        first_after: Callable[[int], str | None],
    ) -> None:
        self.base = base
        self.name = part_key(base.name, index)
        self.kind = base.kind
        self.start = start
        self.end = end
        self._gate = gate
        self._first_after = first_after

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        start = cursor if cursor is not None else self.start
        end = self.end
        if end is not None and (parse_msn(start) or 0) >= end:
            return  # done before the crash
        source = iter(self.base.pages(client, start, page_size))
        while True:
            with self._gate:
                page = next(source, None)
            if page is None:
                break
            if end is None:
                yield page
                continue
            reached = page.items and page.cursor is not None and int(page.cursor) >= end
            if not reached:
                if page.items:
                    yield page
                    continue
                break  # drained before the bound: what was here moved past it
            items = page.items
            if int(str(page.cursor)) > end:  # the tail of this page is the next partition's
                items = items[: cut_before(items, self._first_after(end))]
            yield FetchedPage(items=items, cursor=str(end), fetched=page.fetched)
            return
        if end is not None:
            yield FetchedPage(items=[], cursor=str(end), fetched=0)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return self.base.context(enricher, items)


class Prober:
    """``size=1`` requests of one stream at cursors of our own making."""

    def __init__(self, client: Any, stream: Stream, pool: ThreadPoolExecutor) -> None:
        self._client = client
        self._stream = stream
        self._pool = pool

    def first(self, after: int, size: int = 1) -> FetchedPage:
        """The first page after ``after`` (0: from the beginning); a 400, 404 or 422 answer
        to a cursor gta made up is ``ProbeRefusedError``."""
        pages: Iterator[FetchedPage] | None = None
        try:
            pages = iter(self._stream.pages(self._client, str(after) if after else None, size))
            return next(pages, FetchedPage(items=[], cursor=None, fetched=0))
        except ApiStatusError as exc:
            if exc.status_code in (400, 404, 422):
                raise ProbeRefusedError(str(exc)) from None
            raise
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def msn_after(self, after: int) -> int | None:
        page = self.first(after)
        return parse_msn(page.cursor) if page.items else None

    def id_after(self, after: int) -> str | None:
        page = self.first(after)
        if not page.items:
            return None
        checked(after, parse_msn(page.cursor))
        value = page.items[0].get("id")
        return value if isinstance(value, str) else None

    def map(self, probe: Probe, points: Sequence[int]) -> Iterable[int | None]:
        return list(self._pool.map(in_context(probe), points))

    def submit(self, fn: Callable[..., FetchedPage], *args: Any) -> Future[FetchedPage]:
        return self._pool.submit(in_context(fn), *args)


@dataclass(frozen=True)
class Split:
    """A new plan, and why (for the log)."""

    plan: Plan
    span: Span
    readers: int


DRAINED = "drained"
"""``make_plan``'s answer when nothing changed after the cursor: the stream is read."""


def make_plan(
    prober: Prober, origin: str | None, readers: int | None, page_size: int
) -> Split | str | None:
    """Split the backlog after ``origin`` for ``readers`` (``None``: choose); ``None`` when one
    cursor is the better choice (a small backlog), ``DRAINED`` when there is nothing after it."""
    start = parse_msn(origin) or 0
    # the density of this stream among all changes: a full page read from the start, fetched
    # while the probes run
    first_page = prober.submit(prober.first, start, page_size) if readers is None else None

    def small(span: Span) -> bool:
        """Even the bracket's far end is less than two readers' worth of pages."""
        if first_page is None:
            return False
        page = first_page.result()
        if len(page.items) < page_size or page.cursor is None:
            return True
        per_page = max(1, (parse_msn(page.cursor) or 0) - span.first)
        return (min(span.high, MAX_MSN) - span.first) / per_page < 2 * PAGES_PER_READER

    span = find_span(start, prober.msn_after, prober.map, enough=small)
    if span is None:
        return DRAINED
    if small(span):
        return None  # one cursor: no backlog, or too little to split
    wanted = readers or 1
    if first_page is not None:
        end = parse_msn(first_page.result().cursor) or 0
        wanted = choose_readers(span, end, page_size, MAX_READERS, PAGES_PER_READER)
    if wanted < 2:
        return None
    cut = bounds(start, span, wanted, prober.msn_after, prober.map)
    if not cut:
        return None
    return Split(Plan(origin, tuple(cut)), span, wanted)


def stale_keys(store: StateStore, job: str, customer_id: str, stream: str) -> list[str]:
    """The plan and partition checkpoints of ``stream`` in the store."""
    prefix = f"{stream}#"
    return [
        c.stream
        for c in store.list(job=job)
        if c.customer_id == customer_id and c.stream.startswith(prefix)
    ]


def forget(store: StateStore, job: str, customer_id: str, keys: Iterable[str]) -> int:
    """Delete a plan and its partitions' checkpoints; returns the records they had counted."""
    added = 0
    for key in keys:
        saved = store.get(job, customer_id, key)
        if saved is not None and not key.endswith("#plan"):
            added += saved.records
        store.reset(job=job, stream=key, customer_id=customer_id)
    return added


def run_partitions(
    run_one: Callable[[Stream, threading.Event], Any],
    partitions: list[PartitionStream],
    stop: threading.Event,
) -> list[Any]:
    """Run every partition at once; the first failure stops the others, and is raised."""
    inner = threading.Event()
    pool = ThreadPoolExecutor(max_workers=len(partitions), thread_name_prefix="gta-reader")
    futures: list[Future[Any]] = [
        pool.submit(in_context(run_one), part, inner) for part in partitions
    ]
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
            if stop.is_set() or any(f.exception() is not None for f in done):
                inner.set()
        for future in futures:
            future.result()  # the first failure, in partition order
        return [f.result() for f in futures]
    finally:
        inner.set()
        pool.shutdown(wait=True)


__all__ = [
    "MAX_READERS",
    "PartitionStream",
    "Plan",
    "ProbeRefusedError",
    "Prober",
    "forget",
    "make_plan",
    "partitionable",
    "run_partitions",
    "stale_keys",
]
