"""The contract of a record format: pure functions from API objects to records.

Inputs are the JSON dicts exactly as the API sent them (camelCase), so the sync hot path never
builds models. A format never does I/O: everything it may need besides the object itself comes
through ``FormatContext``, which the sync engine fills from bulk lookups before formatting a page.
"""

from __future__ import annotations

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


class Format(Protocol):
    """One record shape for every stream. Each method returns the records for one object."""

    name: str

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]: ...

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]: ...

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]: ...

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]: ...


class UnknownFormatError(InputError, ValueError):
    """Raised for a format name that is not registered; the message lists the valid ones."""
