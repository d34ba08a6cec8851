"""What a state backend stores, and the small protocol it implements: storage only.

A backend (SQLite, PostgreSQL) keeps three kinds of rows: checkpoints keyed by (job, customer
id, stream), one lease row per leased thing (a stream of a job, or a destination), and the
alert set of ``gta.sync`` (the alerts a job delivered and believes live). It offers them inside
a *transaction* (``StateTx``): reads, upserts, and compare-and-set updates of a lease row. The
rules that decide who may hold a lease (time-to-live, heartbeat, fencing, takeover, pid
liveness) are not here: they live in ``_store`` and ``_rules``, above every backend, so a
second backend cannot get them subtly different.

Write transactions are serialised (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-level
advisory lock): a lease is read, judged and written with nobody else writing in between.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from gta.state._rules import LeaseInfo

CHECKPOINT_COLUMNS = ("job", "customer_id", "stream", "cursor", "format", "sink", "records",
                      "updated_at")  # fmt: skip
LEASE_COLUMNS = ("key", "job", "customer_id", "stream", "destination", "owner", "pid", "host",
                 "pidns", "boot_id", "heartbeat", "ttl", "fence")  # fmt: skip
FILTER_COLUMNS = frozenset({"job", "customer_id", "stream"})

AlertRow = tuple[str, str, str, str | None, str | None, float]
"""(job, customer id, alert id, last status, last risk, updated at)."""


@dataclass(frozen=True)
class Checkpoint:
    """One saved position: what the job's sink has durably received from one stream."""

    job: str
    customer_id: str
    stream: str
    cursor: str | None
    format: str | None
    sink: str | None
    records: int
    updated_at: str


def stream_key(job: str, customer_id: str, stream: str) -> str:
    return "\x1f".join(("stream", job, customer_id, stream))


def destination_lease_key(destination: str) -> str:
    return "\x1f".join(("destination", destination))


class StateTx(Protocol):
    """The rows of one state, inside one transaction. ``filters`` map a column of
    ``FILTER_COLUMNS`` to the value it must equal."""

    def checkpoint(self, job: str, customer_id: str, stream: str) -> Checkpoint | None: ...

    def checkpoints(self, filters: Mapping[str, str]) -> builtins.list[Checkpoint]: ...

    def add_to_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Upsert: cursor and time replaced, format and sink kept when ``None``, ``records``
        added to the count already there."""

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Insert or replace the whole row (``gta state migrate``)."""

    def delete_checkpoints(self, filters: Mapping[str, str]) -> int: ...

    def lease(self, key: str) -> LeaseInfo | None: ...

    def held_leases(self) -> builtins.list[LeaseInfo]:
        """Rows with an owner (live or expired), ordered by key."""

    def put_lease(self, info: LeaseInfo) -> None:
        """Insert or replace the row of ``info.key``."""

    def update_lease(
        self, key: str, owner: str, fence: int, *, heartbeat: float | None = None
    ) -> bool:
        """Compare-and-set: if the row still has ``owner`` and ``fence``, set its heartbeat
        (a number) or release it (``None``: owner cleared). Whether it matched."""

    def remember_alerts(self, rows: Iterable[AlertRow]) -> None: ...

    def forget_alerts(self, job: str, customer_id: str, alert_ids: Iterable[str]) -> None: ...

    def live_alerts(
        self, job: str, customer_id: str
    ) -> builtins.list[tuple[str, str | None, str | None]]: ...

    def reconciled_at(self, job: str, customer_id: str) -> float | None: ...

    def alert_rows(self) -> builtins.list[AlertRow]:
        """Every alert set row (``gta state migrate``)."""

    def mark_reconciled(self, job: str, customer_id: str, when: float) -> None: ...


class StateBackend(Protocol):
    """Storage for one state: transactions over its rows. Every failure is a ``StateError``
    whose text names ``location`` (never a password)."""

    location: str
    """Where the state is, for messages: a file path, or a URL without its password."""

    def transaction(self) -> AbstractContextManager[StateTx]:
        """A serialised write transaction: committed at the end, rolled back on any error."""

    def read(self) -> AbstractContextManager[StateTx]:
        """A read (may see a snapshot; writes are not allowed)."""

    def close(self) -> None: ...


def where(filters: Mapping[str, str], placeholder: str) -> tuple[str, builtins.list[str]]:
    """`` WHERE a=? AND b=?`` for the filters (columns checked against ``FILTER_COLUMNS``)."""
    unknown = set(filters) - FILTER_COLUMNS
    if unknown:
        raise ValueError(f"not a checkpoint filter: {sorted(unknown)}")
    if not filters:
        return "", []
    return (
        " WHERE " + " AND ".join(f"{column}={placeholder}" for column in filters),
        list(filters.values()),
    )
