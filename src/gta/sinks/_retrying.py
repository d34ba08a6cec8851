"""The network plumbing HEC, Elasticsearch and Sentinel share: one backoff (the client's capped
full jitter, ``Retry-After`` honoured) and one loop that delivers a batch over HTTP.

The loop owns what is the same for every HTTP sink: a certificate that is not trusted stops at
once (``SinkConfigError``), a network error or a verdict of "retry" waits and tries again up to
``max_retries``, a batch too large is split in halves. What a reply *means* is the sink's: it
reads the response and returns a :class:`Verdict`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import httpx

from gta.client import (
    backoff_delay,
    is_retryable_exception,
    is_tls_verification_failure,
    parse_retry_after,
)
from gta.sinks._base import SinkConfigError, SinkError

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Backoff:
    """Sleep before retry number ``attempt``, or give up after ``max_retries``.

    The delay is :func:`gta.client.backoff_delay` with this sink's base and cap, or the server's
    ``Retry-After`` (capped at ``retry_after_cap``, the backoff cap unless given)."""

    label: str
    log: logging.Logger
    max_retries: int
    base: float
    cap: float
    sleep: Callable[[float], None]
    rand: Callable[[], float]
    now: Callable[[], datetime] = _utcnow
    retry_after_cap: float | None = None
    verb: str = "retrying"

    def wait(
        self,
        attempt: int,
        reason: str,
        response: httpx.Response | None = None,
        *,
        give_up: str | None = None,
    ) -> int:
        """Sleep and return ``attempt + 1``; past the budget raise ``SinkError`` (``give_up``
        or "LABEL: giving up after N attempts (REASON)")."""
        if attempt >= self.max_retries:
            raise SinkError(
                give_up or f"{self.label}: giving up after {attempt + 1} attempts ({reason})"
            ) from None
        delay = backoff_delay(attempt, self.rand(), base=self.base, cap=self.cap)
        if response is not None:
            told = parse_retry_after(response.headers.get("Retry-After"), self.now())
            if told is not None:
                delay = min(told, self.retry_after_cap or self.cap)
        self.log.warning("%s: %s; %s in %.2fs", self.label, reason, self.verb, delay)
        self.sleep(delay)
        return attempt + 1


@dataclass(frozen=True)
class Verdict(Generic[T]):
    """What to do after a reply: ``done``; ``retry`` (back off, then send ``rest`` or the same
    batch; ``reset`` restarts the count because progress was made); ``next`` (send ``rest`` at
    once, count restarted); ``again`` (send the same batch at once, same count); ``split``."""

    kind: str
    reason: str = ""
    rest: list[T] | None = None
    reset: bool = False
    response: httpx.Response | None = field(default=None, repr=False)


def done() -> Verdict[T]:
    return Verdict("done")


def retry(
    reason: str,
    response: httpx.Response | None = None,
    *,
    rest: list[T] | None = None,
    reset: bool = False,
) -> Verdict[T]:
    return Verdict("retry", reason, rest, reset, response)


def next_part(rest: list[T]) -> Verdict[T]:
    return Verdict("next", rest=rest)


def again() -> Verdict[T]:
    return Verdict("again")


def split() -> Verdict[T]:
    return Verdict("split")


def deliver(
    batch: list[T],
    post: Callable[[list[T]], httpx.Response],
    answer: Callable[[list[T], httpx.Response], Verdict[T]],
    backoff: Backoff,
    *,
    untrusted: str,
) -> None:
    """Send ``batch`` until ``answer`` says it is done (or nothing is left).

    ``post`` makes one request; ``untrusted`` is the message when the server's certificate is
    not trusted. A split sends the first half (recursively) and goes on with the second."""
    attempt = 0
    while batch:
        try:
            response = post(batch)
        except httpx.HTTPError as exc:
            if is_tls_verification_failure(exc):
                raise SinkConfigError(untrusted) from None
            if not (isinstance(exc, httpx.TransportError) or is_retryable_exception(exc)):
                raise SinkError(f"{backoff.label}: request failed: {type(exc).__name__}") from None
            attempt = backoff.wait(attempt, f"network error: {type(exc).__name__}: {exc}")
            continue
        verdict = answer(batch, response)
        if verdict.kind == "done":
            return
        if verdict.kind == "split":
            half = len(batch) // 2
            deliver(batch[:half], post, answer, backoff, untrusted=untrusted)
            batch = batch[half:]
        elif verdict.kind == "next":
            batch, attempt = verdict.rest or [], 0
        elif verdict.kind == "retry":
            waited = backoff.wait(attempt, verdict.reason, verdict.response)
            attempt = 1 if verdict.reset else waited
            if verdict.rest is not None:
                batch = verdict.rest
        elif verdict.kind != "again":
            raise ValueError(f"unknown verdict {verdict.kind!r}")
