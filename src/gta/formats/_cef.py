"""ArcSight Common Event Format (CEF) text for a record, as carried in a syslog message.

Layout: ``CEF:0|Cisco|Global Threat Alerts|<gta version>|<signature id>|<name>|<severity>|<ext>``.
Escaping follows the CEF specification: in the header ``\\`` and ``|`` are backslash-escaped; in
extension values ``\\`` and ``=`` are escaped and line breaks are written as ``\\n`` / ``\\r``
(a pipe needs no escape there). Extension keys are fixed CEF names, so they never need escaping.

Record fields go to the standard keys where one fits (``rt``, ``src``/``dst``, ``duser``,
``externalId`` = ``recordId``, ``msg``, ...) and GTA identifiers to ``cs1``..``cs6`` with their
``csNLabel``, which is what SIEM CEF parsers (ArcSight, Sentinel's CommonSecurityLog) index.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gta._version import __version__
from gta.formats._kinds import ALERTS

VENDOR = "Cisco"
PRODUCT = "Global Threat Alerts"

_RISK_SEVERITY = {"critical": 10, "high": 8, "medium": 5, "low": 3}
_OCSF_SEVERITY = {6: 10, 5: 10, 4: 8, 3: 5, 2: 3, 1: 1}

# (CEF key, candidate record fields in order, kind); kind "time" renders epoch milliseconds.
_MAPPING: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "rt",
        ("eventDetectedAt", "detectedAt", "triggeredAt", "timeStamp", "time", "removedAt"),
        "time",
    ),
    ("end", ("eventModifiedAt", "modifiedAt"), "time"),
    ("externalId", ("recordId",), "text"),
    ("msg", ("eventSubtitle", "subtitle", "message", "note"), "text"),
    ("cat", ("threatCategory", "category"), "text"),
    ("duser", ("assumedOwner",), "text"),
    ("src", ("sourceIp", "srcIp", "sourceAddress"), "text"),
    ("spt", ("sourcePort", "srcPort"), "int"),
    ("dst", ("destinationIp", "dstIp", "destinationAddress"), "text"),
    ("dpt", ("destinationPort", "dstPort"), "int"),
    ("proto", ("protocol", "transportProtocol"), "text"),
    ("in", ("bytesIn", "bytesReceived"), "int"),
    ("out", ("bytesOut", "bytesSent"), "int"),
    ("cs1", ("alertId",), "text"),
    ("cs2", ("threatDetectionId",), "text"),
    ("cs3", ("eventId", "flowId", "id"), "text"),
    ("cs4", ("alertStatus", "status.value"), "text"),
    ("cs5", ("affectedAssetId",), "text"),
    ("cs6", ("stream",), "text"),
    ("cn1", ("confidence",), "int"),
    ("flexString1", ("threatSubCategory", "subcategory"), "text"),
)
LABELS = {
    "cs1": "alertId",
    "cs2": "threatDetectionId",
    "cs3": "objectId",
    "cs4": "alertStatus",
    "cs5": "affectedAssetId",
    "cs6": "stream",
    "cn1": "confidence",
    "flexString1": "threatSubCategory",
}


def escape_header(value: str) -> str:
    """A header field: ``\\`` -> ``\\\\``, ``|`` -> ``\\|``; CR and LF become spaces (a header
    must stay on one line and CEF defines no escape for them there)."""
    if "\\" in value or "|" in value or "\r" in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace("|", "\\|")
        value = value.replace("\r", " ").replace("\n", " ")
    return value


def escape_value(value: str) -> str:
    """An extension value: ``\\``, ``=`` escaped; CR/LF written as ``\\r`` / ``\\n``."""
    if "\\" in value or "=" in value or "\r" in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace("=", "\\=")
        value = value.replace("\r", "\\r").replace("\n", "\\n")
    return value


def epoch_millis(value: Any) -> int | None:
    """Epoch milliseconds of an RFC 3339 string or an integer already in milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return round(parsed.timestamp() * 1000)
    return None


_RISK_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def record_risk(record: Mapping[str, Any]) -> str | None:
    """The alert risk a record carries: ``risk`` at the top (annotation rows, alerts), else the
    highest risk among the alerts of a nested event's ``threatDetections``."""
    risk = record.get("risk")
    if isinstance(risk, str) and risk:
        return risk
    ranked: list[str] = []
    for detection in record.get("threatDetections") or []:
        if not isinstance(detection, Mapping):
            continue
        for alert in detection.get("alerts") or []:
            value = alert.get("risk") if isinstance(alert, Mapping) else None
            if isinstance(value, str) and value.lower() in _RISK_RANK:
                ranked.append(value)
    return max(ranked, key=lambda r: _RISK_RANK[r.lower()]) if ranked else None


def severity(record: Mapping[str, Any]) -> int:
    """CEF severity 0-10 from the alert risk (Critical 10, High 8, Medium 5, Low 3) or an OCSF
    ``severity_id``; 0 when neither is known."""
    risk = record_risk(record)
    if isinstance(risk, str) and risk.lower() in _RISK_SEVERITY:
        return _RISK_SEVERITY[risk.lower()]
    severity_id = record.get("severity_id")
    if isinstance(severity_id, int):
        return _OCSF_SEVERITY.get(severity_id, 0)
    return 0


def _lookup(record: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            return value
    return None


def is_removal(record: Mapping[str, Any]) -> bool:
    """A tombstone record: an alert the service removed (``removed`` at the top in annotation
    and nested records, under ``unmapped`` in OCSF ones)."""
    unmapped = record.get("unmapped")
    return record.get("removed") is True or (
        isinstance(unmapped, Mapping) and unmapped.get("removed") is True
    )


def extension(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (key, raw value) pairs of the extension, before escaping, in a stable order; a
    tombstone adds ``act=removed`` (CEF deviceAction)."""
    pairs: list[tuple[str, str]] = [("act", "removed")] if is_removal(record) else []
    for key, names, kind in _MAPPING:
        value = _lookup(record, names)
        if value is None:
            continue
        if kind == "time":
            millis = epoch_millis(value)
            if millis is None:
                continue
            text = str(millis)
        elif kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                text = str(value)
            elif isinstance(value, str) and value.isdigit():
                text = value
            else:
                continue  # CEF integer keys reject anything else; the JSON payload keeps it
        else:
            text = value if isinstance(value, str) else str(value)
        pairs.append((key, text))
        if key in LABELS:
            pairs.append((f"{key}Label", LABELS[key]))
    return pairs


def signature_id(record: Mapping[str, Any]) -> str:
    """Device Event Class ID: the event type when there is one, else the stream."""
    value = _lookup(record, ("securityEventTypeId", "threatIntelRecordId"))
    if value is not None:
        return str(value)
    return f"gta:{record.get('stream', 'record')}"


def event_name(record: Mapping[str, Any]) -> str:
    """Human-readable name: the event or threat title, else a description of the object."""
    value = _lookup(record, ("eventTitle", "threatTitle", "title"))
    if value is not None:
        return str(value)
    risk = record.get("risk")
    stream = str(record.get("stream", "record"))
    name = f"{risk} risk alert" if risk and stream == ALERTS else f"GTA {stream} record"
    return f"{name} removed" if is_removal(record) else name


def encode_cef(record: Mapping[str, Any], *, version: str = __version__) -> str:
    """The full CEF line (no trailing newline) for one record."""
    header = "|".join(
        escape_header(part)
        for part in (VENDOR, PRODUCT, version, signature_id(record), event_name(record))
    )
    ext = " ".join(f"{key}={escape_value(value)}" for key, value in extension(record))
    return f"CEF:0|{header}|{severity(record)}|{ext}"
