"""Typed, tolerant models of the API objects (API.md §5).

Attributes are snake_case; the JSON keys (camelCase) are their aliases, and either name is
accepted when building a model. Every field is optional, unknown fields are kept
(``extra="allow"``) and enumerations are plain ``str`` so a value the service adds tomorrow
(a new risk, a new status) is carried through instead of failing the whole page. The known
values are listed in ``ClassVar`` tuples for reference. ``model_dump(by_alias=True)`` gives
the camelCase structure back, unknown fields included; timestamps are parsed into aware
``datetime`` objects, so use ``Pager.raw()`` when you need the bytes-exact strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "Alert",
    "AlertStatus",
    "ApiModel",
    "Asset",
    "Event",
    "Flow",
    "Page",
    "PageInfo",
    "SecurityAnnotation",
    "ThreatDetection",
    "ThreatIntelRecord",
]

T = TypeVar("T")


class ApiModel(BaseModel):
    """Base of every API object: camelCase aliases, unknown fields kept, numbers as ids."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        coerce_numbers_to_str=True,
        # Validators are built on first use: a program that needs only some models (the CLI's
        # listings need none but PageInfo) does not pay for building all of them at import.
        defer_build=True,
    )


class AlertStatus(ApiModel):
    """An alert's workflow status, e.g. ``{"value": "Closed", "closingReasons": [...]}``."""

    VALUES: ClassVar[tuple[str, ...]] = ("New", "Open", "Closed")

    value: str | None = None
    #: Any JSON the service sends (usually a list of strings such as ``["FalsePositive"]``).
    closing_reasons: Any = None


class Alert(ApiModel):
    """An alert: one or more threat detections grouped under a risk and a workflow status."""

    RISKS: ClassVar[tuple[str, ...]] = ("Critical", "High", "Medium", "Low")

    id: str | None = None
    risk: str | None = None
    status: AlertStatus | None = None
    eta_flag: str | None = None
    note: str | None = None
    triggered_at: datetime | None = None
    modified_at: datetime | None = None
    #: Deprecated by the service; kept when present, never required.
    state: Any = None


class ThreatDetection(ApiModel):
    """A threat detected on an asset; the enriched form lists the alerts it belongs to."""

    id: str | None = None
    affected_asset_id: str | None = None
    confidence: str | int | float | None = None
    threat_intel_record_id: str | None = None
    detected_at: datetime | None = None
    modified_at: datetime | None = None
    alert_ids: list[str] | None = None


class SecurityAnnotation(ApiModel):
    """What made an event security-relevant."""

    id: str | None = None
    required_attributes: Any = None


class Event(ApiModel):
    """A security event; ``threat_detection_ids`` is empty for a contextual event."""

    id: str | None = None
    detected_at: datetime | None = None
    modified_at: datetime | None = None
    security_event_type_id: str | int | None = None
    title: str | None = None
    subtitle: str | None = None
    affected_asset_id: str | None = None
    security_annotation: SecurityAnnotation | None = None
    threat_detection_ids: list[str] | None = None


class Flow(ApiModel):
    """An observed network flow (immutable); fields beyond these are kept as extras."""

    id: str | None = None
    time_stamp: datetime | None = None
    network_security_event_id: str | None = None


class Asset(ApiModel):
    """A device of the customer's network."""

    id: str | None = None
    assumed_owner: str | None = None


class ThreatIntelRecord(ApiModel):
    """A threat-catalog record: what the threat is and how severe."""

    id: str | None = None
    title: str | None = None
    category: str | None = None
    subcategory: str | None = None
    severity: str | int | None = None


class PageInfo(ApiModel):
    """Cursor pagination state of one page (API.md §3)."""

    previous: str | None = None
    next: str | None = None
    has_previous_page: bool | None = None
    has_next_page: bool | None = None
    start_cursor: str | None = None
    end_cursor: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a collection: its items (models, or dicts from ``raw()``) and page info."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    items: list[T]
    page_info: PageInfo
    #: The server's present when it answered (its HTTP ``Date`` header, to the second), or
    #: ``None`` when the header is absent or unreadable. Only a hint: never trusted blindly.
    server_time: datetime | None = None
