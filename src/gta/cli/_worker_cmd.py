"""``gta sync --worker``: this process is one of many identical workers that share the units
(tenant, job, stream) of one config through one state store (``gta.sync._workers``)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from gta._context import bound
from gta.cli._errors import CommandError, UsageError
from gta.cli._logging import service_line
from gta.cli._service_cmd import _client_for, _job_pass, _pass_line
from gta.cli._sync_jobs import Clients, PassOutcome
from gta.cli._worker_opts import WorkerUnit
from gta.sync import (
    CommitLog,
    ConfigError,
    LeaseHeldError,
    Unit,
    Worker,
    check_worker_config,
    shared_destination,
    units_of,
)

if TYPE_CHECKING:
    from gta.state import Lease
    from gta.sync import CheckpointStore, SyncConfig, SyncMetrics

log = logging.getLogger("gta.workers")


def run_worker(
    config: SyncConfig,
    names: list[str],
    store: CheckpointStore,
    stop: threading.Event,
    interval: float,
    concurrency: int,
    *,
    worker_id: str,
    max_units: int | None,
    show: bool,
    quiet: bool,
    verbose: bool,
    timeout: float | None,
    metrics: SyncMetrics | None,
) -> dict[str, tuple[int, PassOutcome]]:
    """Run as one worker until ``stop``; returns each unit's last pass (number and outcome)."""
    try:
        check_worker_config(config, names)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    clients = Clients()
    outcomes: dict[Unit, PassOutcome] = {}
    last: dict[str, tuple[int, PassOutcome]] = {}
    customers: dict[str, str] = {}

    def emit(event: str, unit: Unit | None, fence: int, **fields: Any) -> None:
        data = {"worker": worker_id, "event": event, "fence": fence, "at": time.time(), **fields}
        context = {} if unit is None else {"tenant": unit.tenant, "job": unit.job}
        with bound(**context, **({} if unit is None else {"stream": unit.stream})):
            if event == "commit":  # one per page: for audits (--log-level debug)
                log.debug(
                    "worker %s: committed %s (fence %d)", worker_id, unit, fence,
                    extra={f"gta_{k}": v for k, v in data.items()},
                )  # fmt: skip
            elif not quiet:
                what = "" if unit is None else f" {unit}"
                why = f" ({fields['why']})" if fields.get("why") else ""
                service_line(f"worker {worker_id}: {event}{what}{why}, fence {fence}", **data)

    def customer_of(unit: Unit) -> str:
        if unit.tenant not in customers:
            tenant = config.tenants[unit.tenant]
            if tenant.customer_id:
                customers[unit.tenant] = tenant.customer_id
            else:
                with _client_for(tenant, timeout or config.timeout_seconds(unit.tenant)) as c:
                    customers[unit.tenant] = str(c.customer_id)
        return customers[unit.tenant]

    def run_pass(unit: Unit, lease: Lease) -> bool:
        outcome = _job_pass(
            config, unit.job, store, stop, progress=show, summaries=show, keep_going=True,
            plain=True, timeout=timeout, metrics=metrics, clients=clients,
            unit=WorkerUnit(
                unit.stream, lease, CommitLog(unit, lease, emit),
                shared_destination(config, unit.job),
            ),
        )  # fmt: skip
        outcomes[unit] = outcome
        return not outcome.failed

    def done(unit: Unit, number: int, ok: bool, seconds: float) -> None:
        outcome = outcomes.pop(unit, PassOutcome())
        last[str(unit)] = (number, outcome)
        if quiet or not (outcome.records or outcome.failed or verbose):
            return
        with bound(tenant=unit.tenant, job=unit.job, stream=unit.stream):
            service_line(
                f"unit {unit}: {_pass_line(number, outcome, seconds, interval)}",
                logging.WARNING if outcome.failed else logging.INFO,
                records=outcome.records, failed=outcome.failed, seconds=round(seconds, 3),
                worker=worker_id, **{"pass": number},
            )  # fmt: skip

    worker = Worker(
        store, units_of(config, names), worker_id=worker_id, run_pass=run_pass,
        customer_of=customer_of, interval=interval, concurrency=concurrency,
        max_units=max_units, emit=emit, done=done,
    )  # fmt: skip
    try:
        worker.run(stop)
    except LeaseHeldError as exc:
        raise CommandError(str(exc)) from None
    finally:
        clients.close()
    return last
