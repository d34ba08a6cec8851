"""The ``annotation`` format: the vendor script's flat rows, for drop-in use with the Splunk
searches people already wrote against ``get_security_annotations.py`` (API.md §7).

Events give one row per (event x ThreatDetection x alert id). Where a detection or alert cannot
be found the row carries what is known, once; a contextual event (no detections) gives one row
with its asset. Unlike the vendor script, no row is ever emitted twice (its ``for ... else``
emitted every convicting event two extra times) and the keys of a context group appear only when
that object was found, as in the script. Other streams give one flat row per object.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

from gta._types import Record
from gta.formats._base import ApiObject, FormatContext, KindMethods
from gta.formats._ids import (
    customer_of,
    flatten,
    header,
    object_id,
    record_id,
    string_list,
    version_of,
)
from gta.formats._kinds import ALERTS, EVENTS, FLOWS, THREAT_DETECTIONS

_NONE = ""  # stands for "no detection/alert" in a row's record id


def _status_value(alert: ApiObject) -> Any:
    status = alert.get("status")
    if isinstance(status, dict):
        return status.get("value")
    return status if status is not None else alert.get("state")


def _alert_part(alert_id: str, ctx: FormatContext) -> Record:
    part: Record = {"alertId": alert_id}
    alert = ctx.alert(alert_id)
    if alert is not None:
        part["alertStatus"] = _status_value(alert)
        part["risk"] = alert.get("risk")
    return part


def _intel_part(detection: ApiObject, ctx: FormatContext) -> Record:
    intel_id = detection.get("threatIntelRecordId")
    intel = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
    if intel is None:
        return {}
    return {
        "threatTitle": intel.get("title"),
        "threatCategory": intel.get("category"),
        "threatSubCategory": intel.get("subcategory"),
        "severity": intel.get("severity"),
    }


def event_rows(event: ApiObject, ctx: FormatContext) -> list[Record]:
    """Rows for one enriched event (see the module docstring for the fan-out rule).

    A row is the event's own keys, then the alert's, the threat-intel record's, the detection's
    and the annotation's, each group present only when known. The groups are built once per
    event (or detection) and merged per row: this is the sync's hot path, about one row per
    event.
    """
    eid = object_id(event)
    prefix = f"events\x1f{eid}\x1f{version_of(event)}\x1f"
    index_time = ctx.index_time
    customer = customer_of(ctx)
    head: Record = {} if customer is None else {"customerId": customer}
    head |= {
        "eventId": event.get("id"),
        "eventDetectedAt": event.get("detectedAt"),
        "eventModifiedAt": event.get("modifiedAt"),
        "securityEventTypeId": event.get("securityEventTypeId"),
        "eventTitle": event.get("title"),
        "eventSubtitle": event.get("subtitle"),
    }
    asset_id = event.get("affectedAssetId")
    asset = ctx.asset(asset_id) if isinstance(asset_id, str) else None
    if asset is not None:
        head["assumedOwner"] = asset.get("assumedOwner")
    annotation = event.get("securityAnnotation")
    tail: Record = (
        {
            "securityAnnotationId": annotation.get("id"),
            "securityAnnotationAttributes": annotation.get("requiredAttributes"),
        }
        if isinstance(annotation, dict)
        else {}
    )
    detection_ids = string_list(event.get("threatDetectionIds"))
    if not detection_ids:
        return [
            {
                "recordId": _row_id(prefix, _NONE, _NONE),
                "stream": EVENTS,
                "indexTime": index_time,
                **head,
                "affectedAssetId": asset_id,
                **tail,
            }
        ]
    rows: list[Record] = []
    for detection_id in dict.fromkeys(detection_ids):
        detection = ctx.detection(detection_id)
        if detection is None:
            rows.append(
                {
                    "recordId": _row_id(prefix, detection_id, _NONE),
                    "stream": EVENTS,
                    "indexTime": index_time,
                    **head,
                    "affectedAssetId": asset_id,
                    "threatDetectionId": detection_id,
                    **tail,
                }
            )
            continue
        intel = _intel_part(detection, ctx)
        found = {
            "affectedAssetId": detection.get("affectedAssetId", asset_id),
            "threatDetectionId": detection.get("id", detection_id),
            "confidence": detection.get("confidence"),
        }
        alert_ids = string_list(detection.get("alertIds"))
        if not alert_ids:
            rows.append(
                {
                    "recordId": _row_id(prefix, detection_id, _NONE),
                    "stream": EVENTS,
                    "indexTime": index_time,
                    **head,
                    **intel,
                    **found,
                    **tail,
                }
            )
            continue
        for alert_id in dict.fromkeys(alert_ids):
            rows.append(
                {
                    "recordId": _row_id(prefix, detection_id, alert_id),
                    "stream": EVENTS,
                    "indexTime": index_time,
                    **head,
                    **_alert_part(alert_id, ctx),
                    **intel,
                    **found,
                    **tail,
                }
            )
    return rows


def _row_id(prefix: str, detection_id: str, alert_id: str) -> str:
    """``record_id("events", id, version, detection_id, alert_id)``, from a prefix made once per
    event (the same bytes are hashed; a test holds the two equal)."""
    return sha256(f"{prefix}{detection_id}\x1f{alert_id}".encode()).hexdigest()[:32]


def _object_row(stream: str, obj: ApiObject, ctx: FormatContext, id_key: str) -> Record:
    oid = object_id(obj)
    row = header(stream, record_id(stream, oid, version_of(obj)), ctx.index_time, customer_of(ctx))
    row[id_key] = obj.get("id", oid)
    for key, value in flatten(obj).items():
        if key != "id":
            row[key] = value
    return row


class AnnotationFormat(KindMethods):
    """Flat rows keyed like the vendor's script (events) or by field name (other streams)."""

    name = "annotation"

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]:
        return event_rows(event, ctx)

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        row = _object_row(ALERTS, alert, ctx, "alertId")
        row["alertStatus"] = _status_value(alert)
        return [row]

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]:
        row = _object_row(THREAT_DETECTIONS, detection, ctx, "threatDetectionId")
        did = detection.get("id")
        enriched = ctx.detection(did) if isinstance(did, str) else None
        if enriched is not None and "alertIds" not in row:
            row["alertIds"] = string_list(enriched.get("alertIds"))
        asset_id = detection.get("affectedAssetId")
        asset = ctx.asset(asset_id) if isinstance(asset_id, str) else None
        if asset is not None:
            row["assumedOwner"] = asset.get("assumedOwner")
        intel_id = detection.get("threatIntelRecordId")
        intel = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
        if intel is not None:
            row.update(
                threatTitle=intel.get("title"),
                threatCategory=intel.get("category"),
                threatSubCategory=intel.get("subcategory"),
                severity=intel.get("severity"),
            )
        return [row]

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]:
        return [_object_row(FLOWS, flow, ctx, "flowId")]


ANNOTATION = AnnotationFormat()
