"""The ``ecs`` format: Elastic Common Schema documents, for Elasticsearch / OpenSearch (and any SIEM
that reads ECS). Mappings ship in ``integrations/elasticsearch/gta-index-template.json``.

- Alerts, threat detections and convicting events are ``event.kind: alert`` (an alert raised
  outside the Elastic Stack), ``event.category: [intrusion_detection]``; a contextual event (no
  detection) is ``event.kind: event``. Flows are ``event.kind: event``, ``event.category:
  [network]``, ``event.type: [connection]`` with ``source.*``, ``destination.*``, ``network.*``.
- ``event.type`` is ``creation`` for a first version (``modifiedAt`` equal to its creation time),
  ``change`` afterwards; an alert tombstone (``removed: true``) is ``deletion`` with
  ``event.action: alert-removed``. ``@timestamp`` is the version's time (``modifiedAt``,
  ``removedAt``, a flow's ``timeStamp``); ``event.created`` the object's creation time.
- The threat-intel record is the ``rule`` (id, name, category); the affected asset is ``host.id``
  and its assumed owner ``user.name``; ``related.*`` collects them for pivoting.
- GTA fields with no ECS home live under the ``cisco_gta`` namespace (ECS's advice for custom
  fields); every record keeps gta's ``recordId``, ``stream`` and ``indexTime``.
"""

from __future__ import annotations

from typing import Any

from gta._types import Record
from gta.formats._base import ApiObject, FormatContext, KindMethods
from gta.formats._ids import clean as _clean
from gta.formats._ids import (
    header,
    is_tombstone,
    object_id,
    record_id,
    string_list,
    version_of,
)
from gta.formats._ids import integer as _int
from gta.formats._ids import text as _text
from gta.formats._kinds import ALERTS, EVENTS, FLOWS, THREAT_DETECTIONS

ECS_VERSION = "8.11.0"
OBSERVER = {"vendor": "Cisco", "product": "Global Threat Alerts", "type": "ids"}
# GTA risk -> (event.severity, event.risk_score 0-100)
_RISK = {"low": (1, 21.0), "medium": (2, 47.0), "high": (3, 73.0), "critical": (4, 99.0)}
_PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "sctp": "132", "gre": "47"}


def _status(alert: ApiObject | None) -> str | None:
    if alert is None:
        return None
    status = alert.get("status")
    return _text(status.get("value") if isinstance(status, dict) else status)


def _max_risk(alerts: list[ApiObject]) -> str | None:
    known = [a.get("risk") for a in alerts if isinstance(a.get("risk"), str)]
    ranked = [r for r in known if isinstance(r, str) and r.lower() in _RISK]
    return max(ranked, key=lambda r: _RISK[r.lower()][0]) if ranked else None


def _base(
    stream: str,
    obj: ApiObject,
    ctx: FormatContext,
    *,
    kind: str,
    category: str,
    types: list[str],
    action: str,
    timestamp: Any,
    created: Any,
    risk: Any = None,
) -> Record:
    # A tombstone's version is ``REMOVED`` (``version_of``): its id differs from every version's
    # of its alert, so an idempotent destination cannot drop it as a duplicate.
    rid = record_id(stream, object_id(obj), version_of(obj))
    rec = header(stream, rid, ctx.index_time)
    severity = _RISK.get(risk.lower()) if isinstance(risk, str) else None
    rec["@timestamp"] = _text(timestamp) or ctx.index_time
    rec["ecs"] = {"version": ECS_VERSION}
    rec["event"] = _clean(
        {
            "kind": kind,
            "category": [category],
            "type": types,
            "action": action,
            "id": _text(obj.get("id")),
            "created": _text(created),
            "dataset": f"cisco_gta.{stream.replace('-', '_')}",
            "module": "cisco_gta",
            "severity": severity[0] if severity else None,
            "risk_score": severity[1] if severity else None,
        }
    )
    rec["observer"] = dict(OBSERVER)
    customer = getattr(ctx, "customer_id", None)
    if isinstance(customer, str) and customer:
        rec["organization"] = {"id": customer}
    return rec


def _version_type(created: Any, modified: Any) -> str:
    return "creation" if modified is None or modified == created else "change"


def _asset_fields(asset_id: Any, ctx: FormatContext, rec: Record) -> None:
    """``host.id``, ``user.name`` and ``related.*`` from the affected asset."""
    if not _text(asset_id):
        return
    rec["host"] = {"id": asset_id}
    asset = ctx.asset(asset_id)
    owner = _text(asset.get("assumedOwner")) if asset is not None else None
    related: dict[str, Any] = {"hosts": [asset_id]}
    if owner is not None:
        rec["user"] = {"name": owner}
        related["user"] = [owner]
    rec["related"] = related


def _rule(intel_id: Any, intel: ApiObject | None) -> dict[str, Any] | None:
    if not _text(intel_id) and intel is None:
        return None
    return _clean(
        {
            "id": _text(intel_id),
            "name": _text(intel.get("title")) if intel else None,
            "category": _text(intel.get("category")) if intel else None,
            "ruleset": _text(intel.get("subcategory")) if intel else None,
        }
    )


