"""``gta sync``: the jobs of a config file, once or on a schedule, as a service (pass lines,
metrics and health, signals).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gta._context import bound
from gta.cli._errors import CommandError, Interrupted, UsageError
from gta.cli._lease_cmds import LeaseTtlOpt, lease_ttl_seconds
from gta.cli._logging import service_line
from gta.cli._options import CaBundleOpt, ProxyOpt, TimeoutOpt, timeout_option
from gta.cli._progress import RichReporter
from gta.cli._service import (
    LogFormatOpt,
    LogLevelOpt,
    MetricsAddressOpt,
    TeeReporter,
    check_metrics_address,
    metrics_endpoint,
    observe_client,
    setup_logging,
)
from gta.cli._sync_jobs import Clients, PassOutcome, parallel, selected_jobs
from gta.cli._worker_opts import MaxUnitsOpt, WorkerIdOpt, WorkerOpt, check_worker_options
from gta.sync import (
    MAX_CONCURRENCY,
    CheckpointStore,
    ConfigError,
    DestinationLeases,
    Job,
    Reporter,
    SyncConfig,
    TenantConfig,
    describe_gaps,
    load_config,
    parse_interval,
    run_schedule,
    sync_tuning,
)

if TYPE_CHECKING:
    from gta.cli._worker_opts import WorkerUnit
    from gta.sync import SyncMetrics
from gta.cli._run_support import (
    QuietOpt,
    ReadersOpt,
    StateOpt,
    _err,
    _open_store,
    _reporting,
    _run,
    _signal_name,
    _stop_on_signals,
    _summary,
    with_readers,
)


def _client_for(tenant: TenantConfig, timeout: float | None = None) -> Any:
    """The tenant's client (``TenantConfig.client_settings``: secrets read now, so a rotated
    file is picked up at the next pass); an unreadable secret is a configuration error."""
    import gta
    from gta._secrets import SecretError

    try:
        settings = tenant.client_settings(timeout)
    except SecretError as exc:
        raise gta.errors.ConfigurationError(str(exc)) from None
    return gta.Client.from_settings(settings)


def _job_pass(
    config: SyncConfig,
    name: str,
    store: CheckpointStore,
    stop: threading.Event,
    *,
    progress: bool,
    summaries: bool,
    keep_going: bool,
    plain: bool = False,
    timeout: float | None = None,
    metrics: SyncMetrics | None = None,
    clients: Clients | None = None,
    destinations: DestinationLeases | None = None,
    unit: WorkerUnit | None = None,
) -> PassOutcome:
    """One pass of one job, with its own client (kept in ``clients`` between passes when
    given), reporter, metrics labels and log context. ``unit``: only one stream of the job,
    under a lease the caller holds (``gta sync --worker``).

    A failure is one line (``keep_going``) or kept in the outcome to be raised once the other
    jobs had their pass; a usage error (a bad sink option...) is raised at once."""
    spec = config.jobs[name]
    outcome = PassOutcome()
    job = Job(
        name=name,
        streams=list(spec.streams) if unit is None else [unit.stream],
        format=spec.format,
        sink_url=spec.sink,
        sink_options=dict(spec.sink_options),
        page_size=spec.page_size,
        reconcile_every=spec.reconcile_seconds(),
        readers=spec.readers,
    )
    with bound(tenant=spec.tenant, job=name):
        try:
            # --timeout wins over the tenant's `timeout`, which wins over the top-level one.
            deadline = timeout or config.timeout_seconds(spec.tenant)
            tenant = config.tenants[spec.tenant]
            key = name if unit is None else f"{name}\x1f{unit.stream}"
            with (
                _client_for(tenant, deadline)
                if clients is None
                else clients.use(key, lambda: _client_for(tenant, deadline)) as client,
                _reporting(not progress, f"job {name}: " if plain else None) as progress_reporter,
            ):
                observe_client(client, metrics)
                reporter: Reporter = progress_reporter
                if metrics is not None:
                    reporter = TeeReporter(progress_reporter, metrics.reporter(spec.tenant, name))
                if unit is not None:
                    reporter = TeeReporter(reporter, unit.reporter)
                if destinations is not None:  # held from this job's first pass until we stop
                    destinations.ensure(job)
                results = _run(
                    client,
                    job,
                    store,
                    reporter=reporter,
                    stop=stop,
                    destination_held=destinations is not None
                    or (unit is not None and unit.shared_destination),
                    leases=None if unit is None else {unit.stream: unit.lease},
                )
        except UsageError:
            raise
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
            outcome.failed.append(name)
            if metrics is not None:
                metrics.job_done(spec.tenant, name, error=reason)
            if not keep_going:
                outcome.errors.append(exc)
            else:
                service_line(f"job {name}: error: {reason}", logging.ERROR, error=reason)
            return outcome
    if metrics is not None and not stop.is_set():
        metrics.job_done(spec.tenant, name)
    outcome.records += sum(r.records for r in results)
    outcome.results += results
    if summaries and isinstance(reporter, RichReporter):  # plain progress has its own
        _summary(results, _err())
    return outcome


def _sync_pass(
    config: SyncConfig,
    store: CheckpointStore,
    stop: threading.Event,
    *,
    progress: bool,
    summaries: bool,
    keep_going: bool,
    timeout: float | None = None,
    metrics: SyncMetrics | None = None,
    concurrency: int = 1,
    names: list[str] | None = None,
    destinations: DestinationLeases | None = None,
) -> PassOutcome:
    """Run every job (of ``names``) once, tenants side by side; without ``keep_going`` the
    failures are raised once every job had its pass (several: one line each, then a summary)."""
    names = list(config.jobs) if names is None else names
    plain = parallel(config, names, concurrency)
    outcome = PassOutcome()

    def run(name: str) -> PassOutcome:
        return _job_pass(
            config, name, store, stop, progress=progress, summaries=summaries,
            keep_going=keep_going, plain=plain, timeout=timeout, metrics=metrics,
            destinations=destinations,
        )  # fmt: skip

    run_schedule(
        {n: config.jobs[n].tenant for n in names},
        run,
        lambda _name, _number, result, _seconds: outcome.add(result),
        stop=stop,
        concurrency=concurrency,
        interval=None,
    )
    if len(outcome.errors) == 1:
        raise outcome.errors[0]
    if outcome.errors:
        for name, exc in zip(outcome.failed, outcome.errors, strict=True):
            reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
            with bound(tenant=config.jobs[name].tenant, job=name):
                service_line(f"job {name}: error: {reason}", logging.ERROR, error=reason)
        raise CommandError(f"{len(outcome.errors)} jobs failed: {', '.join(outcome.failed)}")
    return outcome


def _pass_line(number: int, outcome: PassOutcome, seconds: float, interval: float) -> str:
    nxt = datetime.now(UTC) + timedelta(seconds=interval)
    failed = f", {len(outcome.failed)} job(s) failed" if outcome.failed else ""
    gaps: dict[str, int] = {}
    for r in outcome.results:
        for kind, count in r.gaps.items():
            gaps[kind] = gaps.get(kind, 0) + count
    incomplete = f", enrichment incomplete: {describe_gaps(gaps)}" if gaps else ""
    return (
        f"pass {number}: {outcome.records:,} records in {seconds:.1f}s"
        f"{failed}{incomplete}; next at {nxt.strftime('%H:%M:%S')}Z"
    )


def sync(
    ctx: typer.Context,
    config_path: Annotated[
        Path,
        typer.Option("--config", "-c", metavar="FILE", help="TOML file of jobs (gta help sync)."),
    ],
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    every: Annotated[
        str | None,
        typer.Option(
            "--every", metavar="DURATION", help="Run a pass every interval (30s, 5m, 1h)."
        ),
    ] = None,
    state: StateOpt = None,
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="With --every: a line for every pass, and per-stream totals."
        ),
    ] = False,
    lease_ttl: LeaseTtlOpt = None,
    timeout: TimeoutOpt = None,
    proxy: ProxyOpt = None,
    ca_bundle: CaBundleOpt = None,
    metrics_address: MetricsAddressOpt = None,
    log_format: LogFormatOpt = "text",
    log_level: LogLevelOpt = None,
    job_names: Annotated[
        list[str] | None,
        typer.Option(
            "--job",
            "-j",
            metavar="NAME",
            help="Run only this job (repeat the option, or separate names with commas).",
        ),
    ] = None,
    readers: ReadersOpt = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            metavar="N",
            min=1,
            max=MAX_CONCURRENCY,
            help="Jobs of different tenants run side by side, at most N at once "
            "(default: the config's `concurrency`, else 4).",
        ),
    ] = None,
    worker: WorkerOpt = False,
    worker_id: WorkerIdOpt = None,
    max_units: MaxUnitsOpt = None,
) -> None:
    """Run the jobs of a config file once or on a schedule.

    With a schedule each pass that delivered something (or failed) prints one timestamped line;
    SIGTERM finishes the page in flight, commits it and exits 0 (a service stop); SIGINT does the
    same and exits 130. Tenants run side by side (--concurrency), each job on its own
    schedule, so a slow tenant does not delay the others.

    Examples:
      gta sync --config gta.toml --once
      gta sync --config gta.toml --every 5m
      gta sync --config gta.toml --every 1m --worker --worker-id node-1
    """
    setup_logging(ctx, log_format, log_level)
    if once and every:
        raise UsageError("give --once or --every, not both")
    deadline = timeout_option(timeout).get("timeout")
    try:
        config = with_readers(load_config(config_path).with_network(proxy, ca_bundle), readers)
        interval = None if once else (parse_interval(every) if every else config.every_seconds())
    except (ConfigError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    ttl = lease_ttl_seconds(lease_ttl) or config.lease_ttl_seconds()
    state_path = state or config.state
    scheduled = interval is not None
    worker_name = check_worker_options(worker, worker_id, max_units, scheduled)
    address = metrics_address or config.metrics_address
    check_metrics_address(address)  # before the state file is opened
    names = selected_jobs(config, job_names)
    workers = concurrency or config.concurrency
    tenants = {name: config.jobs[name].tenant for name in names}
    show = not quiet and (not scheduled or verbose)
    with (
        sync_tuning(),
        _open_store(state_path, ttl) as store,
        _stop_on_signals() as stop,
        metrics_endpoint(address, interval, tenants) as metrics,
        contextlib.closing(DestinationLeases(store)) as destinations,
    ):
        if worker_name is not None and interval is not None:
            from gta.cli._worker_cmd import run_worker

            last = run_worker(
                config, names, store, stop, interval, workers, worker_id=worker_name,
                max_units=max_units, show=show, quiet=quiet, verbose=verbose, timeout=deadline,
                metrics=metrics,
            )  # fmt: skip
        elif interval is None:
            outcome = _sync_pass(
                config, store, stop, progress=show, summaries=show, keep_going=False,
                timeout=deadline, metrics=metrics, concurrency=workers, names=names,
                destinations=destinations,
            )  # fmt: skip
            last = {"": (1, outcome)}
        else:
            last = _scheduled(
                config, names, store, stop, interval, workers,
                show=show, quiet=quiet, verbose=verbose, timeout=deadline, metrics=metrics,
                destinations=destinations,
            )  # fmt: skip
    if stop.signum is not None:
        records = sum(o.records for _, o in last.values())
        where = f"in pass {next(iter(last.values()))[0]} " if len(last) == 1 else ""
        service_line(
            f"stopped by {_signal_name(stop.signum)} {where}after "
            f"committing {records:,} records; the next start resumes there"
        )
        if stop.signum != signal.SIGTERM:
            raise Interrupted(f"interrupted after {records:,} records", 128 + stop.signum)
        # SIGTERM is a service stop, not a failure: exit 0, without waiting for a pass that
        # the stop left behind (the scheduler's STOP_GRACE).
        raise Interrupted("", 0)


def _scheduled(
    config: SyncConfig,
    names: list[str],
    store: CheckpointStore,
    stop: threading.Event,
    interval: float,
    concurrency: int,
    *,
    show: bool,
    quiet: bool,
    verbose: bool,
    timeout: float | None,
    metrics: SyncMetrics | None,
    destinations: DestinationLeases | None = None,
) -> dict[str, tuple[int, PassOutcome]]:
    """Every job on its own loop: its next pass starts ``interval`` after its last one ended,
    whatever the other jobs do. Returns each job's last pass (number and outcome)."""
    plain = parallel(config, names, concurrency)
    last: dict[str, tuple[int, PassOutcome]] = {}
    clients = Clients()

    def run(name: str) -> PassOutcome:
        return _job_pass(
            config, name, store, stop, progress=show, summaries=show, keep_going=True,
            plain=plain, timeout=timeout, metrics=metrics, clients=clients,
            destinations=destinations,
        )  # fmt: skip

    def done(name: str, number: int, outcome: PassOutcome, seconds: float) -> None:
        last[name] = (number, outcome)
        if quiet or not (outcome.records or outcome.failed or verbose):
            return
        line = _pass_line(number, outcome, seconds, interval)
        with bound(tenant=config.jobs[name].tenant, job=name):
            service_line(
                line if len(names) == 1 else f"job {name}: {line}",
                logging.WARNING if outcome.failed else logging.INFO,
                records=outcome.records,
                failed=outcome.failed,
                seconds=round(seconds, 3),
                **{"pass": number},
            )

    try:
        run_schedule(
            {n: config.jobs[n].tenant for n in names}, run, done,
            stop=stop, concurrency=concurrency, interval=interval,
        )  # fmt: skip
    finally:
        clients.close()
    return last
