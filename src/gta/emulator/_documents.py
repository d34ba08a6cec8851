"""The JSON documents of the emulator's objects, built once and stored as served.

Everything random is drawn from the ``random.Random`` passed in (seeded by the caller), so the
same seed gives the same documents. Timestamps are RFC 3339 UTC with milliseconds and ``Z``.
"""

from __future__ import annotations

import random

import orjson

from gta.emulator import _catalog as cat
from gta.emulator._clock import format_ms


def new_uuid(rng: random.Random) -> str:
    """A version-4 style UUID drawn from ``rng`` (so it is reproducible)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def new_alert_id(rng: random.Random) -> str:
    """Alert ids are 64 hex characters, like the guide's examples."""
    return f"{rng.getrandbits(256):064x}"


def random_ip(rng: random.Random, public: bool = True) -> str:
    bits = rng.getrandbits(32)
    if public:
        first = 11 + (bits >> 24) % 180
        return f"{first}.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{1 + (bits & 253)}"
    return f"10.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{1 + (bits & 253)}"


def random_domain(rng: random.Random) -> str:
    words = cat.DOMAIN_WORDS
    bits = rng.getrandbits(24)
    return (
        f"{words[bits % len(words)]}-{words[(bits >> 5) % len(words)]}{(bits >> 10) % 100}"
        f".{cat.TLDS[(bits >> 17) % len(cat.TLDS)]}"
    )


def event_text(
    rng: random.Random, etype: cat.EventType, with_annotation: bool
) -> tuple[str, dict[str, object] | None]:
    """The subtitle of an event of ``etype`` and its security annotation (or None)."""
    bits = rng.getrandbits(40)
    values: dict[str, str] = {
        "domain": random_domain(rng),
        "ip": random_ip(rng),
        "port": str(3333 + bits % 20000),
        "fileName": cat.FILE_NAMES[(bits >> 15) % len(cat.FILE_NAMES)],
        "megabytes": str(50 + (bits >> 19) % 4000),
        "agent": cat.USER_AGENTS[(bits >> 31) % len(cat.USER_AGENTS)],
    }
    values["url"] = f"https://{values['domain']}/{values['fileName']}"
    values["bytes"] = str(int(values["megabytes"]) * 1_048_576)
    subtitle = etype.subtitle.format(**values)
    annotation: dict[str, object] | None = None
    if with_annotation and etype.annotation_id is not None:
        annotation = {
            "id": etype.annotation_id,
            "requiredAttributes": {name: values[name] for name in etype.annotation_attributes},
        }
    return subtitle, annotation


def event_doc(
    event_id: str,
    detected_ms: int,
    modified_ms: int,
    etype: cat.EventType,
    subtitle: str,
    asset_id: str,
    annotation: dict[str, object] | None,
) -> bytes:
    return orjson.dumps(
        {
            "id": event_id,
            "detectedAt": format_ms(detected_ms),
            "modifiedAt": format_ms(modified_ms),
            "securityEventTypeId": etype.id,
            "title": etype.title,
            "subtitle": subtitle,
            "affectedAssetId": asset_id,
            "securityAnnotation": annotation,
        }
    )


def td_doc(
    td_id: str, asset_id: str, confidence: str, threat_id: str, detected: int, modified: int
) -> bytes:
    return orjson.dumps(
        {
            "id": td_id,
            "affectedAssetId": asset_id,
            "confidence": confidence,
            "threatIntelRecordId": threat_id,
            "detectedAt": format_ms(detected),
            "modifiedAt": format_ms(modified),
        }
    )


STATE_OF_STATUS = {"New": "New", "Open": "Investigating", "Closed": "Remediated"}


def alert_doc(
    alert_id: str,
    risk: str,
    status: str,
    closing_reasons: list[str] | None,
    eta_flag: str | None,
    note: str | None,
    triggered: int,
    modified: int,
) -> bytes:
    """An Alert; ``state`` is the deprecated field the vendor's own scripts still read."""
    state = STATE_OF_STATUS[status]
    if status == "Closed" and closing_reasons and "FalsePositive" in closing_reasons:
        state = "FalsePositive"
    return orjson.dumps(
        {
            "id": alert_id,
            "risk": risk,
            "status": {"value": status, "closingReasons": closing_reasons},
            "state": state,
            "etaFlag": eta_flag,
            "note": note,
            "triggeredAt": format_ms(triggered),
            "modifiedAt": format_ms(modified),
        }
    )


def flow_doc(rng: random.Random, flow_id: str, event_id: str, at_ms: int) -> bytes:
    """A flow; built as text directly (every value is a safe token), the hottest generator path."""
    bits = rng.getrandbits(128)
    src = f"10.{(bits >> 8) & 255}.{(bits >> 16) & 255}.{1 + (bits >> 24) % 253}"
    dst = (
        f"{11 + (bits >> 32) % 180}.{(bits >> 40) & 255}.{(bits >> 48) & 255}"
        f".{1 + (bits >> 56) % 253}"
    )
    return (
        f'{{"id":"{flow_id}","timeStamp":"{format_ms(at_ms)}",'
        f'"networkSecurityEventId":"{event_id}","srcIp":"{src}",'
        f'"srcPort":{49152 + (bits >> 64) % 16383},"dstIp":"{dst}",'
        f'"dstPort":{_DST_PORTS[(bits >> 78) % len(_DST_PORTS)]},'
        f'"protocol":"{cat.PROTOCOLS[bits & 3]}","bytesSent":{200 + (bits >> 82) % 500_000},'
        f'"bytesReceived":{200 + (bits >> 101) % 5_000_000}}}'
    ).encode()


_DST_PORTS = (443, 80, 53, 8080, 4444, 3333)
