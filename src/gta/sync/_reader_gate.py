"""How many partition readers may fetch a page at once: fewer after a 429, more again later.

Every reader takes the gate around each page request. The limit starts at the number of
readers; a 429 from the API (seen through the SDK's ``on_response`` observer, retries
included) halves it, and a run of successful answers raises it by one again, up to where it
started (additive increase, multiplicative decrease: the rate-limited service gets fewer
requests at once, without a fixed pause).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

log = logging.getLogger("gta.sync")

SUCCESSES_PER_STEP = 8
"""Answers without a 429 before the limit grows by one reader."""


class ReaderGate:
    """A semaphore whose size moves with the API's 429s. Thread-safe."""

    def __init__(self, readers: int) -> None:
        self.most = max(1, readers)
        self.limit = self.most
        self.active = 0
        self.throttled = 0  # 429s seen
        self._ok = 0
        self._cond = threading.Condition()

    def __enter__(self) -> ReaderGate:
        with self._cond:
            while self.active >= self.limit:
                self._cond.wait(timeout=0.5)
            self.active += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    def saw(self, status: int) -> None:
        """An answer's status: 429 halves the limit, successes raise it again."""
        with self._cond:
            if status == 429:
                self.throttled += 1
                self._ok = 0
                if self.limit > 1:
                    self.limit = max(1, self.limit // 2)
                    log.warning("rate limited (429): %d reader(s) at a time now", self.limit)
            elif 200 <= status < 300 and self.limit < self.most:
                self._ok += 1
                if self._ok >= SUCCESSES_PER_STEP * self.limit:
                    self._ok = 0
                    self.limit += 1
                    self._cond.notify_all()


@contextlib.contextmanager
def watch_rate_limits(client: Any, gate: ReaderGate) -> Iterator[None]:
    """Show the gate every answer the client receives, besides the observer already there
    (metrics); the previous observer is back when the block ends."""
    transport = getattr(client, "transport", None)
    if transport is None or not hasattr(transport, "on_response"):
        yield
        return
    previous = transport.on_response

    def observe(status: int) -> None:
        gate.saw(status)
        if previous is not None:
            previous(status)

    transport.on_response = observe
    try:
        yield
    finally:
        transport.on_response = previous
