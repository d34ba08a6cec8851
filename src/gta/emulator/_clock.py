"""The emulator's own clock and its RFC 3339 timestamps.

The clock starts at a fixed instant (derived from the seed, so the same seed gives the same
timestamps) or at the real time, then advances with real time plus whatever the admin API adds.
Internally every instant is an integer of milliseconds since the epoch; the API shows them as
``2020-10-14T13:59:54.047Z``.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime

DAY_MS = 86_400_000
_SEED_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return f"{datetime.fromtimestamp(days * 86_400, UTC):%Y-%m-%d}"


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds and ``Z`` (hot in generation: the date part is cached)."""
    days, rest = divmod(ms, DAY_MS)
    seconds, millis = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def parse_rfc3339(text: str) -> int:
    """Parse an RFC 3339 date-time into epoch milliseconds (floored); ValueError if malformed.

    Flooring keeps "strictly greater than" exact: an object at .047 is not after .0475.
    """
    match = _RFC3339.match(text)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, offset = match.group(7), match.group(8)
    # RFC 3339 allows a leap second (:60); Python's datetime does not, so count it as :59.999.
    leap = second == 60
    dt = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=UTC)
    ms = int(dt.timestamp()) * 1000
    if leap:
        ms += 999
    elif fraction:
        ms += int((fraction[1:] + "000")[:3])
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad UTC offset in {text!r}")
        ms -= sign * (hours * 60 + minutes) * 60_000
    return ms


def seed_start_ms(seed: int) -> int:
    """A fixed, seed-dependent start instant: a whole minute within 2026."""
    minutes = (seed * 7_919) % (365 * 24 * 60)
    return _SEED_EPOCH_MS + minutes * 60_000


def resolve_start(clock_start: str, seed: int) -> int:
    """Turn the ``clock_start`` setting (``seed``, ``now`` or an instant) into milliseconds."""
    if clock_start == "seed":
        return seed_start_ms(seed)
    if clock_start == "now":
        return int(time.time() * 1000)
    return parse_rfc3339(clock_start)


class Clock:
    """Emulated time: a start instant, plus real time elapsed, plus admin offsets."""

    def __init__(self, start_ms: int) -> None:
        self._start_ms = start_ms
        self._started = time.monotonic()
        self._offset_ms = 0
        self._last = start_ms

    def now_ms(self) -> int:
        """The current emulated instant; never goes backwards, even across equal readings."""
        now = self._start_ms + int((time.monotonic() - self._started) * 1000) + self._offset_ms
        self._last = max(self._last, now)
        return self._last

    def advance(self, ms: int) -> int:
        """Move the clock forward by ``ms`` (admin API) and return the new instant."""
        self._offset_ms += max(0, ms)
        return self.now_ms()
