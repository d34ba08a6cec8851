"""``gta sync``: the jobs of a config file, once or on a schedule, as a service (pass lines,
metrics and health, signals).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gta._context import bound
from gta.cli._errors import Interrupted, UsageError
from gta.cli._lease_cmds import LeaseTtlOpt, lease_ttl_seconds
from gta.cli._logging import service_line
from gta.cli._options import TimeoutOpt, timeout_option
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
from gta.sync import (
    CheckpointStore,
    ConfigError,
    Job,
    StreamResult,
    load_config,
)
from gta.sync._config import SyncConfig, TenantConfig, parse_interval
from gta.sync._engine import Reporter, describe_gaps
from gta.sync._jobs import DestinationLeases
from gta.sync._memory import sync_tuning
from gta.sync._progress import (
    RichReporter,
)

if TYPE_CHECKING:
    from gta.sync._metrics import SyncMetrics
from gta.cli._run_support import (
    QuietOpt,
    StateOpt,
    _err,
    _open_store,
    _reporting,
    _run,
    _signal_name,
    _stop_on_signals,
    _summary,
)


def _client_for(tenant: TenantConfig, timeout: float | None = None) -> Any:
    import gta

    options: dict[str, Any] = {"securex_host": tenant.visibility_host}
    if timeout is not None:
        options["timeout"] = timeout
    if tenant.api_url:
        options["api_url"] = tenant.api_url
    if tenant.app_url:
        options["app_url"] = tenant.app_url
    if tenant.customer_id:
        options["customer_id"] = tenant.customer_id
    return gta.Client(
        tenant.client_id.get_secret_value(), tenant.client_password.get_secret_value(), **options
    )


@dataclass
class _PassOutcome:
    records: int = 0
    failed: list[str] = field(default_factory=list)
    results: list[StreamResult] = field(default_factory=list)


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
    destinations: DestinationLeases | None = None,
) -> _PassOutcome:
    """Run every job once; with ``keep_going`` a failed job is one line and the others run."""
    console = _err()
    outcome = _PassOutcome()
    for name, spec in config.jobs.items():
        if stop.is_set():
            break
        job = Job(
            name=name,
            streams=list(spec.streams),
            format=spec.format,
            sink_url=spec.sink,
            sink_options=dict(spec.sink_options),
            page_size=spec.page_size,
            reconcile_every=spec.reconcile_seconds(),
        )
        try:
            # --timeout wins over the tenant's `timeout`, which wins over the top-level one.
            deadline = timeout or config.timeout_seconds(spec.tenant)
            with (
                bound(tenant=spec.tenant, job=name),
                _client_for(config.tenants[spec.tenant], deadline) as client,
                _reporting(not progress) as progress_reporter,
            ):
                observe_client(client, metrics)
                reporter: Reporter = progress_reporter
                if metrics is not None:
                    reporter = TeeReporter(progress_reporter, metrics.reporter(spec.tenant, name))
                if destinations is not None:  # held from this job's first pass until we stop
                    destinations.ensure(job)
                results = _run(
                    client,
                    job,
                    store,
                    reporter=reporter,
                    stop=stop,
                    destination_held=destinations is not None,
                )
        except Exception as exc:
            if not keep_going or isinstance(exc, UsageError):
                raise
            reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
            outcome.failed.append(name)
            if metrics is not None:
                metrics.job_done(spec.tenant, name, error=reason)
            with bound(tenant=spec.tenant, job=name):
                service_line(f"job {name}: error: {reason}", logging.ERROR, error=reason)
            continue
        if metrics is not None and not stop.is_set():
            metrics.job_done(spec.tenant, name)
        outcome.records += sum(r.records for r in results)
        outcome.results += results
        if summaries and isinstance(reporter, RichReporter):  # plain progress has its own
            _summary(results, console)
    return outcome


def _pass_line(number: int, outcome: _PassOutcome, seconds: float, interval: float) -> str:
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
    metrics_address: MetricsAddressOpt = None,
    log_format: LogFormatOpt = "text",
    log_level: LogLevelOpt = None,
) -> None:
    """Run the jobs of a config file once or on a schedule.

    With a schedule each pass that delivered something (or failed) prints one timestamped line;
    SIGTERM finishes the page in flight, commits it and exits 0 (a service stop); SIGINT does the
    same and exits 130.

    Examples:
      gta sync --config gta.toml --once
      gta sync --config gta.toml --every 5m
    """
    setup_logging(ctx, log_format, log_level)
    if once and every:
        raise UsageError("give --once or --every, not both")
    deadline = timeout_option(timeout).get("timeout")
    try:
        config = load_config(config_path)
        interval = None if once else (parse_interval(every) if every else config.every_seconds())
    except (ConfigError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    ttl = lease_ttl_seconds(lease_ttl) or config.lease_ttl_seconds()
    state_path = state or (Path(config.state).expanduser() if config.state else None)
    scheduled = interval is not None
    address = metrics_address or config.metrics_address
    check_metrics_address(address)  # before the state file is opened
    tenants = {name: spec.tenant for name, spec in config.jobs.items()}
    with (
        sync_tuning(),
        _open_store(state_path, ttl) as store,
        _stop_on_signals() as stop,
        metrics_endpoint(address, interval, tenants) as metrics,
        contextlib.closing(DestinationLeases(store)) as destinations,
    ):
        number = 0
        while True:
            number += 1
            started = time.monotonic()
            outcome = _sync_pass(
                config,
                store,
                stop,
                progress=not quiet and (not scheduled or verbose),
                summaries=not quiet and (not scheduled or verbose),
                keep_going=scheduled,
                timeout=deadline,
                metrics=metrics,
                destinations=destinations,
            )
            if scheduled and not quiet and (outcome.records or outcome.failed or verbose):
                assert interval is not None
                service_line(
                    _pass_line(number, outcome, time.monotonic() - started, interval),
                    logging.WARNING if outcome.failed else logging.INFO,
                    records=outcome.records,
                    failed=outcome.failed,
                    **{"pass": number},
                )
            if stop.is_set() or interval is None or stop.wait(interval):
                break
    if stop.signum is not None:
        service_line(
            f"stopped by {_signal_name(stop.signum)} in pass {number} after "
            f"committing {outcome.records:,} records; the next start resumes there"
        )
        if stop.signum != signal.SIGTERM:  # SIGTERM is a service stop, not a failure
            raise Interrupted(f"interrupted after {outcome.records:,} records", 128 + stop.signum)
