"""Time arguments of the triage commands: relative ages (``7d``, ``12h``) and RFC 3339 instants.

Kept pure (the current time is a parameter) so the parsing rules are tested from tables of cases;
every error is a :class:`UsageError` with one line that says what is accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gta._time import duration_seconds, format_rfc3339
from gta.cli._errors import UsageError

__all__ = ["format_rfc3339", "parse_duration", "parse_instant"]

_ACCEPTED = "a duration such as 30s, 15m, 12h, 7d or 2w"
# Longer than any data the API keeps, short enough for every datetime and sleep to hold it.
MAX_DURATION = timedelta(days=36_500)


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration: a number and one unit of s, m, h, d or w (``7d``, ``1.5h``)."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise UsageError(f"invalid duration {text!r}: expected {_ACCEPTED}")
    if seconds <= 0:
        raise UsageError(f"invalid duration {text!r}: it must be greater than zero")
    if not seconds <= MAX_DURATION.total_seconds():  # also catches inf from a huge number
        raise UsageError(f"invalid duration {text!r}: it must be at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


def parse_instant(text: str, *, now: datetime | None = None) -> datetime:
    """Parse an instant: a relative age (``7d`` means 7 days before *now*) or an RFC 3339 time.

    A time without an offset is refused rather than guessed: the API speaks UTC, and a silent
    local-time reading is the kind of mistake the vendor's own script made.
    """
    if duration_seconds(text) is not None:
        reference = now if now is not None else datetime.now(UTC)
        return (reference - parse_duration(text)).astimezone(UTC)
    candidate = text.strip()
    if candidate[-1:] in ("z", "Z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise UsageError(
            f"invalid time {text!r}: expected {_ACCEPTED}, or RFC 3339 like 2026-01-31T12:00:00Z"
        ) from None
    if "T" not in candidate.upper() or parsed.tzinfo is None:
        raise UsageError(
            f"invalid time {text!r}: give a full RFC 3339 time with an offset, "
            "like 2026-01-31T12:00:00Z"
        )
    return parsed.astimezone(UTC)
