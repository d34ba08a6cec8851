"""How a stream pages from its saved cursor: the two cursor kinds.

- ``MsnCursor``: the object's modification sequence number (events, threat detections, flows).
  The API sorts by it and pages with ``after=<endCursor>``; the cursor to save after a page is
  that page's ``endCursor``, and an empty page keeps the previous one.
- ``AlertTimeCursor``: alerts have no sequence number, only ``modifiedAfter``, so the cursor is
  the serialized ``AlertCursor`` (overlap window and boundary versions, see its module), clamped
  to the server's present. ``scan_alerts`` is that scan alone, for ``gta alerts watch`` too.

A cursor kind yields ``FetchedPage``s: the objects to deliver and the cursor that is safe to save
once they are delivered. Each holds the SDK call it pages (``SyncClient -> call``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from gta.formats import ApiObject
from gta.sync._alert_cursor import (
    DEFAULT_BOUNDARY_CAP,
    DEFAULT_OVERLAP,
    AlertCursor,
    ahead_of,
    format_time,
    parse_time,
)
from gta.sync._alert_removals import page_time
from gta.sync._sdk import Listing, SyncClient

log = logging.getLogger("gta.sync")
FUTURE_TOLERANCE = timedelta(seconds=2)
"""How far a ``modifiedAt`` may lie ahead of the server's ``Date`` (whole seconds) unremarked."""


@dataclass(frozen=True)
class FetchedPage:
    """One page of a stream: objects to deliver, and the cursor to save after them."""

    items: list[ApiObject]
    cursor: str | None
    fetched: int  # objects the API returned (alerts may drop already delivered versions)


class CursorKind(Protocol):
    """Pages of one stream from a saved cursor (``None``: from the beginning) until drained."""

    @property
    def name(self) -> str: ...

    def pages(
        self, client: SyncClient, cursor: str | None, page_size: int
    ) -> Iterator[FetchedPage]: ...


class MsnCall(Protocol):
    """An SDK collection call sorted by modification sequence number."""

    def __call__(self, *, after: str | None, size: int) -> Listing: ...


class TimeCall(Protocol):
    """An SDK collection call filtered by ``modifiedAfter`` (the alerts listing)."""

    def __call__(self, *, modified_after: str | None, after: str | None, size: int) -> Listing: ...


@dataclass(frozen=True)
class MsnCursor:
    """The saved cursor is the last page's ``endCursor``."""

    call: Callable[[SyncClient], MsnCall]
    name: str = "msn"

    def pages(
        self, client: SyncClient, cursor: str | None, page_size: int
    ) -> Iterator[FetchedPage]:
        raw = self.call(client)(after=cursor, size=page_size).raw()
        last = cursor
        for page in raw.pages():
            items = page.items
            end = raw.end_cursor if items else None
            last = end if end is not None else last
            yield FetchedPage(items=items, cursor=last, fetched=len(items))


@dataclass(frozen=True)
class AlertPage:
    """One page of an alert scan: the cursor after it, the versions not delivered before, how
    many alerts the API returned, and the server's present when it answered."""

    cursor: AlertCursor
    fresh: list[ApiObject]
    fetched: int
    present: datetime
    done: bool = False  # the scan's end: ``cursor`` is finished, no alerts


def scan_alerts(
    call: TimeCall,
    cursor: AlertCursor,
    *,
    page_size: int,
    overlap: timedelta = DEFAULT_OVERLAP,
    cap: int = DEFAULT_BOUNDARY_CAP,
) -> Iterator[AlertPage]:
    """One scan of the alerts modified since ``cursor`` (minus ``overlap``), page by page, each
    version once; the last page yielded (no alerts) carries the finished cursor."""
    state = cursor.begin(overlap)
    assert state.scan is not None
    pager = call(modified_after=state.scan.modified_after, after=state.scan.after, size=page_size)
    raw = pager.raw()
    present: datetime | None = None
    for page in raw.pages():
        items = page.items
        present = page_time(page)
        state, fresh = state.accept(
            items, raw.end_cursor if items else None, overlap=overlap, cap=cap, now=present
        )
        yield AlertPage(cursor=state, fresh=fresh, fetched=len(items), present=present)
    done = state.finish(overlap=overlap, cap=cap)
    present = present if present is not None else datetime.now(UTC)
    yield AlertPage(cursor=done, fresh=[], fetched=0, present=present, done=True)


@dataclass(frozen=True)
class AlertTimeCursor:
    """The saved cursor is an ``AlertCursor`` (see ``_alert_cursor``); removed alerts come as
    tombstones through the stream's ``RemovedAlerts``."""

    call: Callable[[SyncClient], TimeCall]
    overlap: timedelta = DEFAULT_OVERLAP
    boundary_cap: int = DEFAULT_BOUNDARY_CAP
    name: str = "alert-time"

    def pages(
        self, client: SyncClient, cursor: str | None, page_size: int
    ) -> Iterator[FetchedPage]:
        start = AlertCursor.loads(cursor)
        scan_state = start.begin(self.overlap).scan
        lower = scan_state.modified_after if scan_state is not None else None
        scan = scan_alerts(
            self.call(client),
            start,
            page_size=page_size,
            overlap=self.overlap,
            cap=self.boundary_cap,
        )
        for number, page in enumerate(scan):
            if number == 0 and not page.done and lower is not None:
                _warn_ahead(lower, page.present)
            _warn_future(page.fresh, page.present)
            yield FetchedPage(items=page.fresh, cursor=page.cursor.dumps(), fetched=page.fetched)


def _warn_ahead(lower: str, present: datetime) -> None:
    if parse_time(lower) > present:
        log.warning(
            "alerts: the saved cursor (modified after %s) is ahead of the server's "
            "time %s; it will come back to the present, but changes before it were "
            "not read: set an earlier time with 'gta state set --stream alerts'",
            lower,
            format_time(present),
        )


def _warn_future(alerts: list[ApiObject], present: datetime) -> None:
    """Log, once per delivered version, an alert stamped after the server's present."""
    for alert in alerts:
        if ahead_of(alert, present, FUTURE_TOLERANCE):
            log.warning(
                "alerts: alert %s has modifiedAt %s, after the server's time %s; delivered, "
                "but the alerts checkpoint does not move past the server's present",
                ascii(str(alert.get("id"))[:80]),
                ascii(str(alert.get("modifiedAt"))[:40]),
                format_time(present),
            )
