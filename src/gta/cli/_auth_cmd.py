"""``gta auth check``: prove the settings work, without ever showing the token.

It fetches a token through the SDK's own auth flow (so the check fails exactly where real
commands would), resolves the customer id, and reports the region and the token's lifetime.
The SDK does not expose the lifetime, so it is read from the token response by an httpx
response hook on the client's connection pool; only ``expires_in`` is kept from that body.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gta._text import cell
from gta.cli._errors import UsageError
from gta.cli._help import GtaTyper
from gta.cli._options import TimeoutOpt, timeout_option
from gta.cli._profile import (
    Settings,
    client_from_settings,
    profile_name,
    region_of,
    resolve_with_sources,
)
from gta.cli._render import write_json

__all__ = ["app", "credential_report", "print_report"]

app = GtaTyper(
    help="""Check credentials and endpoints.

    Examples:
      gta auth check
    """,
    no_args_is_help=True,
)


class _LifetimeProbe:
    """Remembers ``expires_in`` of the token endpoint's successful answer."""

    def __init__(self) -> None:
        self.token_url: str | None = None  # set once the client has built it
        self.expires_in: float | None = None

    def __call__(self, response: httpx.Response) -> None:
        if not response.is_success or self.token_url is None:
            return
        if str(response.request.url.copy_with(query=None)) != self.token_url:
            return
        response.read()
        try:
            body: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return
        value = body.get("expires_in") if isinstance(body, dict) else None
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                self.expires_in = float(value)
            except ValueError:
                return


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def credential_report(
    settings: Settings,
    profile: str,
    *,
    timeout: float | None = None,
    sources: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Fetch a token and the customer id with *settings*; what a person needs to know of them.

    Raises what the SDK raises for a refused credential or an unreachable host.
    """
    from gta.client._client import new_http_client
    from gta.errors import ConfigurationError

    probe = _LifetimeProbe()
    try:
        http = new_http_client(event_hooks={"response": [probe]})
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    try:
        # Few retries: a check should answer in seconds, not wait out a long outage.
        options = {} if timeout is None else {"timeout": timeout}
        with client_from_settings(
            settings,
            sources=sources,
            interactive=True,
            http_client=http,
            max_retries=2,
            **options,
        ) as client:
            probe.token_url = client.token_url
            client.auth.token()  # raises AuthenticationError for a bad credential
            customer = client.customer_id
            region = region_of(client.securex_host)
            api_url = client.api_url
    finally:
        http.close()
    return {
        "profile": profile,
        "region": region,
        "customer_id": customer,
        "api_url": api_url,
        "token_lifetime_seconds": probe.expires_in,
    }


def print_report(report: dict[str, Any]) -> None:
    """The report as a two-column grid for people."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("profile", Text(str(report["profile"])))
    table.add_row("region", Text(str(report["region"])))
    table.add_row("customer id", cell(str(report["customer_id"])))
    table.add_row("api", Text(str(report["api_url"])))
    lifetime = report["token_lifetime_seconds"]
    table.add_row("token lifetime", f"{lifetime:.0f} s" if lifetime is not None else "unknown")
    console = Console(highlight=False)
    console.print(table)
    console.print("[green]ok[/]: credentials accepted")


@app.command("check")
def check(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            help="Settings profile (default: $GTA_PROFILE or 'default').",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table: for people; json: for scripts."),
    ] = ReportFormat.table,
    timeout: TimeoutOpt = None,
) -> None:
    """Get a token and the customer id; print region, customer id and token lifetime.

    Examples:
      gta auth check
      gta auth check --profile lab --format json
    """
    deadline = timeout_option(timeout).get("timeout")  # a bad value: usage error, no request
    settings, sources = resolve_with_sources(profile)
    report = credential_report(settings, profile_name(profile), timeout=deadline, sources=sources)
    if fmt is ReportFormat.json:
        write_json(sys.stdout, report)
        return
    print_report(report)
