"""The time of the newest object of a page: how fresh what the sink has is (metrics)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

TIME_FIELDS = ("modifiedAt", "detectedAt", "timeStamp")
"""Where an object says when it last changed: events, detections and alerts carry
``modifiedAt`` (events and detections also ``detectedAt``), flows ``timeStamp``."""


def newest_time(items: Iterable[Any]) -> datetime | None:
    """The latest change time among ``items`` (the first of ``TIME_FIELDS`` each object has),
    or None. A value that is not an ISO 8601 time is ignored (nothing a server sends is
    trusted); a time without an offset is taken as UTC."""
    newest: datetime | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        for name in TIME_FIELDS:
            value = item.get(name)
            if isinstance(value, str) and value:
                when = _parse_time(value)
                if when is not None and (newest is None or when > newest):
                    newest = when
                break
    return newest


def _parse_time(text: str) -> datetime | None:
    if len(text) > 40:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
