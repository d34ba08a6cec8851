"""``gta export``: one incremental run of a job built from flags, a thin shell over gta.sync.

It parses its flags, turns user mistakes into ``UsageError`` (exit 2) and operational failures
into ``CommandError`` (exit 1), and hands off to ``gta.sync``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from gta.cli._errors import CommandError, UsageError
from gta.cli._lease_cmds import LeaseTtlOpt, lease_ttl_seconds
from gta.cli._options import CaBundleOpt, ProxyOpt, TimeoutOpt, api_options
from gta.cli._profile import make_client
from gta.cli._progress import (
    RichReporter,
)
from gta.cli._service import (
    LogFormatOpt,
    LogLevelOpt,
    setup_logging,
)
from gta.formats import FORMAT_NAMES, UnknownFormatError
from gta.sinks import redact_url
from gta.sync import (
    Job,
    UnknownStreamError,
    export_job_name,
    sync_tuning,
)

if TYPE_CHECKING:
    pass
from gta.cli._run_support import (
    _STREAM_HELP,
    QuietOpt,
    ReadersOpt,
    StateOpt,
    _complete_schemas,
    _complete_streams,
    _err,
    _open_store,
    _raise_if_interrupted,
    _reporting,
    _run,
    _stop_on_signals,
    _streams,
    _summary,
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
    readers: ReadersOpt = None,
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
    proxy: ProxyOpt = None,
    ca_bundle: CaBundleOpt = None,
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
    client_options = api_options(timeout, proxy, ca_bundle)
    fmt = _schema(schema, old_format)
    try:
        streams = _streams(stream)
        job = Job(
            name=job_name or export_job_name(fmt, target),
            streams=streams,
            format=fmt,
            sink_url=target,
            page_size=page_size,
            readers=readers,
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
