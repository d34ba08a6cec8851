"""The four streams: how each one pages from its cursor, enriches a page and formats an object.

A stream yields ``FetchedPage``s: the objects to deliver and the cursor that is safe to save
once they are delivered. For the MSN streams (events, threat detections, flows) that cursor is
the page's ``endCursor``; for alerts it is the serialized ``AlertCursor`` (see its module).
Streams know nothing of sinks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from gta.errors import InputError
from gta.formats._base import ApiObject, Format
from gta.formats._ids import is_tombstone
from gta.sinks._base import Record
from gta.sync._alert_cursor import (
    DEFAULT_BOUNDARY_CAP,
    DEFAULT_OVERLAP,
    AlertCursor,
    ahead_of,
    format_time,
    parse_time,
)
from gta.sync._alert_removals import page_time, removals
from gta.sync._alert_set import AlertSet
from gta.sync._enrich import Enricher, PageContext
from gta.sync._state import CheckpointStore

log = logging.getLogger("gta.sync")
FUTURE_TOLERANCE = timedelta(seconds=2)
"""How far a ``modifiedAt`` may lie ahead of the server's ``Date`` (whole seconds) unremarked."""

STREAM_NAMES = ("events", "alerts", "threat-detections", "flows")


class UnknownStreamError(InputError, ValueError):
    """A stream name that does not exist; the message lists the valid ones."""


@dataclass(frozen=True)
class FetchedPage:
    """One page of a stream: objects to deliver, and the cursor to save after them."""

    items: list[ApiObject]
    cursor: str | None
    fetched: int  # objects the API returned (alerts may drop already delivered versions)


class Stream(Protocol):
    name: str

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        """Pages from ``cursor`` (``None``: from the beginning) until the stream is drained."""

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        """The parents the format needs for these objects."""

    def format(self, fmt: Format, obj: ApiObject, ctx: PageContext) -> list[Record]:
        """The records for one object."""


def _msn_pages(pager: Any, cursor: str | None) -> Iterator[FetchedPage]:
    """Pages of an MSN-sorted pager; an empty page keeps the previous cursor."""
    raw = pager.raw()
    last = cursor
    for page in raw.pages():
        items: list[ApiObject] = page.items
        end = raw.end_cursor if items else None
        last = end if end is not None else last
        yield FetchedPage(items=items, cursor=last, fetched=len(items))


class EventsStream:
    """Enriched events by modification sequence number, with every parent joined."""

    name = "events"

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        return _msn_pages(client.events.enriched(after=cursor, size=page_size), cursor)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return enricher.for_events(items)

    def format(self, fmt: Format, obj: ApiObject, ctx: PageContext) -> list[Record]:
        return fmt.events(obj, ctx)


class ThreatDetectionsStream:
    """Threat detections by MSN, with their alert ids, asset and threat-intel record."""

    name = "threat-detections"

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        return _msn_pages(client.threat_detections.list(after=cursor, size=page_size), cursor)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return enricher.for_detections(items)

    def format(self, fmt: Format, obj: ApiObject, ctx: PageContext) -> list[Record]:
        return fmt.threat_detections(obj, ctx)


class FlowsStream:
    """Flows by MSN; immutable, so each is delivered once (plus crash re-deliveries)."""

    name = "flows"

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        return _msn_pages(client.flows.search(after=cursor, size=page_size), cursor)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return enricher.bare()

    def format(self, fmt: Format, obj: ApiObject, ctx: PageContext) -> list[Record]:
        return fmt.flows(obj, ctx)


class AlertsStream:
    """New and changed alerts through ``modifiedAfter`` with an overlap window (see
    ``_alert_cursor``), clamped to the server's present; removed alerts as tombstones (see
    ``_alert_removals``)."""

    name = "alerts"

    def __init__(
        self, overlap: timedelta = DEFAULT_OVERLAP, boundary_cap: int = DEFAULT_BOUNDARY_CAP
    ) -> None:
        self.overlap = overlap
        self.boundary_cap = boundary_cap

    def pages(self, client: Any, cursor: str | None, page_size: int) -> Iterator[FetchedPage]:
        state = AlertCursor.loads(cursor).begin(self.overlap)
        assert state.scan is not None
        lower = state.scan.modified_after
        pager = client.alerts.list(
            modified_after=lower, after=state.scan.after, size=page_size
        ).raw()
        for number, page in enumerate(pager.pages()):
            items: list[ApiObject] = page.items
            present = page_time(page)
            if number == 0 and lower is not None and parse_time(lower) > present:
                log.warning(
                    "alerts: the saved cursor (modified after %s) is ahead of the server's "
                    "time %s; it will come back to the present, but changes before it were "
                    "not read: set an earlier time with 'gta state set --stream alerts'",
                    lower,
                    format_time(present),
                )
            state, fresh = state.accept(
                items,
                pager.end_cursor if items else None,
                overlap=self.overlap,
                cap=self.boundary_cap,
                now=present,
            )
            _warn_future(fresh, present)
            yield FetchedPage(items=fresh, cursor=state.dumps(), fetched=len(items))
        done = state.finish(overlap=self.overlap, cap=self.boundary_cap)
        yield FetchedPage(items=[], cursor=done.dumps(), fetched=0)

    def after_flush(
        self, store: CheckpointStore, job: str, customer_id: str, items: Sequence[ApiObject]
    ) -> None:
        """The page's alerts reached the sink: remember them live, forget the tombstoned."""
        alert_set = AlertSet(store, job, customer_id)
        alert_set.remember(a for a in items if not is_tombstone(a))
        alert_set.forget(str(a["id"]) for a in items if is_tombstone(a))

    def removals(
        self,
        client: Any,
        store: CheckpointStore,
        job: str,
        customer_id: str,
        *,
        every: float,
        page_size: int,
    ) -> Iterator[Sequence[ApiObject]]:
        """Tombstones for the delivered alerts the service removed (at most once per
        ``every`` seconds), in batches of ``page_size``."""
        alert_set = AlertSet(store, job, customer_id)
        yield from removals(client, alert_set, every=every, batch=page_size)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return enricher.bare()

    def format(self, fmt: Format, obj: ApiObject, ctx: PageContext) -> list[Record]:
        return fmt.alerts(obj, ctx)


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


def get_stream(name: str) -> Stream:
    """The stream called ``name``; an unknown name lists the valid ones."""
    streams: dict[str, Stream] = {
        "events": EventsStream(),
        "alerts": AlertsStream(),
        "threat-detections": ThreatDetectionsStream(),
        "flows": FlowsStream(),
    }
    try:
        return streams[name]
    except KeyError:
        raise UnknownStreamError(
            f"unknown stream {name!r}; choose one of: {', '.join(STREAM_NAMES)}"
        ) from None
