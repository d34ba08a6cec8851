"""``gta sinks check URL``: is a SIEM destination reachable, is its TLS trusted, is the token
accepted? Sends no record. Exit code 0 when every check passed, 1 when one failed, 2 for a URL
or option that cannot work."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from gta.cli._errors import CommandError, UsageError
from gta.cli._secrets import read_secret_stdin, warn_if_on_command_line
from gta.sinks import SinkConfigError

_INSTEAD = "use --token env:NAME, GTA_SPLUNK_HEC_TOKEN or --token-stdin"

app = typer.Typer(
    help="Check SIEM destinations (Splunk HEC, syslog, Elasticsearch/OpenSearch, Sentinel).",
    no_args_is_help=True,
)


def _resolve_secret(value: str | None) -> str | None:
    """``env:NAME`` -> the variable's value, so a token never has to be typed on a command line."""
    if value is None or not value.startswith("env:"):
        return value
    name = value[4:]
    if name not in os.environ:
        raise UsageError(f"--token env:{name}: environment variable {name} is not set")
    return os.environ[name]


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option {pair!r}: use KEY=VALUE, e.g. --option ca_bundle=ca.pem")
        options[key.strip()] = value
    return options


@app.command("check")
def check(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Sink URL, e.g. splunk-hec+https://splunk:8088")],
    token: Annotated[
        str | None,
        typer.Option(
            help="Splunk HEC token or Elasticsearch API key (visible in ps), or env:NAME to read "
            "it from a variable (default: GTA_SPLUNK_HEC_TOKEN / GTA_ELASTICSEARCH_API_KEY)."
        ),
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the token from standard input.")
    ] = False,
    ca_bundle: Annotated[str | None, typer.Option(help="CA bundle (PEM) to trust.")] = None,
    insecure: Annotated[bool, typer.Option(help="Do not verify TLS certificates.")] = False,
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Any sink option as KEY=VALUE.")
    ] = None,
) -> None:
    """Check that a sink URL works, without sending a record; exit 0 if all checks pass."""
    from gta.sinks._check import check_sink

    options = _options(option or [])
    if "token" in options:
        warn_if_on_command_line(ctx, "option", "--option token=...", _INSTEAD)
    if token_stdin:
        if token is not None:
            raise UsageError("give --token or --token-stdin, not both")
        token = read_secret_stdin("--token-stdin")
    elif token is not None and not token.startswith("env:"):
        warn_if_on_command_line(ctx, "token", "--token", _INSTEAD)
    secret = token if token_stdin else _resolve_secret(token)
    if secret is not None:
        options["token"] = secret
    if ca_bundle is not None:
        options["ca_bundle"] = ca_bundle
    if insecure:
        options["insecure"] = True
    try:
        checks = check_sink(url, options)
    except SinkConfigError as exc:  # a URL or option that cannot work: same code as `gta export`
        raise UsageError(str(exc)) from None
    for item in checks:
        mark = "ok  " if item.ok else "FAIL"
        typer.echo(f"{mark} {item.name:<12} {item.detail}")
    failed = [item.name for item in checks if not item.ok]
    if failed:
        raise CommandError(f"{len(failed)} of {len(checks)} check(s) failed: {', '.join(failed)}")


def register(root: typer.Typer) -> None:
    """Add the ``sinks`` group to the root app."""
    root.add_typer(app, name="sinks")
