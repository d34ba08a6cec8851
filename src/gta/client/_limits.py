"""Per-attempt limits: a whole-request deadline and a bound on the size of an answer.

httpx's timeouts apply to each network operation (connect, each write, each read), so a server
that sends one byte a second never trips them. An attempt therefore gets a deadline on the
monotonic clock, enforced in two places:

- :class:`DeadlineTimeouts` is the ``timeout`` extension of the request: httpcore looks up each
  phase's timeout when the phase starts (pool wait, connect, write, waiting for the headers,
  reading the body), and gets the phase's limit capped by what remains of the deadline;
- :func:`read_body` reads the answer chunk by chunk, and stops when the deadline has passed or
  when the answer grows past the size limit (``Content-Length`` is checked first, so a declared
  oversize answer is refused before its first byte is read). The limit counts decoded bytes, so a
  compressed answer cannot expand past it in memory either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import httpx

from gta.client._exceptions import ResponseTooLargeError, describe

__all__ = ["DeadlineExceeded", "DeadlineTimeouts", "format_seconds", "read_body"]

_PHASES = ("connect", "read", "write", "pool")
# A timeout of 0 would make the socket non-blocking (an error other than a timeout): once the
# deadline has passed, the next blocking operation gets this instead and times out at once.
_EXPIRED = 0.001


class DeadlineExceeded(httpx.ReadTimeout):
    """The attempt's deadline passed while the answer was still arriving (retried like a
    read timeout)."""


def format_seconds(seconds: float) -> str:
    """``2 s``, ``0.5 s``, ``60 s``: a duration as a user wrote it."""
    return f"{seconds:g} s"


class DeadlineTimeouts(Mapping[str, float | None]):
    """httpx's per-phase timeouts, each capped by what remains of the deadline when read."""

    def __init__(
        self, limits: Mapping[str, float | None], deadline: float, clock: Callable[[], float]
    ) -> None:
        self._limits = dict(limits)
        self._deadline = deadline
        self._clock = clock

    def remaining(self) -> float:
        return max(self._deadline - self._clock(), _EXPIRED)

    def __getitem__(self, phase: str) -> float | None:
        limit = self._limits.get(phase) if phase in _PHASES else self._limits[phase]
        remaining = self.remaining()
        return remaining if limit is None else min(limit, remaining)

    def __iter__(self) -> Iterator[str]:
        return iter(_PHASES)

    def __len__(self) -> int:
        return len(_PHASES)


def read_body(
    response: httpx.Response,
    *,
    limit: int,
    deadline: float,
    seconds: float,
    clock: Callable[[], float],
) -> bytes:
    """The whole (decoded) body of a streamed response, within ``deadline`` and ``limit``.

    Raises ResponseTooLargeError (not retried) or DeadlineExceeded (an ``httpx.ReadTimeout``,
    retried); the response is closed either way, so the connection is dropped, not drained.
    """
    request = response.request
    try:
        declared = _content_length(response)
        if declared is not None and declared > limit:
            raise _too_large(request, limit, f"Content-Length {declared}")
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > limit:
                raise _too_large(request, limit, f"more than {limit} bytes received")
            chunks.append(chunk)
            if clock() > deadline:
                raise DeadlineExceeded(
                    f"the answer was still arriving after {format_seconds(seconds)}",
                    request=request,
                )
    finally:
        response.close()
    return b"".join(chunks)


def _content_length(response: httpx.Response) -> int | None:
    text = response.headers.get("content-length")
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def _too_large(request: httpx.Request, limit: int, what: str) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{describe(request)} answered more than the limit of {limit} bytes ({what}); "
        "refused (raise max_response_bytes if such an answer is expected)",
        request=request,
        limit=limit,
    )
