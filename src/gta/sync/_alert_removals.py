"""Removed alerts: reconcile what a job delivered against the API, and build tombstones.

The service removes an alert 45 days after its last detection timed out (GET then answers 404);
nothing in the alerts listing says so. So, at most once per ``every`` seconds, the ids the job
has delivered (``AlertSet``) are checked against the full alert list. The list is ordered by
risk then id, so an alert whose risk changes while we page can be skipped: an id missing from
the list is only a *candidate*, confirmed gone by a search by id (chunks of at most 1000) before
a tombstone is made. A tombstone carries the id, ``removed: true``, when the removal was noticed
(``removedAt``, the server's time) and the last status and risk the job delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from gta.formats import Tombstone
from gta.sync._alert_cursor import format_time
from gta.sync._alert_set import AlertSet, Known
from gta.sync._sdk import RawPage, SyncClient

log = logging.getLogger("gta.sync")

DEFAULT_RECONCILE_EVERY = 3600.0
"""Seconds between two reconciliations in ``gta sync`` (``reconcile_every`` in the config)."""


def page_time(page: RawPage) -> datetime:
    """The server's present of a page (its ``Date``), or our clock when it sent none."""
    value = getattr(page, "server_time", None)  # a page from a test double may lack it
    return value if isinstance(value, datetime) else datetime.now(UTC)


def tombstone(alert_id: str, status: str | None, risk: str | None, removed_at: str) -> Tombstone:
    """The record source for a removed alert: every format renders it (see ``Tombstone``)."""
    return Tombstone(
        id=alert_id,
        removed=True,
        removedAt=removed_at,
        status={"value": status},
        risk=risk,
        modifiedAt=removed_at,
    )


def confirmed_removed(client: SyncClient, candidates: list[str]) -> list[str]:
    """The candidates a search by id does not return (chunks of at most 1000 ids)."""
    if not candidates:
        return []
    found = {a.get("id") for a in client.alerts.search(candidates).raw() if isinstance(a, dict)}
    return [aid for aid in candidates if aid not in found]


def removals(
    client: SyncClient,
    alerts: AlertSet,
    *,
    every: float,
    batch: int,
    list_size: int = 1000,
    clock: Callable[[], float] = time.time,
) -> Iterator[list[Tombstone]]:
    """Batches of tombstones for the job's delivered alerts that the service removed.

    Nothing happens when the last reconciliation is less than ``every`` seconds old. The caller
    delivers each batch and then forgets its ids (``AlertSet.forget``); the time of this
    reconciliation is saved once every batch was taken, so a crash repeats it (duplicate
    tombstones, same record ids), never skips it.
    """
    started = clock()
    last = alerts.last_reconcile()
    if last is not None and 0 <= started - last < every:
        return
    known: Known = alerts.live()
    if known:
        missing = dict(known)
        present: datetime | None = None
        for page in client.alerts.list(size=list_size).raw().pages():
            present = page_time(page)
            for item in page.items:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    missing.pop(item["id"], None)
        gone = confirmed_removed(client, list(missing))
        skipped = len(missing) - len(gone)
        if skipped:
            log.info("alerts: %d alert(s) missing from the listing are still there", skipped)
        removed_at = format_time(present or datetime.now(UTC))
        for start in range(0, len(gone), max(1, batch)):
            chunk = gone[start : start + max(1, batch)]
            yield [tombstone(aid, *known[aid], removed_at) for aid in chunk]
        if gone:
            log.info("alerts: %d removed alert(s) delivered as tombstones", len(gone))
    alerts.mark_reconciled(started)
