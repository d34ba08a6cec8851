"""``gta alerts watch``: poll for new and changed alerts and report each new version once.

Polling asks for alerts modified after a cursor. ``modifiedAfter`` is strictly greater-than and a
time filter can miss objects stamped in the same instant, so each poll reaches back a little
(``OVERLAP``) and the versions already reported (id and ``modifiedAt``) are skipped: a version is
reported exactly once, and none falls between two polls. The cursor follows the server's own
``modifiedAt`` values, never the local clock: without ``since``, a first pass over all alerts sets
the cursor to the newest ``modifiedAt`` and reports nothing (a baseline), so a server whose clock
differs from ours (the emulator's starts at a seeded instant) is watched correctly.

Token expiry, 401, 429 and 5xx are retried inside the SDK; what still escapes it and may pass
(connection failures, timeouts, server errors) is logged and the next poll goes ahead. Errors that
will not pass by waiting (bad credentials, a bad request) stop the command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gta.cli._alert_ops import AlertFilter
from gta.cli._durations import parse_instant
from gta.cli._errors import UsageError

if TYPE_CHECKING:
    from gta import Client

__all__ = ["OVERLAP", "WatchState", "watch"]

log = logging.getLogger(__name__)
OVERLAP = timedelta(seconds=5)
PAGE_SIZE = 1000


@dataclass
class WatchState:
    """The cursor and the versions already reported (pruned to those inside the overlap)."""

    cursor: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)  # alert id -> modifiedAt reported
    reported: int = 0

    def accept(self, alert: Mapping[str, Any]) -> bool:
        """True when *alert* is a version not reported yet; advances the cursor."""
        alert_id, modified = str(alert.get("id")), str(alert.get("modifiedAt") or "")
        if self.seen.get(alert_id) == modified:
            return False
        self.seen[alert_id] = modified
        try:
            moment = parse_instant(modified)
        except UsageError:  # an unparsable stamp must not stop a watch
            return True
        self.cursor = moment if self.cursor is None else max(self.cursor, moment)
        return True

    @property
    def modified_after(self) -> datetime | None:
        """What to ask the API for: a little before the cursor (see the module docstring)."""
        return None if self.cursor is None else self.cursor - OVERLAP

    def prune(self) -> None:
        """Forget versions older than the overlap window: they cannot be returned again."""
        if self.cursor is None:
            return
        horizon = self.cursor - OVERLAP * 2
        for alert_id, modified in list(self.seen.items()):
            try:
                if parse_instant(modified) < horizon:
                    del self.seen[alert_id]
            except UsageError:
                del self.seen[alert_id]


def change_kind(alert: Mapping[str, Any]) -> str:
    """``new`` for a first version (``modifiedAt`` equals ``triggeredAt``), else ``changed``."""
    return "new" if alert.get("modifiedAt") == alert.get("triggeredAt") else "changed"


def watch(
    client: Client,
    emit: Callable[[dict[str, Any], str], None],
    *,
    where: AlertFilter,
    interval: float,
    since: datetime | None = None,
    count: int | None = None,
    duration: float | None = None,
    on_poll: Callable[[WatchState, str | None], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> WatchState:
    """Poll until *count* versions were reported or *duration* seconds passed (or forever)."""
    # Bad credentials or a bad request propagate: waiting will not fix them. A 401 after the
    # SDK's own fresh-token retry is not token expiry.
    from gta.errors import ApiConnectionError, RateLimitError, ServerError

    state = WatchState(cursor=since)
    ready = since is not None  # else the first successful pass is the baseline
    started = monotonic()
    while True:
        problem: str | None = None
        try:
            if ready:
                _poll(client, state, where, emit, count)
            else:
                _baseline(client, state)
                ready = True
                log.debug("watching changes after %s", state.cursor)
        except (ApiConnectionError, ServerError, RateLimitError) as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("poll failed, will retry: %s", problem)
        if on_poll is not None:
            on_poll(state, problem)
        if count is not None and state.reported >= count:
            return state
        elapsed = monotonic() - started
        if duration is not None and elapsed >= duration:
            return state
        pause = interval if duration is None else min(interval, duration - elapsed)
        sleep(max(pause, 0.0))


def _baseline(client: Client, state: WatchState) -> None:
    """See every current alert version without reporting it (one pass: alerts are the fewest
    objects), so only what changes from now on is reported."""
    for alert in client.alerts.list(size=PAGE_SIZE).raw():
        state.accept(alert)
    state.prune()


def _poll(
    client: Client,
    state: WatchState,
    where: AlertFilter,
    emit: Callable[[dict[str, Any], str], None],
    count: int | None,
) -> None:
    pager = client.alerts.list(modified_after=state.modified_after, size=PAGE_SIZE).raw()
    fresh = [dict(alert) for alert in pager]
    # Report in the order things happened, whatever the API's default (risk) order.
    fresh.sort(key=lambda alert: str(alert.get("modifiedAt") or ""))
    for alert in fresh:
        if not state.accept(alert) or not where.matches(alert):
            continue
        emit(alert, change_kind(alert))
        state.reported += 1
        if count is not None and state.reported >= count:
            break
    state.prune()
