"""``gta state migrate``: copy checkpoints (and the alert set) from one state to another, e.g.
from a SQLite file to PostgreSQL when moving to several workers, or back.

Refused while a live lease is held in either state: a run in flight would go on moving the
source's cursor after the copy, and the copy would overwrite what a run on the target delivered.
The check is made again inside the write transaction of the target, with the source's writers
held off by its own write transaction, so no lease or commit can slip in between check and copy.
Rows of the target that the copy would change are shown to the caller first (``plan``), who
asks before they are overwritten; a target that changed since is refused, never overwritten
unasked. Leases are not copied (they belong to running processes) and fencing numbers start
afresh in the target, which is safe since no lease of the source is live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gta.state._backend import AlertRow, Checkpoint, StateTx
from gta.state._errors import LeaseHeldError, StateError
from gta.state._store import CheckpointStore


@dataclass(frozen=True)
class MigrationPlan:
    """What a copy does: the source's rows, and the target's checkpoints it replaces."""

    checkpoints: list[Checkpoint]
    alerts: list[AlertRow]
    overwritten: list[Checkpoint]


def _refuse_live_leases(tx: StateTx, where: str) -> None:
    now = time.time()
    live = [info for info in tx.held_leases() if not info.expired(now)]
    if live:
        first = live[0]
        more = f" and {len(live) - 1} more" if len(live) > 1 else ""
        raise LeaseHeldError(
            f"cannot migrate while leases are held in {where}: {first.what()} by "
            f"{first.holder(now)}{more}; stop the runs (or gta state unlock) and try again"
        )


def _overwritten(sources: list[Checkpoint], tx: StateTx) -> list[Checkpoint]:
    target = {(c.job, c.customer_id, c.stream): c for c in tx.checkpoints({})}
    return [
        found
        for cp in sources
        if (found := target.get((cp.job, cp.customer_id, cp.stream))) is not None and found != cp
    ]


def plan_migration(source: CheckpointStore, target: CheckpointStore) -> MigrationPlan:
    """What ``copy`` would do now; LeaseHeldError while a lease is live in either state."""
    with source.backend.read() as tx:
        _refuse_live_leases(tx, source.location)
        checkpoints, alerts = tx.checkpoints({}), tx.alert_rows()
    with target.backend.read() as tx:
        _refuse_live_leases(tx, target.location)
        overwritten = _overwritten(checkpoints, tx)
    return MigrationPlan(checkpoints, alerts, overwritten)


def copy_checkpoints(
    source: CheckpointStore, target: CheckpointStore, agreed: MigrationPlan
) -> int:
    """Copy the source's checkpoints and alert set into the target in one transaction of each;
    returns how many checkpoints. Refused (StateError) when either state changed since
    ``agreed`` would overwrite more than was agreed, or a lease became live."""
    with source.backend.transaction() as stx:  # holds the source's writers off until copied
        _refuse_live_leases(stx, source.location)
        checkpoints, alerts = stx.checkpoints({}), stx.alert_rows()
        with target.backend.transaction() as ttx:
            _refuse_live_leases(ttx, target.location)
            overwritten = _overwritten(checkpoints, ttx)
            if not set(_keys(overwritten)) <= set(_keys(agreed.overwritten)):
                raise StateError(
                    f"{target.location} changed while migrating (more checkpoints would be "
                    "overwritten than were shown); nothing was copied, run it again"
                )
            for cp in checkpoints:
                ttx.put_checkpoint(cp)
            if alerts:
                ttx.remember_alerts(alerts)
    return len(checkpoints)


def _keys(checkpoints: list[Checkpoint]) -> list[tuple[str, str, str]]:
    return [(c.job, c.customer_id, c.stream) for c in checkpoints]
