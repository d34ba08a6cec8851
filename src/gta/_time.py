"""Time as gta writes and reads it: one RFC 3339 formatter and one duration parser.

Pure functions, no imports from gta, so every layer may use them (the command line, the sync
engine, the sinks, the SDK).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

__all__ = ["DURATION_UNITS", "duration_seconds", "format_rfc3339"]

DURATION_UNITS: dict[str, float] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]?)\s*$")


def format_rfc3339(
    moment: datetime, timespec: Literal["seconds", "milliseconds", "microseconds"] = "milliseconds"
) -> str:
    """*moment* in UTC as RFC 3339 with ``Z``: milliseconds by default, the form the API
    documents (truncated, never rounded up, so a time window never shrinks)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def duration_seconds(text: str, *, bare_seconds: bool = False) -> float | None:
    """*text* as seconds: a number and one unit of s, m, h, d or w in any case (``30s``,
    ``1.5h``, ``7D``); with *bare_seconds* a plain number too (``90``). ``None`` when *text* is
    not a duration. Zero is a duration (``0s``); the bounds are each caller's."""
    match = _DURATION.match(text)
    if match is None:
        return None
    unit = match.group(2).lower()
    if not unit and not bare_seconds:
        return None
    factor = DURATION_UNITS.get(unit or "s")
    return None if factor is None else float(match.group(1)) * factor
