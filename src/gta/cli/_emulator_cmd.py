"""``gta emulator serve``: run the offline GTA API emulator in the foreground.

Thin on purpose: flags become ``EmulatorSettings``, the rest is ``gta.emulator``. It prints the
``export`` lines a client needs, then serves until SIGINT/SIGTERM and exits 0.
"""

from __future__ import annotations

import errno
import shlex
import signal
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from gta.cli._errors import CommandError, UsageError
from gta.cli._help import GtaTyper
from gta.cli._secrets import warn_if_on_command_line

app = GtaTyper(
    help="""Run a faithful offline server of the GTA API.

    Examples:
      gta emulator serve --port 8080
    """,
    no_args_is_help=True,
)


def _settings_error(exc: ValidationError) -> UsageError:
    first = exc.errors()[0]
    name = str(first["loc"][0]).replace("_", "-") if first.get("loc") else "settings"
    return UsageError(f"--{name}: {first['msg']}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    events: Annotated[int, typer.Option(help="Scale: events per customer.")] = 10_000,
    db: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="SQLite file: reused if made with the same data flags; others refused.",
        ),
    ] = None,
    customer_id: Annotated[
        str, typer.Option(metavar="ID", help="Id of the first customer.")
    ] = "CTA000000001",
    client_id: Annotated[
        str | None, typer.Option(metavar="ID", help="API client id (demo value).")
    ] = None,
    client_password: Annotated[
        str | None, typer.Option(metavar="PASSWORD", help="API client password (demo value).")
    ] = None,
    customers: Annotated[int, typer.Option(help="Number of customers (tenants).")] = 1,
    flows_per_event: Annotated[float, typer.Option(help="Flows per event.")] = 2.0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 5xx.")] = 0.0,
    rate_limit_rate: Annotated[float, typer.Option(help="Share answered 429.")] = 0.0,
    reset_rate: Annotated[float, typer.Option(help="Share of connections dropped.")] = 0.0,
    latency_ms: Annotated[
        int, typer.Option(metavar="MS", help="Delay added to every API request.")
    ] = 0,
    token_ttl: Annotated[
        int, typer.Option(metavar="SECONDS", help="Token lifetime in seconds.")
    ] = 600,
    retry_after: Annotated[
        int, typer.Option(metavar="SECONDS", help="Retry-After of 429 answers (s).")
    ] = 1,
    activity_per_minute: Annotated[
        float, typer.Option(help="Background events per minute and customer.")
    ] = 0.0,
    clock_start: Annotated[
        str, typer.Option(metavar="WHEN", help="'seed', 'now' or an RFC 3339 instant.")
    ] = "seed",
    max_body_bytes: Annotated[
        int, typer.Option(help="Largest request body accepted; larger ones get a 413.")
    ] = 10 * 1024 * 1024,
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar="GTA_EMULATOR_ADMIN_TOKEN",
            metavar="TOKEN",
            show_envvar=True,
            help="Bearer token the /_emulator admin API requires (16+ characters); "
            "needed to listen beyond loopback. Prefer the variable.",
        ),
    ] = None,
) -> None:
    """Serve the GTA API emulator (token issuer, app and API hosts on one origin).

    Examples:
      gta emulator serve --port 8080 --events 100000
      gta emulator serve --port 0 --error-rate 0.05 --token-ttl 30
    """
    import uvicorn

    from gta.emulator import (
        EmulatorDatabaseError,
        EmulatorSettings,
        bind,
        check_admin_exposure,
        client_env,
        create_app,
        server_config,
        url_of,
    )

    options: dict[str, object] = {
        "seed": seed,
        "events": events,
        "db_path": db,
        "customer_id": customer_id,
        "customers": customers,
        "flows_per_event": flows_per_event,
        "error_rate": error_rate,
        "rate_limit_rate": rate_limit_rate,
        "reset_rate": reset_rate,
        "latency_ms": latency_ms,
        "token_ttl": token_ttl,
        "retry_after": retry_after,
        "activity_per_minute": activity_per_minute,
        "clock_start": clock_start,
        "max_body_bytes": max_body_bytes,
    }
    if admin_token is not None:
        warn_if_on_command_line(
            ctx, "admin_token", "--admin-token", "set GTA_EMULATOR_ADMIN_TOKEN instead"
        )
        options["admin_token"] = admin_token
    if client_id is not None:
        options["client_id"] = client_id
    if client_password is not None:
        options["client_password"] = client_password
    try:
        settings = EmulatorSettings.model_validate(options)
    except ValidationError as exc:
        raise _settings_error(exc) from None
    try:
        sock = bind(host, port)
    except OverflowError as exc:  # the socket module's own range check, kept as a safety net
        raise UsageError(f"--port: {exc}") from None
    except OSError as exc:
        message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        # A busy port is an operational failure (exit 1); a bad address is a usage error.
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise CommandError(message) from None
        raise UsageError(message) from None
    try:  # after bind, so a bad address is reported as such first
        check_admin_exposure(host, admin_token)
    except ValueError as exc:
        sock.close()
        raise UsageError(str(exc)) from None
    typer.echo(f"Preparing data (seed {seed}, {events} events per customer)...", err=True)
    try:
        application = create_app(settings)
    except EmulatorDatabaseError as exc:
        sock.close()
        raise UsageError(f"--db {exc}") from None
    except BaseException:
        sock.close()
        raise
    url = url_of(sock)
    identities = application.state.emulator.store.identities
    typer.echo(f"# gta emulator on {url} (demo credentials; it is an emulator)")
    for index, who in enumerate(identities):
        if index:
            typer.echo(f"# customer {who.customer_id}:")
        prefix = "" if index == 0 else "# "
        for name, value in client_env(url, who).items():
            typer.echo(f"{prefix}export {name}={shlex.quote(value)}")
    typer.echo("# stop with Ctrl-C", err=True)
    server = uvicorn.Server(server_config(application, log_level="warning"))
    # uvicorn handles SIGINT/SIGTERM for a graceful stop, then re-raises the signal with the
    # handlers that were in place before; make those no-ops so a requested stop exits 0.
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        application.state.emulator.store.close()
    typer.echo("gta emulator stopped", err=True)


def _ignore(_signum: int, _frame: object) -> None:
    """A signal already handled by the server's graceful shutdown."""
