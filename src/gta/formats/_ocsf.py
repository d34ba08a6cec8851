"""The ``ocsf`` format: OCSF 1.3.0 records (see ``ocsf_schema/`` for the schema they satisfy).

- Alerts, threat detections and events become **Detection Finding** (class_uid 2004, category
  2 Findings). ``activity_id``: 1 Create when the object was never modified (``modifiedAt`` equal
  to ``triggeredAt``/``detectedAt``), 3 Close for an alert whose status is Closed, otherwise 2
  Update; ``type_uid`` = class_uid * 100 + activity_id. ``finding_info.uid`` is the object id, so
  a SIEM sees the versions of one alert as one finding.
- Flows become **Network Activity** (class_uid 4001, category 4), activity 6 Traffic.
- Times are epoch milliseconds; ``time`` is the version's time (``modifiedAt``, or the flow's
  ``timeStamp``). ``metadata.version`` is the pinned OCSF version, ``metadata.uid`` the record id,
  ``metadata.tenant_uid`` the GTA customer id; a record with ``device`` (OCSF's ``host``
  profile) lists ``host`` in ``metadata.profiles``.
- Every record keeps gta's ``recordId``, ``stream`` and ``indexTime``; fields with no OCSF home
  (``etaFlag``, ``threatDetectionIds``, ...) go to ``unmapped``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from gta._types import Record
from gta.formats._base import ApiObject, FormatContext, KindMethods
from gta.formats._ids import clean as _clean
from gta.formats._ids import header, is_tombstone, object_id, record_id, string_list, version_of
from gta.formats._ids import integer as _int
from gta.formats._ids import text as _text
from gta.formats._kinds import ALERTS, EVENTS, FLOWS, THREAT_DETECTIONS
from gta.formats.ocsf_schema._definitions import OCSF_VERSION

PRODUCT = {"name": "Global Threat Alerts", "vendor_name": "Cisco"}
_FINDING = {
    "category_uid": 2,
    "category_name": "Findings",
    "class_uid": 2004,
    "class_name": "Detection Finding",
}
_ACTIVITY_NAMES = {1: "Create", 2: "Update", 3: "Close"}
_SEVERITY = {
    "critical": (5, "Critical"),
    "high": (4, "High"),
    "medium": (3, "Medium"),
    "low": (2, "Low"),
}
_RISK_LEVEL = {
    "critical": (4, "Critical"),
    "high": (3, "High"),
    "medium": (2, "Medium"),
    "low": (1, "Low"),
}
_STATUS = {"new": (1, "New"), "open": (2, "In Progress"), "closed": (4, "Resolved")}
_REMOVED = (99, "Removed")  # OCSF 1.3 has no Closed status; 99 Other with its caption
_REMOVED_DETAIL = "removed by the service after its threat detections timed out"
_CONFIDENCE = {"high": (3, "High"), "medium": (2, "Medium"), "low": (1, "Low")}
_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132, "gre": 47}
_ML_ANALYTIC = {"type_id": 4, "type": "Learning (ML/DL)"}


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds of an RFC 3339 string (``None`` when absent or unparsable)."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_ms(value)


@lru_cache(maxsize=4096)
def _parse_ms(value: str) -> int | None:
    """Cached: the same timestamps (index time, parents' times) recur across a page."""
    try:
        return round(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _severity(risk: Any) -> tuple[int, str]:
    """OCSF severity_id/caption of a GTA risk; an unknown risk is 99 Other, a missing one 0."""
    if not isinstance(risk, str) or not risk:
        return 0, "Unknown"
    return _SEVERITY.get(risk.lower(), (99, risk))


def _max_risk(alerts: list[ApiObject]) -> str | None:
    ranked = [a.get("risk") for a in alerts if _severity(a.get("risk"))[0] not in (0, 99)]
    return max(ranked, key=lambda r: _severity(r)[0]) if ranked else None


def _status(alert: ApiObject) -> tuple[int, str] | None:
    status = alert.get("status")
    value = status.get("value") if isinstance(status, dict) else status
    if not isinstance(value, str) or not value:
        return None
    return _STATUS.get(value.lower(), (99, value))


def _combined_status(alerts: list[ApiObject]) -> tuple[int, str]:
    """The status of a detection or event: that of its most open alert (New, then In Progress,
    then Resolved); 0 Unknown when it has no alert we know."""
    statuses = [s for s in (_status(a) for a in alerts) if s is not None]
    for wanted in (1, 2, 99, 4):
        for status in statuses:
            if status[0] == wanted:
                return status
    return 0, "Unknown"


def _activity(created: Any, modified: Any, closed: bool = False) -> int:
    if closed:
        return 3
    return 1 if modified is None or modified == created else 2


def _finding(
    stream: str,
    obj: ApiObject,
    ctx: FormatContext,
    *,
    activity: int,
    time_ms: int | None,
    severity: tuple[int, str],
    finding_info: dict[str, Any],
    **fields: Any,
) -> Record:
    rid = record_id(stream, object_id(obj), version_of(obj))
    rec = header(stream, rid, ctx.index_time)
    name = _ACTIVITY_NAMES[activity]
    rec.update(_FINDING)
    rec.update(
        activity_id=activity,
        activity_name=name,
        type_uid=2004 * 100 + activity,
        type_name=f"Detection Finding: {name}",
        severity_id=severity[0],
        severity=severity[1],
        time=time_ms if time_ms is not None else epoch_ms(ctx.index_time) or 0,
        # ``device`` belongs to OCSF's ``host`` profile: a record using it must declare it.
        metadata=_metadata(
            rid,
            ctx,
            finding_info.get("modified_time"),
            profiles=["host"] if fields.get("device") else None,
        ),
        finding_info=_clean(finding_info),
    )
    rec.update(_clean(fields))
    return rec


def _metadata(
    rid: str, ctx: FormatContext, modified: int | None = None, profiles: list[str] | None = None
) -> dict[str, Any]:
    customer = getattr(ctx, "customer_id", None)  # contexts made before 0.x may lack it
    return _clean(
        {
            "version": OCSF_VERSION,
            "product": dict(PRODUCT),  # a copy: records may be mutated downstream
            "uid": rid,
            "tenant_uid": customer if isinstance(customer, str) and customer else None,
            "profiles": profiles,
            "logged_time": epoch_ms(ctx.index_time),
            "modified_time": modified,
        }
    )


def _device(asset_id: Any, ctx: FormatContext) -> dict[str, Any] | None:
    if not isinstance(asset_id, str) or not asset_id:
        return None
    device: dict[str, Any] = {"type_id": 0, "type": "Unknown", "uid": asset_id}
    asset = ctx.asset(asset_id)
    owner = _text(asset.get("assumedOwner")) if asset is not None else None
    if owner is not None:
        device["owner"] = {"name": owner}
    return device


def _analytic(intel: ApiObject | None, intel_id: Any) -> dict[str, Any] | None:
    if intel is None and not _text(intel_id):
        return None
    analytic: dict[str, Any] = dict(_ML_ANALYTIC)
    analytic.update(
        _clean(
            {
                "uid": _text(intel_id),
                "name": _text(intel.get("title")) if intel else None,
                "category": _text(intel.get("category")) if intel else None,
            }
        )
    )
    return analytic


def _confidence(value: Any) -> dict[str, Any]:
    if isinstance(value, str) and value.lower() in _CONFIDENCE:
        cid, caption = _CONFIDENCE[value.lower()]
        return {"confidence_id": cid, "confidence": caption}
    if _int(value) is not None and 0 <= value <= 100:
        return {"confidence_score": value}
    return {}


class OcsfFormat(KindMethods):
    """OCSF Detection Finding / Network Activity records (module docstring has the mapping)."""

    name = "ocsf"

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        triggered, modified = alert.get("triggeredAt"), alert.get("modifiedAt")
        removed = is_tombstone(alert)  # the service removed it: the finding is closed
        last_status = _status(alert)
        status = _REMOVED if removed else last_status
        risk = alert.get("risk")
        raw_status = alert.get("status")
        reasons = raw_status.get("closingReasons") if isinstance(raw_status, dict) else None
        reason_list = [str(r) for r in reasons] if isinstance(reasons, list) else None
        level = _RISK_LEVEL.get(risk.lower()) if isinstance(risk, str) else None
        title = f"{risk} risk alert" if _text(risk) else "Global Threat Alerts alert"
        rec = _finding(
            ALERTS,
            alert,
            ctx,
            activity=_activity(
                triggered, modified, closed=removed or (status is not None and status[0] == 4)
            ),
            time_ms=epoch_ms(modified) or epoch_ms(triggered),
            severity=_severity(risk),
            finding_info={
                "uid": str(alert.get("id", object_id(alert))),
                "title": title,
                "types": ["Alert"],
                "created_time": epoch_ms(triggered),
                "first_seen_time": epoch_ms(triggered),
                "modified_time": epoch_ms(modified),
            },
            status_id=status[0] if status else None,
            status=status[1] if status else None,
            status_detail=_REMOVED_DETAIL
            if removed
            else (", ".join(reason_list) if reason_list else None),
            risk_level_id=level[0] if level else None,
            risk_level=level[1] if level else None,
            comment=_text(alert.get("note")),
            message=f"{title}, status {status[1] if status else 'unknown'}",
            unmapped=_clean(
                {
                    "etaFlag": alert.get("etaFlag"),
                    "state": alert.get("state"),
                    "closingReasons": reason_list,
                    "removed": True if removed else None,
                    "removedAt": alert.get("removedAt") if removed else None,
                    "lastStatus": last_status[1] if removed and last_status else None,
                }
            ),
        )
        return [rec]

    def threat_detections(self, detection: ApiObject, ctx: FormatContext) -> list[Record]:
        did = detection.get("id")
        enriched = ctx.detection(did) if isinstance(did, str) else None
        alert_ids = string_list(detection.get("alertIds")) or (
            string_list(enriched.get("alertIds")) if enriched else []
        )
        alerts = [a for a in (ctx.alert(i) for i in alert_ids) if a is not None]
        intel_id = detection.get("threatIntelRecordId")
        intel = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
        detected, modified = detection.get("detectedAt"), detection.get("modifiedAt")
        risk = _max_risk(alerts) or (intel.get("severity") if intel else None)
        status = _combined_status(alerts)
        title = (_text(intel.get("title")) if intel else None) or f"Threat detection {did}"
        rec = _finding(
            THREAT_DETECTIONS,
            detection,
            ctx,
            activity=_activity(detected, modified),
            time_ms=epoch_ms(modified) or epoch_ms(detected),
            severity=_severity(risk),
            finding_info={
                "uid": str(did if did is not None else object_id(detection)),
                "title": title,
                "analytic": _analytic(intel, intel_id),
                "types": [
                    t for t in (_text(intel.get("category")), _text(intel.get("subcategory"))) if t
                ]
                if intel
                else None,
                "created_time": epoch_ms(detected),
                "first_seen_time": epoch_ms(detected),
                "modified_time": epoch_ms(modified),
            },
            device=_device(detection.get("affectedAssetId"), ctx),
            status_id=status[0],
            status=status[1],
            message=title,
            unmapped=_clean({"alertIds": alert_ids}),
            **_confidence(detection.get("confidence")),
        )
        return [rec]

    def events(self, event: ApiObject, ctx: FormatContext) -> list[Record]:
        detection_ids = string_list(event.get("threatDetectionIds"))
        detections = [d for d in (ctx.detection(i) for i in detection_ids) if d is not None]
        alert_ids = list(
            dict.fromkeys(a for d in detections for a in string_list(d.get("alertIds")))
        )
        alerts = [a for a in (ctx.alert(i) for i in alert_ids) if a is not None]
        intel_id = detections[0].get("threatIntelRecordId") if detections else None
        intel = ctx.threat_intel(intel_id) if isinstance(intel_id, str) else None
        risk = _max_risk(alerts) or (intel.get("severity") if intel else None)
        severity = _severity(risk) if risk or detection_ids else (1, "Informational")
        detected, modified = event.get("detectedAt"), event.get("modifiedAt")
        title = _text(event.get("title")) or "Security event"
        type_id = event.get("securityEventTypeId")
        rec = _finding(
            EVENTS,
            event,
            ctx,
            activity=_activity(detected, modified),
            time_ms=epoch_ms(modified) or epoch_ms(detected),
            severity=severity,
            finding_info={
                "uid": str(event.get("id", object_id(event))),
                "title": title,
                "desc": _text(event.get("subtitle")),
                "analytic": _analytic(intel, intel_id),
                "types": [str(type_id)] if type_id is not None else None,
                "created_time": epoch_ms(detected),
                "first_seen_time": epoch_ms(detected),
                "modified_time": epoch_ms(modified),
            },
            device=_device(event.get("affectedAssetId"), ctx),
            status_id=_combined_status(alerts)[0],
            status=_combined_status(alerts)[1],
            message=_text(event.get("subtitle")) or title,
            unmapped=_clean(
                {
                    "securityEventTypeId": type_id,
                    "threatDetectionIds": detection_ids,
                    "alertIds": alert_ids,
                    "securityAnnotation": event.get("securityAnnotation"),
                }
            ),
        )
        return [rec]

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]:
        rid = record_id(FLOWS, object_id(flow), version_of(flow))
        rec = header(FLOWS, rid, ctx.index_time)
        protocol = _text(flow.get("protocol"))
        sent, received = _int(flow.get("bytesSent")), _int(flow.get("bytesReceived"))
        known = {
            "id",
            "timeStamp",
            "networkSecurityEventId",
            "srcIp",
            "srcPort",
            "dstIp",
            "dstPort",
            "protocol",
            "bytesSent",
            "bytesReceived",
        }
        rec.update(
            activity_id=6,
            activity_name="Traffic",
            category_uid=4,
            category_name="Network Activity",
            class_uid=4001,
            class_name="Network Activity",
            type_uid=400106,
            type_name="Network Activity: Traffic",
            severity_id=1,
            severity="Informational",
            time=epoch_ms(flow.get("timeStamp")) or epoch_ms(ctx.index_time) or 0,
            metadata=_clean(
                {
                    **_metadata(rid, ctx),
                    "correlation_uid": _text(flow.get("networkSecurityEventId")),
                }
            ),
            src_endpoint=_clean(
                {"ip": _text(flow.get("srcIp")), "port": _int(flow.get("srcPort"))}
            ),
            dst_endpoint=_clean(
                {"ip": _text(flow.get("dstIp")), "port": _int(flow.get("dstPort"))}
            ),
            connection_info=_clean(
                {
                    "direction_id": 0,
                    "direction": "Unknown",
                    "protocol_name": protocol.lower() if protocol else None,
                    "protocol_num": _PROTOCOLS.get(protocol.lower()) if protocol else None,
                }
            ),
        )
        traffic = _clean(
            {
                "bytes_out": sent,
                "bytes_in": received,
                "bytes": (sent or 0) + (received or 0) if sent or received else None,
            }
        )
        unmapped = _clean(
            {
                "flowId": flow.get("id"),
                "networkSecurityEventId": flow.get("networkSecurityEventId"),
                **{k: v for k, v in flow.items() if k not in known},
            }
        )
        rec.update(_clean({"traffic": traffic, "unmapped": unmapped}))
        return [rec]


OCSF = OcsfFormat()
