"""The contract of a record format: pure functions from API objects to records.

Inputs are the JSON dicts exactly as the API sent them (camelCase), so the sync hot path never
builds models. A format never does I/O: everything it may need besides the object itself comes
through ``FormatContext``, which the sync engine fills from bulk lookups before formatting a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from gta._types import Record
from gta.errors import InputError

ApiObject = dict[str, Any]


class FormatContext(Protocol):
    """Parent objects already loaded for the page being formatted (``None`` when missing)."""

    index_time: str
    """Real UTC time of this run, RFC 3339 with ``Z``; stamped on every record as ``indexTime``."""

    customer_id: str | None
    """The GTA customer (tenant) id the objects belong to, when known (OCSF ``tenant_uid``, ECS
    ``organization.id``). Formats read it with ``getattr`` so older contexts still work."""

    def detection(self, detection_id: str) -> ApiObject | None:
        """A ThreatDetection (enriched form, with ``alertIds``)."""

    def alert(self, alert_id: str) -> ApiObject | None:
        """An Alert."""

    def asset(self, asset_id: str) -> ApiObject | None:
        """An Asset."""

    def threat_intel(self, record_id: str) -> ApiObject | None:
        """A ThreatIntelRecord."""


RecordFn = Callable[[ApiObject, FormatContext], list[Record]]
"""The records for one object of one kind (an annotation event fans out to several rows)."""


class Format(Protocol):
    """One record shape: a name and a table of record functions keyed by record kind
    (``gta.formats._kinds``). A format need not have every kind: a stream whose kind it lacks
    is refused before anything runs (``records_for``)."""

    @property
    def name(self) -> str: ...

    @property
    def records(self) -> Mapping[str, RecordFn]: ...


@dataclass(frozen=True)
class FormatTable:
    """The plainest ``Format``: a name and its table (``{EVENTS: event_rows, ...}``)."""

    name: str
    records: Mapping[str, RecordFn]


class KindMethods:
    """A format written as one method per record kind (``events``, ``alerts``,
    ``threat_detections``, ``flows``): its table maps each kind to its method. The built-in
    formats are written so; a new one may be a plain ``FormatTable`` instead."""

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]:
        raise NotImplementedError

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        raise NotImplementedError

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]:
        raise NotImplementedError

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]:
        raise NotImplementedError

    @cached_property
    def records(self) -> Mapping[str, RecordFn]:
        """The table the engine uses, by record kind."""
        from gta.formats._kinds import ALERTS, EVENTS, FLOWS, THREAT_DETECTIONS

        return {
            EVENTS: self.events,
            ALERTS: self.alerts,
            THREAT_DETECTIONS: self.threat_detections,
            FLOWS: self.flows,
        }


class UnknownFormatError(InputError, ValueError):
    """Raised for a format name that is not registered; the message lists the valid ones."""


class UnsupportedKindError(UnknownFormatError):
    """A format asked for a record kind its table does not have; the message lists those it has."""


def records_for(fmt: Format, kind: str) -> RecordFn:
    """The function of ``fmt`` for objects of ``kind``; a kind it lacks is one clear error."""
    try:
        return fmt.records[kind]
    except KeyError:
        has = ", ".join(fmt.records) or "none"
        raise UnsupportedKindError(
            f"format {fmt.name!r} has no {kind!r} records; it has: {has}"
        ) from None
