"""Request bodies (validated) and response shapes (for the OpenAPI document).

Request models forbid unknown keys so a client bug shows up as a 400 instead of being ignored.
Response models only describe what the handlers splice from stored JSON; they are what a
fuzzer or a client generator reads at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from gta.emulator._pagination import MAX_IDS

IdList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=MAX_IDS)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertFilter(_Strict):
    alertIds: IdList | None = None


class AlertSearch(_Strict):
    filter: AlertFilter = Field(default_factory=AlertFilter)


class ThreatDetectionFilter(_Strict):
    threatDetectionIds: IdList | None = None


class ThreatDetectionSearch(_Strict):
    filter: ThreatDetectionFilter = Field(default_factory=ThreatDetectionFilter)


class EventFilter(_Strict):
    securityEventIds: IdList | None = None


class EventSearch(_Strict):
    filter: EventFilter = Field(default_factory=EventFilter)


class FlowFilter(_Strict):
    securityEventIds: IdList | None = None


class FlowSearch(_Strict):
    filter: FlowFilter = Field(default_factory=FlowFilter)


class AssetFilter(_Strict):
    assetId: IdList | None = None


class AssetSearch(_Strict):
    filter: AssetFilter = Field(default_factory=AssetFilter)


class ThreatIntelFilter(_Strict):
    threatIntelRecordId: IdList | None = None


class ThreatIntelSearch(_Strict):
    filter: ThreatIntelFilter = Field(default_factory=ThreatIntelFilter)


StatusValue = Literal["New", "Open", "Closed"]
ClosingReasons = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=20)
]


class StatusChange(_Strict):
    value: StatusValue
    closingReasons: ClosingReasons | None = None


class StatusUpdate(_Strict):
    status: StatusChange


class NoteUpdate(_Strict):
    note: Annotated[str, Field(max_length=10_000)]


# -- responses ----------------------------------------------------------------------------

Risk = Literal["Critical", "High", "Medium", "Low"]


class AlertStatus(BaseModel):
    value: StatusValue
    closingReasons: list[str] | None


class Alert(BaseModel):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    risk: Risk
    status: AlertStatus
    state: str = Field(description="Deprecated; derived from status.")
    etaFlag: str | None
    note: str | None
    triggeredAt: str = Field(json_schema_extra={"format": "date-time"})
    modifiedAt: str = Field(json_schema_extra={"format": "date-time"})


class ThreatDetection(BaseModel):
    id: str
    affectedAssetId: str
    confidence: str
    threatIntelRecordId: str
    detectedAt: str = Field(json_schema_extra={"format": "date-time"})
    modifiedAt: str = Field(json_schema_extra={"format": "date-time"})


class EnrichedThreatDetection(ThreatDetection):
    alertIds: list[str]


class SecurityAnnotation(BaseModel):
    id: str
    requiredAttributes: dict[str, str]


class Event(BaseModel):
    id: str
    detectedAt: str = Field(json_schema_extra={"format": "date-time"})
    modifiedAt: str = Field(json_schema_extra={"format": "date-time"})
    securityEventTypeId: str
    title: str
    subtitle: str
    affectedAssetId: str
    securityAnnotation: SecurityAnnotation | None


class EnrichedEvent(Event):
    threatDetectionIds: list[str]


class Flow(BaseModel):
    id: str
    timeStamp: str = Field(json_schema_extra={"format": "date-time"})
    networkSecurityEventId: str
    srcIp: str
    srcPort: int
    dstIp: str
    dstPort: int
    protocol: str
    bytesSent: int
    bytesReceived: int


class Asset(BaseModel):
    id: str
    assumedOwner: str | None


class ThreatIntelRecord(BaseModel):
    id: str
    title: str
    category: str
    subcategory: str
    severity: str


class PageInfo(BaseModel):
    previous: str | None
    next: str | None
    hasPreviousPage: bool
    hasNextPage: bool
    startCursor: str | None
    endCursor: str | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    pageInfo: PageInfo


class ProblemDetails(BaseModel):
    type: str
    title: str
    status: int
    detail: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    scope: str


class TokenErrorResponse(BaseModel):
    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type"]
    error_description: str
    error_uri: str


class Identity(BaseModel):
    customerId: str
    clientId: str


class Me(BaseModel):
    identity: Identity


# -- admin ----------------------------------------------------------------------------------


class ActivityRequest(_Strict):
    new_events: Annotated[int, Field(ge=0, le=100_000)] = 0
    updated_events: Annotated[int, Field(ge=0, le=100_000)] = 0
    customer_id: str | None = Field(
        default=None, description="Customer to act on; the first customer when absent."
    )


class ActivityResult(BaseModel):
    customerId: str
    newEventIds: list[str]
    updatedEventIds: list[str]
    newThreatDetectionIds: list[str]
    updatedThreatDetectionIds: list[str]
    newAlertIds: list[str]
    newFlowCount: int
    minMsn: int | None
    maxMsn: int | None


class ClockRequest(_Strict):
    advance_days: Annotated[float, Field(ge=0, le=3650)] = 0.0


class ModifiedAtRequest(_Strict):
    modified_at: str = Field(
        description="RFC 3339 time to stamp, e.g. in the future (a clock bug)."
    )
    customer_id: str | None = Field(
        default=None, description="Customer of the alert; the first customer when absent."
    )


class ClockResult(BaseModel):
    now: str
    removedThreatDetectionIds: list[str]
    removedAlertIds: list[str]


class CollectionCounts(BaseModel):
    alerts: int
    threatDetections: int
    events: int
    flows: int
    assets: int
    threatIntelRecords: int


class Stats(BaseModel):
    now: str
    maxMsn: int
    tokensIssued: int
    counts: CollectionCounts
    customers: list[str]


class HistoryItem(BaseModel):
    seq: int
    customerId: str
    kind: Literal["event", "threatDetection", "flow", "alert"]
    id: str
    msn: int | None = Field(
        default=None, description="Sequence number of this version (events, detections, flows)."
    )
    modifiedAt: str | None = Field(
        default=None, description="When this version was made (absent for a removal)."
    )
    removedAt: str | None = Field(default=None, description="When the object was removed.")


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    firstSeq: int | None = Field(
        description="Oldest row kept (older ones were dropped beyond the limit); null if none."
    )
    nextAfter: int | None = Field(
        description="Pass as ``after`` for the next page; null at the end."
    )
