"""Record ids and small helpers shared by every format.

A record id is what lets a destination drop a duplicate: after a crash the batch in flight is
delivered again, and it must carry the same ids. So the id is a hash of what identifies the
*version* of the object (stream, object id, version marker such as ``modifiedAt``) and, for rows
that fan out (annotation rows), the detection and alert the row is about. Nothing that varies
between deliveries (index time, the state of a parent object) goes into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from gta._types import Record


def record_id(stream: str, object_id: str, version: str, *parts: str) -> str:
    """Deterministic id of one record: sha256 of its identifying parts, 32 hex characters.

    Parts are joined with a unit separator (0x1f), which cannot occur in ids or timestamps, so
    ``("a", "bc")`` and ``("ab", "c")`` never collide.
    """
    text = "\x1f".join((stream, object_id, version, *parts))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Tombstone(dict[str, Any]):
    """An alert the service removed, as the sync builds it (never decoded from the API, so a
    server cannot forge one): ``{"id", "removed": true, "removedAt", "status": {"value"},
    "risk", "modifiedAt"}`` with the last status and risk delivered. Formats render it like an
    alert; its record id is made from the alert id alone (``version_of`` gives ``REMOVED``), so
    it differs from every version's record id and is the same when delivered again."""


REMOVED = "\x1eremoved"
"""The version marker of a tombstone (a record separator cannot start an RFC 3339 time)."""


def is_tombstone(obj: Mapping[str, Any]) -> bool:
    return isinstance(obj, Tombstone)


def version_of(obj: Mapping[str, Any]) -> str:
    """The version marker of an API object: ``modifiedAt`` when it has one (alerts, detections,
    events), else a hash of its canonical JSON (flows are immutable and their fields are not all
    known, so the content itself is the version); ``REMOVED`` for a tombstone."""
    if isinstance(obj, Tombstone):
        return REMOVED
    modified = obj.get("modifiedAt")
    if isinstance(modified, str) and modified:
        return modified
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def object_id(obj: Mapping[str, Any]) -> str:
    """The object's ``id`` as a string, or the content hash when it has none."""
    value = obj.get("id")
    if value is None:
        return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
    return str(value)


def header(stream: str, rid: str, index_time: str, customer_id: str | None = None) -> Record:
    """The keys every record starts with, in a stable order; ``customerId`` when given.

    The customer id is stamped on the record, never hashed into its id: the id of a record is
    the same whoever delivers it (and was the same before records carried the tenant)."""
    rec: Record = {"recordId": rid, "stream": stream, "indexTime": index_time}
    if customer_id is not None:
        rec["customerId"] = customer_id
    return rec


def customer_of(ctx: Any) -> str | None:
    """The context's customer (tenant) id when it has a usable one (a non-empty string)."""
    value = getattr(ctx, "customer_id", None)  # contexts made before records carried it lack it
    return value if isinstance(value, str) and value else None


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects flattened to dotted keys (``status.value``); lists are kept as lists.

    Flat rows suit SIEM field extraction; lists stay whole because splitting them would invent
    an order-dependent key scheme nobody searches by.
    """
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def unique(ids: Iterable[Any]) -> list[str]:
    """Distinct non-empty string ids, in first-seen order (stable output, stable requests)."""
    seen: dict[str, None] = {}
    for value in ids:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return list(seen)


def string_list(value: Any) -> list[str]:
    """A list field of ids, tolerating ``None`` or a missing key (the API may send either)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def text(value: Any) -> str | None:
    """A non-empty string as is, anything else ``None`` (the API may send any JSON)."""
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    """An integer as is (not a bool), anything else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def clean(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values and empty containers (OCSF and ECS: absent rather than null)."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {}}
