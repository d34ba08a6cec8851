"""What ``gta sync`` (and ``gta export``) need to run as a service: log options, the metrics
and health endpoint, and a reporter that feeds both the progress display and the metrics."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gta.cli._errors import CommandError, UsageError
from gta.cli._logging import configure_logging, service_line
from gta.sync import Reporter, StreamResult

if TYPE_CHECKING:  # prometheus_client is imported only when metrics are served
    from gta.sync import SyncMetrics

__all__ = [
    "LogFormatOpt",
    "LogLevelOpt",
    "MetricsAddressOpt",
    "TeeReporter",
    "check_metrics_address",
    "metrics_endpoint",
    "observe_client",
    "setup_logging",
]

LogFormatOpt = Annotated[
    str,
    typer.Option(
        "--log-format", envvar="GTA_LOG_FORMAT", metavar="[text|json]",
        help="text, or json (one JSON object per stderr line, for log collectors).",
    ),
]  # fmt: skip
LogLevelOpt = Annotated[
    str | None,
    typer.Option(
        "--log-level", envvar="GTA_LOG_LEVEL", metavar="LEVEL",
        help="debug, info, warning or error (default: warning; debug with --debug).",
    ),
]  # fmt: skip
MetricsAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--metrics-address",
        metavar="HOST:PORT",
        help="Serve /metrics, /healthz and /readyz on HOST:PORT (a port alone: loopback; "
        "port 0 picks a free one). Off by default.",
    ),
]


def setup_logging(ctx: typer.Context, log_format: str, log_level: str | None) -> None:
    """Apply the log options of a command (``--debug`` of the root sets the default level)."""
    debug = bool((ctx.obj or {}).get("debug")) if isinstance(ctx.obj, dict) else False
    try:
        configure_logging(log_format, log_level, debug=debug)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


class TeeReporter:
    """Hands each engine event to several reporters (progress and metrics)."""

    def __init__(self, *reporters: Reporter) -> None:
        self._reporters = reporters

    def stream_started(self, stream: str) -> None:
        for r in self._reporters:
            r.stream_started(stream)

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        for r in self._reporters:
            r.page_done(stream, fetched, records, cursor)

    def page_newest(self, stream: str, newest: datetime) -> None:
        for r in self._reporters:
            hook = getattr(r, "page_newest", None)
            if hook is not None:
                hook(stream, newest)

    def stream_done(self, result: StreamResult) -> None:
        for r in self._reporters:
            r.stream_done(result)


def observe_client(client: Any, metrics: SyncMetrics | None) -> None:
    """Count the client's API answers and retries (the SDK's observer hooks)."""
    if metrics is None:
        return
    client.transport.on_response = metrics.on_response
    client.transport.on_retry = metrics.on_retry


def check_metrics_address(address: str | None) -> None:
    """A usage error (``MetricsAddressError``, exit 2) for an address that cannot be used,
    before anything is opened."""
    if address is None:
        return
    from gta.sync import parse_metrics_address

    parse_metrics_address(address)


@contextlib.contextmanager
def metrics_endpoint(
    address: str | None, interval: float | None, jobs: dict[str, str]
) -> Iterator[SyncMetrics | None]:
    """Serve metrics and health while the block runs (nothing when ``address`` is None).

    ``jobs`` maps each job to its tenant. The address actually bound (port 0 picks one) is the
    first service line, so a supervisor or a test can find it."""
    if address is None:
        yield None
        return
    from gta.sync import (
        MetricsAddressError,
        MetricsServer,
        SyncMetrics,
        is_loopback,
        parse_metrics_address,
    )

    host, port = parse_metrics_address(address)  # a bad one: exit 2 (MetricsAddressError)
    metrics = SyncMetrics(interval=interval)
    try:
        server = MetricsServer(metrics, host, port)
    except MetricsAddressError as exc:  # in use, not ours to bind: an operational failure
        raise CommandError(str(exc)) from None
    with server:
        for job, tenant in jobs.items():
            metrics.watch(tenant, job)
        if not is_loopback(server.host):
            logging.getLogger("gta.service").warning(
                "metrics and health are served on %s, reachable beyond this machine", server.url
            )
        service_line(
            f"metrics on {server.url}/metrics, health on {server.url}/healthz and /readyz",
            metrics_url=server.url,
        )
        yield metrics
