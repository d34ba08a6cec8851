"""``gta export``, ``gta sync``, ``gta state ...`` and ``gta demo``: thin shells over gta.sync.

Each command parses its flags, turns user mistakes into ``UsageError`` (exit 2) and operational
failures into ``CommandError`` (exit 1), and hands off to ``gta.sync``. Progress and summaries go
to stderr so that ``--output -`` keeps stdout for records only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from gta._context import bound
from gta._text import cell
from gta.cli._confirm import YesOption, confirm_destructive
from gta.cli._errors import CommandError, Interrupted, UsageError
from gta.cli._help import GtaTyper
from gta.cli._lease_cmds import LeaseTtlOpt, checked, lease_lines, lease_ttl_seconds, state_unlock
from gta.cli._logging import final_line, json_logging, service_line
from gta.cli._options import TimeoutOpt, timeout_option
from gta.cli._profile import make_client
from gta.cli._render import write_json
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
from gta.formats import FORMAT_NAMES, UnknownFormatError
from gta.sinks import SinkConfigError, redact_url
from gta.sync import (
    AlertCursor,
    CheckpointStore,
    ConfigError,
    CursorFormatError,
    Job,
    LeaseHeldError,
    StateError,
    StreamResult,
    UnknownStreamError,
    default_state_path,
    expand_streams,
    export_job_name,
    load_config,
    run_job,
)
from gta.sync._config import SyncConfig, TenantConfig, parse_interval
from gta.sync._engine import Reporter, describe_gaps
from gta.sync._leases import DEFAULT_LEASE_TTL_S
from gta.sync._memory import sync_tuning
from gta.sync._progress import (
    RichReporter,
    choose_reporter,
    describe_cursor,
    describe_result,
    plural,
)

if TYPE_CHECKING:
    from gta.sync._metrics import SyncMetrics

StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        metavar="FILE",
        help="State file (default: $GTA_STATE_DIR/state.db, else "
        "$XDG_STATE_HOME/gta/state.db, else ~/.local/state/gta/state.db).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
_STREAM_HELP = "events, alerts, threat-detections, flows, or all of them."

state_app = GtaTyper(
    help="""Show or change saved checkpoints.

    Examples:
      gta state show
      gta state reset --stream alerts
    """,
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    """How a report is printed: for people, or one JSON document for scripts."""

    table = "table"
    json = "json"


def _complete_streams(incomplete: str) -> list[str]:
    from gta.sync import STREAM_NAMES

    return [name for name in (*STREAM_NAMES, "all") if name.startswith(incomplete)]


def _complete_schemas(incomplete: str) -> list[str]:
    return [name for name in FORMAT_NAMES if name.startswith(incomplete)]


def _streams(name: str) -> list[str]:
    """``all`` or one stream, as a list; an unknown name is a usage error listing ``all`` too."""
    try:
        return expand_streams(name)
    except UnknownStreamError:
        from gta.sync import STREAM_NAMES

        raise UsageError(
            f"unknown stream {name!r}; choose one of: {', '.join((*STREAM_NAMES, 'all'))}"
        ) from None


def _err() -> Console:
    return Console(stderr=True)


def _open_store(path: Path | None, lease_ttl: float | None = None) -> CheckpointStore:
    try:
        return CheckpointStore(path, lease_ttl=lease_ttl or DEFAULT_LEASE_TTL_S)
    except StateError as exc:
        raise CommandError(str(exc)) from None


class Stop(threading.Event):
    """Set by SIGTERM/SIGINT: the engine finishes and commits the page in flight and ends.

    ``signum`` says which signal, for the exit code and the closing line."""

    signum: int | None = None


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Stop]:
    """SIGTERM/SIGINT set a ``Stop``: the page in flight is finished and committed, then we exit.

    A stage waiting for a slow answer does not wait on: it notices the stop within a tenth of a
    second. A second signal stops at once; the checkpoint is still consistent (commits are
    atomic), only the page in flight will be delivered again."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            # A second signal: do not wait for requests in flight (worker threads would hold
            # an orderly exit). Like a crash, this is safe: commits are atomic and the page in
            # flight is simply delivered again by the next run.
            os.write(2, final_line("error: interrupted again; exiting now"))
            os._exit(128 + signum)
        stop.signum = signum
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _signal_name(signum: int) -> str:
    return signal.Signals(signum).name


