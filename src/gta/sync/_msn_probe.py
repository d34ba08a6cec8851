"""Where an MSN stream's backlog ends, and where to split it: cheap ``size=1`` probes.

The cursor of the MSN streams is the modification sequence number of the last object read, in
decimal (``after=<msn>`` returns the objects changed after it, oldest change first). That is
inferred from what the API returns, not documented, so every answer is checked: a probe must
return an object whose MSN lies after the one asked for, in decimal. Anything else raises
``ProbeRefusedError`` and the caller reads through one cursor, as before.

``probe(x)`` asks ``after=x&size=1`` and returns the MSN of the first object changed after
``x`` (``None``: nothing after ``x``). The search is pure over that function (tests give it a
table): doubling from the start (four at a time) finds a probe past the newest change, then
bisection narrows the newest MSN down to a tolerance. Probes of one round are independent,
so they are sent together (``map_``, a thread pool in the engine): the wall time is a few
round trips, however long the backlog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gta.errors import GtaError

Probe = Callable[[int], "int | None"]
Mapper = Callable[[Probe, Sequence[int]], Iterable["int | None"]]

_DECIMAL = re.compile(r"^\d{1,18}$")
MAX_MSN = 10**18 - 1
FIRST_STEP = 1 << 10
STEP_FACTOR = 4
"""Doubling, four at a time: each probe ``start + FIRST_STEP * 4**k`` in one round."""
DOUBLING_PROBES = 16
BISECTION_POINTS = 7
"""Probes per bisection round: the bracket shrinks eightfold per round trip."""
MAX_ROUNDS = 6


class ProbeRefusedError(GtaError):
    """The API refused, or answered inconsistently, a cursor it did not issue."""


def parse_msn(cursor: str | None) -> int | None:
    """A cursor as an MSN (``None`` stays ``None``); ``ProbeRefusedError`` when not decimal."""
    if cursor is None:
        return None
    if not _DECIMAL.match(cursor):
        raise ProbeRefusedError(f"the cursor {cursor[:40]!r} is not a sequence number")
    return int(cursor)


def checked(asked: int, answer: int | None) -> int | None:
    """An answer to ``after=asked`` must lie after it; the API is not trusted blindly."""
    if answer is not None and not asked < answer <= MAX_MSN:
        raise ProbeRefusedError(
            f"asked for changes after {asked}, the API returned one at {answer}"
        )
    return answer


@dataclass(frozen=True)
class Span:
    """The backlog between a start and the newest change: ``first`` is the first MSN after the
    start, the newest change lies in ``[low, high]``."""

    first: int
    low: int
    high: int


def find_span(
    start: int,
    probe: Probe,
    map_: Mapper,
    tolerance: float = 1 / 16,
    enough: Callable[[Span], bool] | None = None,
) -> Span | None:
    """The backlog after ``start`` (``None``: nothing after it).

    One round asks for the first change after ``start`` and doubles away from it (four at a
    time); then bisection rounds narrow the bracket ``[low, high]`` around the newest MSN until
    it is within ``tolerance`` of the backlog's length (the last partition is open-ended, so it
    need not be exact). ``enough(span)`` true after a round stops there (a backlog too small
    to split needs no precision).
    """
    points = [start] + [
        min(MAX_MSN, start + FIRST_STEP * STEP_FACTOR**k) for k in range(DOUBLING_PROBES)
    ]
    answers = [checked(p, a) for p, a in zip(points, map_(probe, points), strict=True)]
    first = answers[0]
    if first is None:
        return None
    low, high = first, MAX_MSN
    for point, found in zip(points[1:], answers[1:], strict=True):
        if found is None:
            high = min(high, point)
            break
        low = max(low, found)
    if enough is not None and enough(Span(first=first, low=low, high=high)):
        return Span(first=first, low=low, high=high)
    for _ in range(MAX_ROUNDS):
        if high - low <= max(1, int((low - first) * tolerance)):
            break
        if enough is not None and enough(Span(first=first, low=low, high=high)):
            break
        step = (high - low) / (BISECTION_POINTS + 1)
        mids = sorted({low + max(1, int(step * (i + 1))) for i in range(BISECTION_POINTS)})
        mids = [m for m in mids if m < high]
        for mid, answer in zip(mids, map_(probe, mids), strict=True):
            found = checked(mid, answer)
            if found is None:
                high = min(high, mid)
                break
            low = max(low, found)
    return Span(first=first, low=low, high=high)


def split_points(start: int, newest: int, parts: int) -> list[int]:
    """``parts - 1`` MSNs cutting ``(start, newest]`` into ranges of equal length."""
    length = newest - start
    points = sorted({start + length * i // parts for i in range(1, parts)})
    return [p for p in points if start < p < newest]


def bounds(start: int, span: Span, parts: int, probe: Probe, map_: Mapper) -> list[int]:
    """Where partitions end: the MSN of the first change after each split point, so every
    partition starts after a cursor the API itself issued. Increasing, without repeats, all
    before the newest change found."""
    points = split_points(start, span.low, parts)
    found: list[int] = []
    for point, answer in zip(points, map_(probe, points), strict=True):
        msn = checked(point, answer)
        if msn is not None and msn < span.low and (not found or msn > found[-1]):
            found.append(msn)
    return found


def choose_readers(span: Span, first_page: int, page_size: int, most: int, pages_each: int) -> int:
    """Readers for a backlog: one per ``pages_each`` pages, at most ``most``.

    ``first_page`` is the MSN at the end of a first full page read from the start: its length
    in MSNs estimates the density of this stream among all changes, so the backlog's objects
    are about ``page_size * (newest - first) / (first_page - first)``.
    """
    per_page = max(1, first_page - span.first)
    pages = (span.low - span.first) / per_page + 1
    return max(1, min(most, int(pages // max(1, pages_each))))


def cut_before(items: Sequence[dict[str, object]], first_id: object) -> int:
    """How many of a page's objects come before the object ``first_id`` (all when absent)."""
    for index, item in enumerate(items):
        if item.get("id") == first_id:
            return index
    return len(items)
