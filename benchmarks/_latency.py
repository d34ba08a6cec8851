"""Emulator page latency: how long one page of 1000 enriched events takes to serve.

The pages probed are spread over the whole backlog (the cursors come from the ceiling run), so
a server whose cost grew with the depth of the page (OFFSET paging) would show it at 1M events.
Requests are sent by a client that does nothing else, with no fault injected: one at a time, or
(``readers``) from that many threads at once, as partitioned backfill reads, each request timed
on its own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from benchmarks._results import PageLatency
from benchmarks.limit import EVENTS_PATH, PAGE_SIZE, Api

WARMUP_REQUESTS = 3


def spread(cursors: Sequence[str | None], count: int) -> list[str | None]:
    """``count`` cursors evenly spread over ``cursors`` (repeating them when there are fewer)."""
    if not cursors or count <= 0:
        return []
    if len(cursors) == 1:
        return [cursors[0]] * count
    last = len(cursors) - 1
    if count == 1:
        return [cursors[0]]
    return [cursors[round(i * last / (count - 1))] for i in range(count)]


def measure_page_latency(
    credentials: Mapping[str, str],
    cursors: Sequence[str | None],
    samples: int,
    readers: int = 1,
) -> PageLatency:
    """Median-ready samples (ms) of single page requests at cursors spread over the backlog.

    ``cursors`` are the ``after`` values of the backlog's pages in order; the last page is left
    out when there are others, since it may hold fewer than 1000 events.
    """
    full_pages = list(cursors[:-1]) if len(cursors) > 1 else list(cursors)
    api = Api(dict(credentials), concurrency=readers)
    path = api.api_url + EVENTS_PATH.format(cid=api.customer_id)
    base: dict[str, str | int] = {"sort": "modificationSequenceNumber", "size": PAGE_SIZE}

    def timed(after: str | None) -> tuple[float, int]:
        params = dict(base) if after is None else {**base, "after": after}
        headers = api.auth_headers()
        started = time.perf_counter()
        response = api.http.get(path, params=params, headers=headers)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        response.raise_for_status()
        return elapsed_ms, len(response.json()["items"])

    try:
        for after in spread(full_pages, WARMUP_REQUESTS):
            timed(after)
        probes = spread(full_pages, samples * readers)
        with ThreadPoolExecutor(max_workers=readers) as pool:
            answers = list(pool.map(timed, probes))
    finally:
        api.http.close()
    return PageLatency(
        samples_ms=[ms for ms, _ in answers],
        page_items=max((n for _, n in answers), default=0),
        readers=readers,
    )