@contextlib.contextmanager
def _reporting(quiet: bool) -> Iterator[Reporter]:
    # JSON logs own stderr: progress is then the engine's info records, not bars or lines.
    reporter = choose_reporter(quiet=quiet or json_logging())
    if isinstance(reporter, RichReporter):
        with reporter:
            yield reporter
    else:
        yield reporter


def _run(client: Any, job: Job, store: CheckpointStore, **kwargs: Any) -> list[StreamResult]:
    """Run a job, mapping the failures a user can act on to one line."""
    try:
        return run_job(client, job, store, **kwargs)
    except LeaseHeldError as exc:
        raise CommandError(str(exc)) from None
    except SinkConfigError as exc:
        raise UsageError(str(exc)) from None
    except StateError as exc:
        raise CommandError(str(exc)) from None


def _summary(results: list[StreamResult], console: Console) -> None:
    """One line per stream after the bars; without a terminal the plain reporter's own
    ``done`` line is the summary, so this is not printed twice."""
    for r in results:
        text = f"{r.stream}: {describe_result(r)}"
        if json_logging():
            with bound(stream=r.stream):
                service_line(text, records=r.records, pages=r.pages, rejected=r.rejected)
        else:
            console.print(text, markup=False, highlight=False)


def _raise_if_interrupted(stop: Stop, results: list[StreamResult]) -> None:
    """A run a signal stopped did not deliver everything: say so, with the shell's exit code."""
    if stop.signum is None:
        return
    delivered = sum(r.records for r in results)
    raise Interrupted(
        f"interrupted ({_signal_name(stop.signum)}) after {delivered:,} records; "
        "run the same command to resume",
        128 + stop.signum,
    )


