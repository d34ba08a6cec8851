"""``gta configure`` and ``gta configure show``: write and inspect named profiles.

The commands only gather answers and render; file handling and precedence live in
:mod:`gta.cli._profile`. A password is read with a hidden prompt and is only ever shown masked.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields, replace
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gta._secrets import SecretError, is_reference, store_in_keyring
from gta.cli._errors import CommandError, UsageError
from gta.cli._help import GtaTyper
from gta.cli._options import CaBundleOpt, ProxyOpt
from gta.cli._profile import (
    ENV_NAMES,
    SECRET_FIELDS,
    Settings,
    config_path,
    load_profiles,
    mask_secret,
    profile_name,
    region_of,
    resolve_settings,
    save_profile,
    securex_host_for,
)
from gta.cli._render import write_json
from gta.cli._secrets import read_secret_stdin, warn_if_on_command_line

__all__ = ["app"]

app = GtaTyper(
    help="""Save credentials and endpoints as a named profile (or show the effective settings).

    The credentials are checked (a token and the customer id are fetched) before anything is
    saved; --no-check saves without asking the API.

    Examples:
      gta configure
      gta configure --profile lab --no-input --client-id ID --securex-host EU
      gta configure show --format json
    """,
    invoke_without_command=True,
)

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        help="Profile name (default: $GTA_PROFILE or 'default').",
    ),
]


KEYRING_SERVICE = "gta"


def _keyring_available() -> None:
    try:
        import keyring  # noqa: F401
    except ImportError:
        raise UsageError(
            "--keyring needs the keyring package: pip install 'gta[keyring]'"
        ) from None


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


@app.callback()
def configure(
    ctx: typer.Context,
    profile: ProfileOption = None,
    client_id: Annotated[str | None, typer.Option(metavar="ID", help="API client id.")] = None,
    client_password: Annotated[
        str | None,
        typer.Option(
            metavar="PASSWORD",
            help="API client password: visible in ps; prefer the prompt or the next.",
        ),
    ] = None,
    client_password_stdin: Annotated[
        bool,
        typer.Option("--client-password-stdin", help="Read the password from standard input."),
    ] = False,
    securex_host: Annotated[
        str | None,
        typer.Option(metavar="HOST", help="SecureX region (NA, EU, APJC) or a host name."),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option(metavar="URL", help="GTA API base URL override.")
    ] = None,
    app_url: Annotated[
        str | None, typer.Option(metavar="URL", help="GTA app URL override.")
    ] = None,
    customer_id: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Customer id (discovered from the token when unset)."),
    ] = None,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; use flags and saved values only.")
    ] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Save without checking the credentials.")
    ] = False,
    proxy: ProxyOpt = None,
    ca_bundle: CaBundleOpt = None,
    use_keyring: Annotated[
        bool,
        typer.Option(
            "--keyring",
            help="Keep the password in the system keyring (gta[keyring]); the profile then "
            "says client_password = keyring:gta/PROFILE.",
        ),
    ] = False,
) -> None:
    """Ask for (or take from flags) the settings of a profile and save them."""
    if ctx.invoked_subcommand is not None:
        return
    if client_password_stdin:
        if client_password is not None:
            raise UsageError("give --client-password or --client-password-stdin, not both")
        client_password = read_secret_stdin("--client-password-stdin")
    elif client_password is not None:
        warn_if_on_command_line(
            ctx,
            "client_password",
            "--client-password",
            "use the hidden prompt or --client-password-stdin",
        )
    given = Settings(
        client_id=client_id,
        client_password=client_password,
        securex_host=securex_host,
        api_url=api_url,
        app_url=app_url,
        customer_id=customer_id,
        proxy=proxy,
        ca_bundle=ca_bundle,
    )
    run_configure(
        profile_name(profile),
        given,
        prompt=not no_input,
        check=not no_check,
        use_keyring=use_keyring,
    )


@app.command("show")
def show(
    profile: ProfileOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table: for people; json: for scripts."),
    ] = ReportFormat.table,
) -> None:
    """Show the effective settings (file, then environment), secrets masked.

    Examples:
      gta configure show
      gta configure show --profile lab --format json
    """
    if fmt is ReportFormat.json:
        write_json(sys.stdout, settings_report(profile_name(profile)))
        return
    show_settings(profile_name(profile))


def run_configure(
    name: str, given: Settings, *, prompt: bool, check: bool = True, use_keyring: bool = False
) -> None:
    """Merge flags, answers and the saved profile, validate, and write the file.

    With *use_keyring* the password goes to the system keyring (service ``gta``, the profile's
    name) once checked, and the file keeps only ``keyring:gta/NAME``.
    """
    path = config_path()
    saved = load_profiles(path).get(name, Settings())
    merged = replace(saved, **given.as_dict())
    if prompt:
        try:
            merged = _ask(merged, given)
        except typer.Abort:  # end of input (nothing piped in) or Ctrl-C: nothing is saved
            typer.echo()  # end the unanswered prompt's line
            raise UsageError(
                "no answer given: nothing was saved (use the flags with --no-input in scripts)"
            ) from None
    merged = _validated(merged)
    reference = f"keyring:{KEYRING_SERVICE}/{name}"
    if use_keyring:
        _keyring_available()
        assert merged.client_password is not None
        if is_reference(merged.client_password) and merged.client_password != reference:
            raise UsageError(
                "--keyring stores a password typed, piped or given; the password is already "
                f"a reference ({merged.client_password.split(':')[0]}:...)"
            )
    if check:
        _check(merged, name)
    if use_keyring and merged.client_password != reference:
        assert merged.client_password is not None
        try:
            stored = store_in_keyring(KEYRING_SERVICE, name, merged.client_password)
        except SecretError as exc:
            raise CommandError(f"credentials not saved: {exc}") from None
        merged = replace(merged, client_password=stored)
    save_profile(path, name, merged)
    Console(highlight=False).print(
        Text.assemble("Saved profile ", (name, "bold"), f" to {path} (mode 0600).")
    )


def _check(settings: Settings, name: str) -> None:
    """Fetch a token and the customer id with *settings*; nothing is saved when that fails."""
    from gta.cli._auth_cmd import credential_report
    from gta.errors import GtaError

    # What commands will use: the saved values, each overridden by its environment variable.
    overrides = {key: value for key, var in ENV_NAMES.items() if (value := os.environ.get(var))}
    try:
        report = credential_report(replace(settings, **overrides), name)
    except GtaError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CommandError(
            f"credentials not saved: {first} (--no-check saves them without checking)"
        ) from None
    Console(highlight=False).print(
        Text(f"Checked: token accepted, customer id {report['customer_id']}, {report['region']}.")
    )


def _ask(current: Settings, given: Settings) -> Settings:
    """Prompt for each field the flags did not give, offering the saved value as the default."""
    answers: dict[str, str | None] = {}
    if given.client_id is None:
        answers["client_id"] = typer.prompt("Client id", default=current.client_id or None)
    if given.client_password is None:
        hint = (
            f" [{_shown('client_password', current.client_password)}]"
            if current.client_password
            else ""
        )
        answer = typer.prompt(
            f"Client password{hint}",
            default="" if current.client_password else None,
            hide_input=True,
            show_default=False,
        )
        answers["client_password"] = answer or current.client_password
    if given.securex_host is None:
        answers["securex_host"] = typer.prompt(
            "SecureX host (NA, EU, APJC or a host name)", default=current.securex_host or "EU"
        )
    for key, label in (
        ("api_url", "GTA API URL"),
        ("app_url", "GTA app URL"),
        ("customer_id", "Customer id"),
    ):
        if getattr(given, key) is None:
            answer = typer.prompt(
                f"{label} (optional, '-' to clear)", default=getattr(current, key) or ""
            )
            answers[key] = None if answer.strip() in ("", "-") else answer.strip()
    return replace(current, **answers)


def _validated(settings: Settings) -> Settings:
    for key in ("client_id", "client_password", "securex_host"):
        if not getattr(settings, key):
            raise UsageError(
                f"{key.replace('_', ' ')} is required (flag --{key.replace('_', '-')})"
            )
    assert settings.securex_host is not None
    for key in ("api_url", "app_url"):
        value = getattr(settings, key)
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise UsageError(f"{key.replace('_', ' ')} must start with http:// or https://")
    return replace(settings, securex_host=securex_host_for(settings.securex_host))


def settings_report(name: str) -> dict[str, object]:
    """The effective settings as one JSON document: value (secrets masked) and source of each."""
    path = config_path()
    saved = load_profiles(path).get(name)
    effective = resolve_settings(name)
    fields_report: dict[str, object] = {}
    for item in fields(Settings):
        value = getattr(effective, item.name)
        shown = _shown(item.name, value) if value else value
        fields_report[item.name] = {"value": shown, "from": _source(item.name, value, saved)}
    region = region_of(effective.securex_host) if effective.securex_host else None
    return {"profile": name, "config_file": str(path), "settings": fields_report, "region": region}


def show_settings(name: str) -> None:
    """Print the effective value and the source of every field; secrets masked."""
    path = config_path()
    saved = load_profiles(path).get(name)
    effective = resolve_settings(name)
    table = Table(title=f"profile {name} ({path})", title_justify="left")
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    table.add_column("from")
    for item in fields(Settings):
        value = getattr(effective, item.name)
        source = _source(item.name, value, saved)
        shown = _shown(item.name, value) if value else mask_secret(value)
        table.add_row(item.name, shown, source)
    if effective.securex_host:
        table.add_row("region", region_of(effective.securex_host), "derived")
    Console(width=100).print(table)


def _shown(key: str, value: str) -> str:
    """A setting as it may be shown: a secret masked (a reference to one shown as it is), a
    proxy URL without its credentials."""
    if key in SECRET_FIELDS:
        return value if is_reference(value) else mask_secret(value)
    if key == "proxy" and not is_reference(value):
        from gta.client import redact_proxy

        return redact_proxy(value)
    return value


def _source(key: str, value: str | None, saved: Settings | None) -> str:
    if value is None:
        return "-"
    if os.environ.get(ENV_NAMES[key]):
        return f"env {ENV_NAMES[key]}"
    return "file" if saved is not None else "-"
