"""``gta auth check``: prove the settings work, without ever showing the token.

It fetches a token through the SDK's own auth flow (so the check fails exactly where real
commands would), resolves the customer id, and reports the region and the token's lifetime.
The SDK does not expose the lifetime, so it is read from the token response by an httpx
response hook on the client's connection pool; only ``expires_in`` is kept from that body.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from gta._text import cell
from gta.cli._errors import UsageError
from gta.cli._options import TimeoutOpt, timeout_option
from gta.cli._profile import make_client, profile_name, region_of

__all__ = ["app"]

app = typer.Typer(help="Check credentials and endpoints.", no_args_is_help=True)


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


@app.command("check")
def check(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Settings profile (default: $GTA_PROFILE or 'default')."
        ),
    ] = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Get a token and the customer id; print region, customer id and token lifetime."""
    options = timeout_option(timeout)  # a bad value is a usage error before any request
    from gta.client._client import new_http_client
    from gta.errors import ConfigurationError

    probe = _LifetimeProbe()
    try:
        http = new_http_client(event_hooks={"response": [probe]})
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    try:
        # Few retries: a check should answer in seconds, not wait out a long outage.
        with make_client(
            profile, interactive=True, http_client=http, max_retries=2, **options
        ) as client:
            probe.token_url = client.token_url
            client.auth.token()  # raises AuthenticationError for a bad credential
            customer = client.customer_id
            region = region_of(client.securex_host)
            api_url = client.api_url
    finally:
        http.close()
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("profile", profile_name(profile))
    table.add_row("region", region)
    table.add_row("customer id", cell(customer))
    table.add_row("api", api_url)
    lifetime = f"{probe.expires_in:.0f} s" if probe.expires_in is not None else "unknown"
    table.add_row("token lifetime", lifetime)
    console = Console(highlight=False)
    console.print(table)
    console.print("[green]ok[/]: credentials accepted")