class EcsFormat(KindMethods):
    """ECS documents (see the module docstring for the mapping)."""

    name = "ecs"

    def alerts(self, alert: ApiObject, ctx: FormatContext) -> list[Record]:
        triggered, modified = alert.get("triggeredAt"), alert.get("modifiedAt")
        status, risk = _status(alert), alert.get("risk")
        removed = is_tombstone(alert)  # built by the sync; a server's "removed" field is data
        if removed:
            types, action, when = ["deletion"], "alert-removed", alert.get("removedAt") or modified
        elif status is not None and status.lower() == "closed":
            types, action, when = ["change"], "alert-closed", modified
        else:
            types = [_version_type(triggered, modified)]
            action = "alert-created" if types == ["creation"] else "alert-updated"
            when = modified or triggered
        rec = _base(
            ALERTS,
            alert,
            ctx,
            kind="alert",
            category="intrusion_detection",
            types=types,
            action=action,
            timestamp=when,
            created=triggered,
            risk=risk,
        )
        raw_status = alert.get("status")
        reasons = raw_status.get("closingReasons") if isinstance(raw_status, dict) else None
        title = f"{risk} risk alert" if _text(risk) else "Global Threat Alerts alert"
        rec["message"] = (
            f"{title} removed (last status {status or 'unknown'})"
            if removed
            else f"{title}, status {status or 'unknown'}"
        )
        rec["cisco_gta"] = _clean(
            {
                "alert": _clean(
                    {
                        "id": _text(alert.get("id")),
                        "status": status,
                        "risk": _text(risk),
                        "closing_reasons": [str(r) for r in reasons]
                        if isinstance(reasons, list)
                        else None,
                        "eta_flag": _text(alert.get("etaFlag")),
                        "note": _text(alert.get("note")),
                        "removed": True if removed else None,
                        "removed_at": _text(alert.get("removedAt")),
                    }
                )
            }
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
        types = [_version_type(detected, modified)]
        rec = _base(
            THREAT_DETECTIONS,
            detection,
            ctx,
            kind="alert",
            category="intrusion_detection",
            types=types,
            action=f"threat-detection-{'created' if types == ['creation'] else 'updated'}",
            timestamp=modified or detected,
            created=detected,
            risk=risk,
        )
        rec["message"] = (_text(intel.get("title")) if intel else None) or f"Threat detection {did}"
        rule = _rule(intel_id, intel)
        if rule:
            rec["rule"] = rule
        _asset_fields(detection.get("affectedAssetId"), ctx, rec)
        rec["cisco_gta"] = _clean(
            {
                "threat_detection": _clean(
                    {"id": _text(did), "confidence": detection.get("confidence")}
                ),
                "alert_ids": alert_ids,
            }
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
        detected, modified = event.get("detectedAt"), event.get("modifiedAt")
        convicting = bool(detection_ids)
        rec = _base(
            EVENTS,
            event,
            ctx,
            kind="alert" if convicting else "event",
            category="intrusion_detection",
            types=[_version_type(detected, modified)],
            action="convicting-event" if convicting else "contextual-event",
            timestamp=modified or detected,
            created=detected,
            risk=risk,
        )
        title, subtitle = _text(event.get("title")), _text(event.get("subtitle"))
        rec["message"] = " - ".join(t for t in (title, subtitle) if t) or "Security event"
        rule = _rule(intel_id, intel)
        if rule:
            rec["rule"] = rule
        _asset_fields(event.get("affectedAssetId"), ctx, rec)
        rec["cisco_gta"] = _clean(
            {
                "event": _clean(
                    {
                        "title": title,
                        "subtitle": subtitle,
                        "security_event_type_id": event.get("securityEventTypeId"),
                        "security_annotation": event.get("securityAnnotation"),
                    }
                ),
                "threat_detection_ids": detection_ids,
                "alert_ids": alert_ids,
                "alert_statuses": sorted({s for s in map(_status, alerts) if s}),
            }
        )
        return [rec]

    def flows(self, flow: ApiObject, ctx: FormatContext) -> list[Record]:
        rec = _base(
            FLOWS,
            flow,
            ctx,
            kind="event",
            category="network",
            types=["connection"],
            action="network-flow",
            timestamp=flow.get("timeStamp"),
            created=None,
        )
        protocol = _text(flow.get("protocol"))
        sent, received = _int(flow.get("bytesSent")), _int(flow.get("bytesReceived"))
        src, dst = _text(flow.get("srcIp")), _text(flow.get("dstIp"))
        rec["source"] = _clean({"ip": src, "port": _int(flow.get("srcPort")), "bytes": sent})
        rec["destination"] = _clean(
            {"ip": dst, "port": _int(flow.get("dstPort")), "bytes": received}
        )
        rec["network"] = _clean(
            {
                "transport": protocol.lower() if protocol else None,
                "iana_number": _PROTOCOLS.get(protocol.lower()) if protocol else None,
                "bytes": (sent or 0) + (received or 0) if sent or received else None,
            }
        )
        related_ips = [ip for ip in dict.fromkeys((src, dst)) if ip]
        if related_ips:
            rec["related"] = {"ip": related_ips}
        rec["cisco_gta"] = _clean(
            {
                "flow": _clean(
                    {
                        "id": _text(flow.get("id")),
                        "event_id": _text(flow.get("networkSecurityEventId")),
                    }
                )
            }
        )
        return [_clean(rec)]


ECS = EcsFormat()