def export(
    ctx: typer.Context,
    stream: Annotated[
        str,
        typer.Argument(metavar="STREAM", help=_STREAM_HELP, autocompletion=_complete_streams),
    ],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="PATH", help="JSON lines file, or - for stdout."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="URL", help="Sink URL instead of --output (list: gta sinks list)."
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            metavar=f"[{'|'.join(FORMAT_NAMES)}]",
            autocompletion=_complete_schemas,
            help="Record schema.  [default: annotation]",
        ),
    ] = None,
    old_format: Annotated[
        str | None,
        typer.Option("--format", "-f", hidden=True, help="Deprecated name of --schema."),
    ] = None,
    state: StateOpt = None,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Ignore the checkpoint; start from the beginning.")
    ] = False,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=1000, help="Objects per API request.")
    ] = 1000,
    job_name: Annotated[
        str | None,
        typer.Option(
            "--job", metavar="NAME", help="Checkpoint name (default: schema + destination)."
        ),
    ] = None,
    quiet: QuietOpt = False,
    lease_ttl: LeaseTtlOpt = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            help="Settings profile (default: $GTA_PROFILE or 'default').",
        ),
    ] = None,
    timeout: TimeoutOpt = None,
    log_format: LogFormatOpt = "text",
    log_level: LogLevelOpt = None,
) -> None:
    """Export new and changed records once, from the saved checkpoint, until drained.

    Examples:
      gta export events --output events.jsonl
      gta export all --output - --schema nested
      gta export alerts --to splunk-hec+https://splunk:8088 --schema ocsf
    """
    setup_logging(ctx, log_format, log_level)
    if (output is None) == (to is None):
        raise UsageError("give exactly one of --output PATH|- and --to URL")
    ttl = lease_ttl_seconds(lease_ttl)
    target = output if output is not None else to
    assert target is not None
    client_options = timeout_option(timeout)
    fmt = _schema(schema, old_format)
    try:
        streams = _streams(stream)
        job = Job(
            name=job_name or export_job_name(fmt, target),
            streams=streams,
            format=fmt,
            sink_url=target,
            page_size=page_size,
        )
    except (UnknownStreamError, UnknownFormatError) as exc:
        raise UsageError(str(exc)) from None
    # The same resolver as the triage commands: the profile file, each field overridden by
    # its environment variable; a missing setting is a usage error (exit 2).
    client = make_client(profile, **client_options)
    with sync_tuning(), client, _open_store(state, ttl) as store, _stop_on_signals() as stop:
        with _reporting(quiet) as reporter:
            results = _run(client, job, store, from_start=from_start, reporter=reporter, stop=stop)
        if isinstance(reporter, RichReporter):
            _summary(results, _err())
    _raise_if_interrupted(stop, results)
    rejected = sum(r.rejected for r in results)
    if rejected:
        # Committed anyway: the sink refused these records one by one, so sending them again
        # cannot help; but the run did not deliver everything, and a script must know.
        where = redact_url(target) if "://" in target else target
        raise CommandError(
            f"{rejected} record(s) rejected by {where} as undeliverable and dropped "
            "(checkpoint committed); each is logged above with its recordId"
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
                results = _run(client, job, store, reporter=reporter, stop=stop)
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


@state_app.command("show")
def state_show(
    state: StateOpt = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table: for people; json: every field, for scripts."),
    ] = ReportFormat.table,
) -> None:
    """List checkpoints: job, customer, stream, cursor, records delivered, last commit.

    A table on a terminal; tab-separated lines otherwise; --format json for scripts.

    Examples:
      gta state show
      gta state show --format json
    """
    columns = ("job", "customer", "stream", "cursor", "records", "updated (UTC)", "schema")
    path = state or default_state_path()
    if not path.exists():
        if fmt is ReportFormat.json:
            write_json(sys.stdout, {"state_file": str(path), "exists": False, "checkpoints": []})
            return
        typer.echo(f"no state file at {path} yet")
        return
    with _open_store(state) as store:
        checkpoints = checked(store.list)
        leases = lease_lines(store)
        path = store.path
    if fmt is ReportFormat.json:
        document = {
            "state_file": str(path),
            "exists": True,
            "checkpoints": [_checkpoint_json(cp) for cp in checkpoints],
        }
        write_json(sys.stdout, document)
        return
    rows = [
        (cp.job, cp.customer_id, cp.stream, describe_cursor(cp.stream, cp.cursor),
         str(cp.records), cp.updated_at, cp.format or "-")
        for cp in checkpoints
    ]  # fmt: skip
    console = Console()
    if not console.is_terminal:
        typer.echo(f"# state file: {path}")
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(row))
        for line in leases:
            typer.echo(f"# lease: {line}")
        return
    console.print(f"state file: {path}")
    if not rows:
        console.print("no checkpoints yet")
    else:
        table = Table(*columns)
        table.columns[4].justify = "right"  # numbers line up on their last digit
        for row in rows:
            table.add_row(*map(cell, row[:4]), f"{int(row[4]):,}", *map(cell, row[5:]))
        console.print(table)
    for line in leases:
        console.print(f"lease: {line}", markup=False, highlight=False)


def _checkpoint_json(cp: Any) -> dict[str, Any]:
    """A checkpoint with its cursor whole (an alerts cursor as the JSON object it is)."""
    cursor: Any = cp.cursor
    if cp.stream == "alerts" and cursor is not None:
        with contextlib.suppress(ValueError):
            cursor = orjson.loads(cursor)
    return {
        "job": cp.job,
        "customer_id": cp.customer_id,
        "stream": cp.stream,
        "cursor": cursor,
        "records": cp.records,
        "updated_at": cp.updated_at,
        "schema": cp.format,
    }


