"""Retry policy as small pure functions, plus the seams (sleep, clocks, randomness).

The transport asks these functions *whether* and *how long*; it never computes a delay
itself. Tests drive them from tables and pass a fake :class:`Runtime` so nothing really
waits (the stamina idea: time and chance are injected, not imported).
"""

from __future__ import annotations

import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = [
    "RETRY_AFTER_CAP",
    "Runtime",
    "backoff_delay",
    "is_retryable_exception",
    "is_retryable_status",
    "is_tls_verification_failure",
    "parse_retry_after",
    "retry_delay",
    "token_refresh_delay",
]

#: Longest wait honoured from a ``Retry-After`` header, in seconds.
RETRY_AFTER_CAP = 120.0
#: Base and cap of the exponential backoff when the server gives no ``Retry-After``.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
#: Token lifetime assumed when the token response has no usable ``expires_in`` (API.md §2).
DEFAULT_TOKEN_LIFETIME = 600.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    """The outside world the client depends on: swap it in tests.

    ``sleep`` waits between retries, ``monotonic`` times token lifetimes, ``random`` returns a
    float in [0, 1) for jitter, ``now`` is the wall clock (only for HTTP-date ``Retry-After``).
    """

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = field(default_factory=lambda: random.Random().random)
    now: Callable[[], datetime] = _utcnow


def is_retryable_status(status_code: int) -> bool:
    """429 and every 5xx are retried; other statuses are answers, not accidents."""
    return status_code == 429 or 500 <= status_code <= 599


def is_retryable_exception(exc: BaseException) -> bool:
    """Connection failures, resets, protocol breaks and every kind of timeout are retried.

    All our calls are safe to repeat (GET, POST search, PATCH status/note, DELETE note), so a
    read timeout after the request was sent is retried too.
    """
    return isinstance(
        exc,
        httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError,
    )


# A host name that does not resolve is almost always a typo in a URL setting, rarely a resolver
# hiccup: retry it a little, not for the whole budget (a minute of waiting for a typo).
NAME_RESOLUTION_RETRIES = 2


def is_name_resolution_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a failure to resolve a host name."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        text = str(current)
        if "Name or service not known" in text or "nodename nor servname" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_tls_verification_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a certificate that did not verify."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def backoff_delay(
    attempt: int,
    rand: float,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)).

    ``attempt`` counts retries from 0; ``rand`` is a draw in [0, 1).
    """
    ceiling = min(cap, base * (2.0 ** min(attempt, 62)))
    return max(0.0, min(rand, 1.0)) * ceiling


def parse_retry_after(
    value: str | None,
    now: datetime,
    *,
    cap: float = RETRY_AFTER_CAP,
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), capped.

    ``None`` when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def retry_delay(attempt: int, retry_after: float | None, rand: float) -> float:
    """The wait before retry number ``attempt``: the server's word if given, else backoff."""
    if retry_after is not None:
        return retry_after
    return backoff_delay(attempt, rand)


def token_refresh_delay(expires_in: float) -> float:
    """Seconds after issue at which a token is refreshed.

    At 80 % of the lifetime or 60 s before expiry, whichever is earlier; but never before half
    the lifetime, so a token of a few seconds is still used (a 2 s token refreshes after 1 s).
    """
    if expires_in <= 0:
        return 0.0
    return max(min(0.8 * expires_in, expires_in - 60.0), 0.5 * expires_in)
