"""The ``annotation`` format: the vendor script's flat rows, for drop-in use with the Splunk
searches people already wrote against ``get_security_annotations.py`` (API.md §7).

Events give one row per (event x ThreatDetection x alert id). Where a detection or alert cannot
be found the row carries what is known, once; a contextual event (no detections) gives one row
with its asset. Unlike the vendor script, no row is ever emitted twice (its ``for ... else``
emitted every convicting event two extra times) and the keys of a context group appear only when
that object was found, as in the script. Other streams give one flat row per object.
"""

from __future__ import annotations

from typing import Any

from gta._types import Record
from gta.formats._base import ApiObject, FormatContext
from gta.formats._ids import flatten, header, object_id, record_id, string_list, version_of

_NONE = ""  # stands for "no detection/alert" in a row's record id


def _status_value(alert: ApiObject) -> Any:
    status = alert.get("status")
    if isinstance(status, dict):
        return status.get("value")
    return status if status is not None else alert.get("state")


def _event_row(
    event: ApiObject,
    ctx: FormatContext,
    detection_id: str | None,
    detection: ApiObject | None,
    alert_id: str | None,
) -> Record:
    """One row in the vendor's key order, context groups only when found."""
    eid = object_id(event)
    rid = record_id("events", eid, version_of(event), detection_id or _NONE, alert_id or _NONE)
    row = header("events", rid, ctx.index_time)
    row.update(
        eventId=event.get("id"),
        eventDetectedAt=event.get("detectedAt"),
        eventModifiedAt=event.get("modifiedAt"),
        securityEventTypeId=event.get("securityEventTypeId"),
        eventTitle=event.get("title"),
        eventSubtitle=event.get("subtitle"),
    )
    asset_id = event.get("affectedAssetId")
    asset = ctx.asset(asset_id) if isinstance(asset_id, str) else None
    if asset is not None:
        row["assumedOwner"] = asset.get("assumedOwner")
    if alert_id is not None:
        row["alertId"] = alert_id
        alert = ctx.alert(alert_id)
        if alert is not None:
            row["alertStatus"] = _status_value(alert)
            row["risk"] = alert.get("risk")
    if detection is not None:
        intel_id = detection.get("threatIntelRecordId")
        intel = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
        if intel is not None:
            row.update(
                threatTitle=intel.get("title"),
                threatCategory=intel.get("category"),
                threatSubCategory=intel.get("subcategory"),
                severity=intel.get("severity"),
            )
        row["affectedAssetId"] = detection.get("affectedAssetId", asset_id)
        row["threatDetectionId"] = detection.get("id", detection_id)
        row["confidence"] = detection.get("confidence")
    else:
        row["affectedAssetId"] = asset_id
        if detection_id is not None:
            row["threatDetectionId"] = detection_id
    annotation = event.get("securityAnnotation")
    if isinstance(annotation, dict):
        row["securityAnnotationId"] = annotation.get("id")
        row["securityAnnotationAttributes"] = annotation.get("requiredAttributes")
    return row


def event_rows(event: ApiObject, ctx: FormatContext) -> list[Record]:
    """Rows for one enriched event (see the module docstring for the fan-out rule)."""
    detection_ids = string_list(event.get("threatDetectionIds"))
    if not detection_ids:
        return [_event_row(event, ctx, None, None, None)]
    rows: list[Record] = []
    for detection_id in dict.fromkeys(detection_ids):
        detection = ctx.detection(detection_id)
        alert_ids = string_list(detection.get("alertIds")) if detection is not None else []
        if not alert_ids:
            rows.append(_event_row(event, ctx, detection_id, detection, None))
            continue
        for alert_id in dict.fromkeys(alert_ids):
            rows.append(_event_row(event, ctx, detection_id, detection, alert_id))
    return rows


def _object_row(stream: str, obj: ApiObject, ctx: FormatContext, id_key: str) -> Record:
    oid = object_id(obj)
    row = header(stream, record_id(stream, oid, version_of(obj)), ctx.index_time)
    row[id_key] = obj.get("id", oid)
    for key, value in flatten(obj).items():
        if key != "id":
            row[key] = value
    return row


class AnnotationFormat:
    """Flat rows keyed like the vendor's script (events) or by field name (other streams)."""

    name = "annotation"

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]:
        return event_rows(event, ctx)

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        row = _object_row("alerts", alert, ctx, "alertId")
        row["alertStatus"] = _status_value(alert)
        return [row]

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]:
        row = _object_row("threat-detections", detection, ctx, "threatDetectionId")
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
        return [_object_row("flows", flow, ctx, "flowId")]


ANNOTATION = AnnotationFormat()