def _schema(schema: str | None, old_format: str | None) -> str:
    """The record schema from --schema, or from the deprecated --format with a warning."""
    if old_format is not None:
        if schema is not None:
            raise UsageError("give --schema only (--format is its old, deprecated name)")
        sys.stderr.write("warning: `gta export --format` is deprecated; use --schema\n")
        schema = old_format
    chosen = schema or "annotation"
    if chosen not in FORMAT_NAMES:
        raise UsageError(f"unknown schema {chosen!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    return chosen


@state_app.command("reset")
def state_reset(
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream",
            metavar="STREAM",
            autocompletion=_complete_streams,
            help=f"Only this stream: {_STREAM_HELP}",
        ),
    ] = None,
    job: Annotated[str | None, typer.Option("--job", metavar="NAME", help="Only this job.")] = None,
    state: StateOpt = None,
    yes: YesOption = False,
) -> None:
    """Delete checkpoints, so the next run starts from the beginning (asks first).

    Examples:
      gta state reset --stream alerts
      gta state reset --job nightly
    """
    if stream is not None:
        _streams(stream)
    if not (state or default_state_path()).exists():
        typer.echo(f"removed {plural(0, 'checkpoint')}")
        return
    with _open_store(state) as store:
        chosen = None if stream == "all" else stream
        found = len(store.list(job=job, stream=chosen))
        if not found:
            typer.echo("removed 0 checkpoints")
            return
        confirm_destructive(f"delete {plural(found, 'checkpoint')} from {store.path}", yes)
        try:
            count = store.reset(job=job, stream=chosen)
        except StateError as exc:
            raise CommandError(str(exc)) from None
    typer.echo(f"removed {plural(count, 'checkpoint')}")


@state_app.command("set")
def state_set(
    stream: Annotated[
        str,
        typer.Option(
            "--stream",
            metavar="STREAM",
            autocompletion=_complete_streams,
            help="The stream whose cursor to set (one, not all).",
        ),
    ],
    cursor: Annotated[
        str,
        typer.Option("--cursor", metavar="CURSOR", help="A sequence number, or a time for alerts."),
    ],
    job: Annotated[
        str | None, typer.Option("--job", metavar="NAME", help="Job (needed if several).")
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", metavar="ID", help="Customer id (default: $GTA_CUSTOMER_ID)."),
    ] = None,
    state: StateOpt = None,
    yes: YesOption = False,
) -> None:
    """Set a checkpoint by hand, e.g. to skip history or to replay from an earlier point.

    Examples:
      gta state set --stream events --cursor 25717281 --job nightly
      gta state set --stream alerts --cursor 2026-01-31T12:00:00Z
    """
    try:
        if _streams(stream) != [stream]:
            raise UsageError("--stream needs one stream, not 'all'")
        value = _checked_cursor(stream, cursor)
    except (UnknownStreamError, CursorFormatError) as exc:
        raise UsageError(str(exc)) from None
    with _open_store(state) as store:
        existing = store.list(job=job, stream=stream)
        if customer is not None:
            existing = [cp for cp in existing if cp.customer_id == customer]
        targets = {(cp.job, cp.customer_id) for cp in existing}
        if len(targets) > 1:
            names = ", ".join(sorted(f"{j} ({c})" for j, c in targets))
            raise UsageError(f"several checkpoints for {stream}: {names}; pick one with --job")
        if not targets:
            customer = customer or os.environ.get("GTA_CUSTOMER_ID")
            missing = [
                what
                for what, absent in (
                    ("--job", job is None),
                    ("--customer (or set GTA_CUSTOMER_ID)", not customer),
                )
                if absent
            ]
            if missing:
                raise UsageError(f"no checkpoint for {stream} yet; give {' and '.join(missing)}")
            assert job is not None and customer
            targets = {(job, customer)}
        (job_name, customer_id) = targets.pop()
        confirm_destructive(f"set the {stream} cursor of {job_name} ({customer_id})", yes)
        try:
            store.set_cursor(job_name, customer_id, stream, value)
        except StateError as exc:
            raise CommandError(str(exc)) from None
    typer.echo(f"{job_name} {customer_id} {stream}: cursor set")


def _checked_cursor(stream: str, cursor: str) -> str:
    """The cursor as it will be stored, or a UsageError: an MSN stream takes a non-negative
    decimal integer (what its ``endCursor`` is); alerts take a time or a saved alerts cursor."""
    text = cursor.strip()
    if not text:
        raise UsageError("--cursor is empty")
    if stream == "alerts":
        return AlertCursor.loads(text).dumps()
    if not (text.isascii() and text.isdigit()):
        raise UsageError(
            f"--cursor for {stream} must be a modification sequence number "
            f"(a non-negative whole number), got {text!r}"
        )
    return text


state_app.command("unlock")(state_unlock)
