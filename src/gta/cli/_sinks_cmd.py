"""``gta sinks list``: every sink URL scheme and its options.

``gta sinks check URL``: is a SIEM destination reachable, is its TLS trusted, is the token
accepted? Sends no record. Exit code 0 when every check passed, 1 when one failed, 2 for a URL
or option that cannot work."""

from __future__ import annotations

import sys
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer

from gta.cli._errors import CommandError, UsageError
from gta.cli._help import GtaTyper
from gta.cli._render import write_json
from gta.cli._secrets import read_secret_stdin, warn_if_on_command_line
from gta.cli._sink_catalog import SinkInfo, catalogue

_INSTEAD = "use --token env:NAME, GTA_SPLUNK_HEC_TOKEN or --token-stdin"

app = GtaTyper(
    help="""List and check SIEM destinations (JSON lines, Splunk HEC, syslog, Elasticsearch,
    OpenSearch, Microsoft Sentinel).

    Examples:
      gta sinks list
      gta sinks check splunk-hec+https://splunk:8088
    """,
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[
    ReportFormat,
    typer.Option("--format", "-f", help="table: for people; json: for scripts."),
]


@app.command("list")
def list_sinks(fmt: FormatOpt = ReportFormat.table) -> None:
    """List every sink URL scheme and the options it takes.

    An option goes in the URL's query (?key=value), in a sync job's sink_options, or to
    gta sinks check as --option KEY=VALUE.

    Examples:
      gta sinks list
      gta sinks list --format json
    """
    sinks = catalogue()
    if fmt is ReportFormat.json:
        write_json(sys.stdout, [asdict(info) for info in sinks])
        return
    typer.echo("\n".join(line for info in sinks for line in _describe(info)).rstrip())


def _describe(info: SinkInfo) -> list[str]:
    from gta.sinks import sink_specs

    bare = {s for spec in sink_specs() if spec.path_scheme for s in spec.schemes}
    out = [", ".join(s if s in bare else f"{s}://" for s in info.schemes)]
    out += [f"  {info.summary}", f"  URL: {info.url}", "  options:"]
    if not info.options:
        return [*out, "    (none)", ""]
    width = max(len(o.name) for o in info.options)
    dwidth = max(len(o.default) for o in info.options)
    for option in info.options:
        out.append(f"    {option.name:<{width}}  {option.default:<{dwidth}}  {option.meaning}")
    return [*out, ""]


def _resolve_secret(value: str | None) -> str | None:
    """``env:NAME``, ``file:PATH`` or ``keyring:SERVICE/NAME`` -> the secret (``gta._secrets``),
    so a token never has to be typed on a command line."""
    from gta._secrets import SecretError, resolve_secret

    if value is None:
        return None
    try:
        return resolve_secret(value, "--token")
    except SecretError as exc:
        raise UsageError(str(exc)) from None


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
    url: Annotated[
        str,
        typer.Argument(
            metavar="URL", help="Sink URL, e.g. splunk-hec+https://splunk:8088 (gta sinks list)."
        ),
    ],
    token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            help="Splunk HEC token or Elasticsearch API key (visible in ps), or env:NAME, "
            "file:PATH or keyring:SERVICE/NAME to read it from there (default: "
            "GTA_SPLUNK_HEC_TOKEN / GTA_ELASTICSEARCH_API_KEY).",
        ),
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the token from standard input.")
    ] = False,
    ca_bundle: Annotated[
        str | None, typer.Option(metavar="FILE", help="CA bundle (PEM) to trust.")
    ] = None,
    insecure: Annotated[bool, typer.Option(help="Do not verify TLS certificates.")] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", metavar="KEY=VALUE", help="Any sink option."),
    ] = None,
    fmt: FormatOpt = ReportFormat.table,
) -> None:
    """Check that a sink URL works, without sending a record; exit 0 if all checks pass.

    Examples:
      gta sinks check splunk-hec+https://splunk:8088 --token env:SPLUNK_HEC_TOKEN
      gta sinks check syslog+tls://siem.example:6514 --ca-bundle ca.pem --format json
    """
    from gta.sinks import SinkConfigError, check_sink

    options = _options(option or [])
    if "token" in options:
        warn_if_on_command_line(ctx, "option", "--option token=...", _INSTEAD)
    if token_stdin:
        if token is not None:
            raise UsageError("give --token or --token-stdin, not both")
        token = read_secret_stdin("--token-stdin")
    elif token is not None and not token.startswith(("env:", "file:", "keyring:")):
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
    failed = [item.name for item in checks if not item.ok]
    if fmt is ReportFormat.json:
        write_json(sys.stdout, {"ok": not failed, "checks": [asdict(item) for item in checks]})
    else:
        for item in checks:
            mark = "ok  " if item.ok else "FAIL"
            typer.echo(f"{mark} {item.name:<12} {item.detail}")
    if failed:
        raise CommandError(f"{len(failed)} of {len(checks)} check(s) failed: {', '.join(failed)}")
