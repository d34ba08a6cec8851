"""The streams, as data: ``STREAMS`` is the only list of them.

A ``StreamSpec`` says everything the engine needs about one stream: its name, the record kind
its objects are (the key into every format's table, ``gta.formats.RECORD_KINDS``), its cursor
kind with the SDK call it pages (``_cursors``), the enrichment a page needs before it can be
formatted, and, for alerts, how removed objects are tracked and tombstoned. Stream names
everywhere else (``STREAM_NAMES``, the config file, the command line) derive from ``STREAMS``.
Adding a stream is one spec here plus its entries in the formats' tables (docs/architecture.md
has the checklist). Streams know nothing of sinks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from gta.errors import InputError
from gta.formats import (
    ALERTS,
    EVENTS,
    FLOWS,
    THREAT_DETECTIONS,
    ApiObject,
    is_tombstone,
)
from gta.state import StateStore
from gta.sync._alert_removals import removals
from gta.sync._alert_set import AlertSet
from gta.sync._cursors import AlertTimeCursor, CursorKind, FetchedPage, MsnCursor
from gta.sync._enrich import Enricher, PageContext
from gta.sync._sdk import SyncClient

log = logging.getLogger("gta.sync")

Enrichment = Callable[[Enricher, Sequence[ApiObject]], PageContext]
"""The parents a page's objects need, loaded through the enricher (``Enricher.for_events``)."""
AfterFlush = Callable[[StateStore, str, str, Sequence[ApiObject]], None]


class UnknownStreamError(InputError, ValueError):
    """A stream name that does not exist; the message lists the valid ones."""


class Stream(Protocol):
    """What the engine runs (a ``StreamSpec`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def pages(
        self, client: SyncClient, cursor: str | None, page_size: int
    ) -> Iterator[FetchedPage]:
        """Pages from ``cursor`` (``None``: from the beginning) until the stream is drained."""
        ...

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        """The parents the format needs for these objects (its records come from the format's
        table entry for ``kind``)."""
        ...


class RemovedAlerts:
    """Alerts the service removes (45 days after their last detection timed out) leave no
    trace in the listing: the delivered ones are remembered per job (``AlertSet``) and checked
    now and then (``_alert_removals``); each removed one is delivered as a tombstone."""

    def after_flush(
        self, store: StateStore, job: str, customer_id: str, items: Sequence[ApiObject]
    ) -> None:
        """The page's alerts reached the sink: remember them live, forget the tombstoned."""
        alert_set = AlertSet(store, job, customer_id)
        alert_set.remember(a for a in items if not is_tombstone(a))
        alert_set.forget(str(a["id"]) for a in items if is_tombstone(a))

    def removals(
        self,
        client: SyncClient,
        store: StateStore,
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


@dataclass(frozen=True)
class StreamSpec:
    """One stream (see the module docstring)."""

    name: str
    kind: str
    cursor: CursorKind
    enrich: Enrichment
    removed: RemovedAlerts | None = None
    summary: str = ""

    def pages(
        self, client: SyncClient, cursor: str | None, page_size: int
    ) -> Iterator[FetchedPage]:
        return self.cursor.pages(client, cursor, page_size)

    def context(self, enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
        return self.enrich(enricher, items)

    # The engine's optional hooks (``run_stream``): present only where removals are tracked.
    @property
    def after_flush(self) -> AfterFlush | None:
        return self.removed.after_flush if self.removed is not None else None

    @property
    def removals(self) -> Callable[..., Iterator[Sequence[ApiObject]]] | None:
        return self.removed.removals if self.removed is not None else None


def _no_parents(enricher: Enricher, items: Sequence[ApiObject]) -> PageContext:
    return enricher.bare()


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        name=EVENTS,
        kind=EVENTS,
        cursor=MsnCursor(lambda client: client.events.enriched),
        enrich=Enricher.for_events,
        summary="enriched events by MSN, with every parent joined",
    ),
    StreamSpec(
        name=ALERTS,
        kind=ALERTS,
        cursor=AlertTimeCursor(lambda client: client.alerts.list),
        enrich=_no_parents,
        removed=RemovedAlerts(),
        summary="new and changed alerts by modifiedAt; removed alerts as tombstones",
    ),
    StreamSpec(
        name=THREAT_DETECTIONS,
        kind=THREAT_DETECTIONS,
        cursor=MsnCursor(lambda client: client.threat_detections.list),
        enrich=Enricher.for_detections,
        summary="threat detections by MSN, with alert ids, asset and threat-intel record",
    ),
    StreamSpec(
        name=FLOWS,
        kind=FLOWS,
        cursor=MsnCursor(lambda client: client.flows.search),
        enrich=_no_parents,
        summary="flows by MSN; immutable, so each is delivered once",
    ),
)
"""Every stream, in the order ``--stream all`` runs them."""

STREAM_NAMES = tuple(spec.name for spec in STREAMS)
_BY_NAME = {spec.name: spec for spec in STREAMS}


def get_stream(name: str) -> StreamSpec:
    """The stream called ``name``; an unknown name lists the valid ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownStreamError(
            f"unknown stream {name!r}; choose one of: {', '.join(STREAM_NAMES)}"
        ) from None


def has_alert_cursor(stream: str) -> bool:
    """Whether ``stream`` saves an ``AlertCursor`` (JSON, by time) rather than an MSN; ``False``
    for a name not in the registry (a checkpoint written by another version)."""
    spec = _BY_NAME.get(stream)
    return spec is not None and isinstance(spec.cursor, AlertTimeCursor)
