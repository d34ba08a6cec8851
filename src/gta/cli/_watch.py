"""``gta alerts watch``: poll for new and changed alerts and report each new version once.

Polling asks for alerts modified after a cursor, which is the alerts stream's own cursor
(``gta.sync.AlertCursor``, scanned by ``gta.sync.scan_alerts``): ``modifiedAfter`` is strictly
greater-than and a time filter can miss objects stamped in the same instant, so each poll reaches
back a little (``OVERLAP``) and the versions already reported (id and ``modifiedAt``, kept only
inside that window) are skipped: a version is reported exactly once, and none falls between two
polls. The cursor follows the server's own ``modifiedAt`` values, never the local clock, and
never moves past the server's present (its ``Date``): without ``since``, a first pass over all
alerts sets the cursor to the newest ``modifiedAt`` and reports nothing (a baseline), so a
server whose clock differs from ours (the emulator's starts at a seeded instant) is watched
correctly.

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

if TYPE_CHECKING:  # gta.sync loads only when a watch runs (``alerts list`` stays light)
    from gta import Client
    from gta.sync import AlertCursor

__all__ = ["OVERLAP", "WatchState", "watch"]

log = logging.getLogger(__name__)
OVERLAP = timedelta(seconds=5)
PAGE_SIZE = 1000


@dataclass
class WatchState:
    """The alerts cursor of the watch (``since`` and the versions reported inside the overlap
    window before it) and how many versions were reported."""

    alerts: AlertCursor = field(default_factory=lambda: _cursor(None))
    reported: int = 0

    @classmethod
    def starting(cls, since: datetime | None) -> WatchState:
        """A watch that reports what changes after ``since`` (``None``: after a baseline)."""
        return cls(_cursor(since))

    @property
    def cursor(self) -> datetime | None:
        """The newest ``modifiedAt`` seen (server time), ``None`` before the first pass."""
        return None if self.alerts.since is None else parse_instant(self.alerts.since)

    @property
    def modified_after(self) -> datetime | None:
        """What the next poll asks the API for: a little before the cursor."""
        return None if self.cursor is None else self.cursor - OVERLAP

    def scan(self, client: Client) -> list[dict[str, Any]]:
        """One pass over the alerts changed since the cursor: the versions not seen before.
        The cursor moves only once the whole pass was read, so a failed poll is repeated."""
        from gta.sync import scan_alerts

        fresh: list[dict[str, Any]] = []
        cursor = self.alerts
        for page in scan_alerts(client.alerts.list, cursor, page_size=PAGE_SIZE, overlap=OVERLAP):
            fresh.extend(page.fresh)
            cursor = page.cursor
        self.alerts = cursor
        return fresh


def _cursor(since: datetime | None) -> AlertCursor:
    from gta.sync import AlertCursor

    return AlertCursor.loads(since.isoformat() if since is not None else None)


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

    state = WatchState.starting(since)
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
    state.scan(client)


def _poll(
    client: Client,
    state: WatchState,
    where: AlertFilter,
    emit: Callable[[dict[str, Any], str], None],
    count: int | None,
) -> None:
    fresh = [dict(alert) for alert in state.scan(client)]
    # Report in the order things happened, whatever the API's default (risk) order.
    fresh.sort(key=lambda alert: str(alert.get("modifiedAt") or ""))
    for alert in fresh:
        if not where.matches(alert):
            continue
        emit(alert, change_kind(alert))
        state.reported += 1
        if count is not None and state.reported >= count:
            break
