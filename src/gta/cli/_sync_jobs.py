"""What ``gta sync`` needs to run several jobs: which jobs (``--job``), whether they run side
by side, one client per job kept between passes, and the outcome of a pass."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gta.cli._errors import UsageError
from gta.sync import StreamResult, SyncConfig


class Clients:
    """One client per job for the life of a scheduled run: the next pass reuses its token,
    customer id and connections, so an idle pass costs one request per stream rather than two
    more for a token and the customer id. A pass that failed closes its job's client: the next
    pass starts afresh."""

    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    @contextlib.contextmanager
    def use(self, name: str, make: Callable[[], Any]) -> Iterator[Any]:
        client = self._open.pop(name, None) or make()
        try:
            yield client
        except BaseException:
            client.close()
            raise
        self._open[name] = client

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()


@dataclass
class PassOutcome:
    records: int = 0
    failed: list[str] = field(default_factory=list)
    results: list[StreamResult] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    """With ``keep_going`` False: the failures, raised once every job had its pass."""

    def add(self, other: PassOutcome) -> None:
        self.records += other.records
        self.failed += other.failed
        self.results += other.results
        self.errors += other.errors


def parallel(config: SyncConfig, names: list[str], concurrency: int) -> bool:
    """Whether passes may run side by side (then progress is plain lines, never bars)."""
    return concurrency > 1 and len({config.jobs[n].tenant for n in names}) > 1


def selected_jobs(config: SyncConfig, given: list[str] | None) -> list[str]:
    """The jobs ``--job`` names (repeated or comma-separated), in the file's order; all when
    none is given. An unknown name is a usage error listing the jobs."""
    if not given:
        return list(config.jobs)
    wanted = {n.strip() for text in given for n in text.split(",") if n.strip()}
    unknown = sorted(wanted - set(config.jobs))
    if unknown or not wanted:
        raise UsageError(
            f"unknown job {', '.join(map(repr, unknown)) or repr('')}; "
            f"the config has: {', '.join(config.jobs)}"
        )
    return [n for n in config.jobs if n in wanted]
