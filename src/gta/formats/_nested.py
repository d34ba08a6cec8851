"""The ``nested`` format: one record per object with its context embedded.

An event carries ``threatDetections`` (each with its ``alerts`` and ``threatIntelRecord``) and
its ``asset``; ids that could not be resolved are listed under ``missing`` rather than dropped,
so a reader can tell "no context" from "context not found". The object's own fields stay at the
top level, unchanged, next to ``recordId``, ``stream``, ``indexTime`` and ``customerId`` (the
tenant, when known).
"""

from __future__ import annotations

from gta._types import Record
from gta.formats._base import ApiObject, FormatContext, KindMethods
from gta.formats._ids import (
    customer_of,
    header,
    object_id,
    record_id,
    string_list,
    version_of,
)
from gta.formats._kinds import ALERTS, EVENTS, FLOWS, THREAT_DETECTIONS


def _record(stream: str, obj: ApiObject, ctx: FormatContext) -> Record:
    rid = record_id(stream, object_id(obj), version_of(obj))
    rec = header(stream, rid, ctx.index_time, customer_of(ctx))
    for key, value in obj.items():
        rec.setdefault(key, value)
    return rec


def _detection_with_context(
    detection: ApiObject, ctx: FormatContext, missing_alerts: list[str]
) -> ApiObject:
    out = dict(detection)
    alerts: list[ApiObject] = []
    for alert_id in dict.fromkeys(string_list(detection.get("alertIds"))):
        alert = ctx.alert(alert_id)
        if alert is None:
            missing_alerts.append(alert_id)
        else:
            alerts.append(alert)
    out["alerts"] = alerts
    intel_id = detection.get("threatIntelRecordId")
    out["threatIntelRecord"] = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
    return out


def _asset_of(obj: ApiObject, ctx: FormatContext) -> ApiObject | None:
    asset_id = obj.get("affectedAssetId")
    return ctx.asset(asset_id) if isinstance(asset_id, str) else None


class NestedFormat(KindMethods):
    """Objects as sent by the API, with parents embedded where the stream has them."""

    name = "nested"

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]:
        rec = _record(EVENTS, event, ctx)
        detections: list[ApiObject] = []
        missing_detections: list[str] = []
        missing_alerts: list[str] = []
        for detection_id in dict.fromkeys(string_list(event.get("threatDetectionIds"))):
            detection = ctx.detection(detection_id)
            if detection is None:
                missing_detections.append(detection_id)
            else:
                detections.append(_detection_with_context(detection, ctx, missing_alerts))
        rec["threatDetections"] = detections
        rec["asset"] = _asset_of(event, ctx)
        missing: dict[str, list[str]] = {}
        if missing_detections:
            missing["threatDetectionIds"] = missing_detections
        if missing_alerts:
            missing["alertIds"] = missing_alerts
        if missing:
            rec["missing"] = missing
        return [rec]

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        return [_record(ALERTS, alert, ctx)]

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]:
        rec = _record(THREAT_DETECTIONS, detection, ctx)
        did = detection.get("id")
        enriched = ctx.detection(did) if isinstance(did, str) else None
        if enriched is not None and "alertIds" not in rec:
            rec["alertIds"] = string_list(enriched.get("alertIds"))
        intel_id = detection.get("threatIntelRecordId")
        rec["threatIntelRecord"] = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
        rec["asset"] = _asset_of(detection, ctx)
        return [rec]

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]:
        return [_record(FLOWS, flow, ctx)]


NESTED = NestedFormat()
