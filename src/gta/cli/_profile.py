"""Where the triage commands get their settings: a TOML file of named profiles, then the env.

The file (``$GTA_CONFIG_DIR/config.toml``, else ``$XDG_CONFIG_HOME/gta/config.toml``, else
``~/.config/gta/config.toml``) holds a client password, so it is created with mode 0600 in a
directory of mode 0700, and replaced atomically: a crash mid-write leaves the old file, never a
truncated one. The vendor's environment variables override the file field by field, so a user
who already exports them (as the vendor guide tells them to) needs no file at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gta.cli._errors import UsageError
from gta.cli._failure_hints import explain_failure, remember_origins
from gta.cli._secrets import resolve_setting

if TYPE_CHECKING:
    from gta import Client

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_NAMES",
    "INTERACTIVE_RETRIES",
    "REGIONS",
    "Settings",
    "client_from_settings",
    "config_path",
    "explain_failure",
    "load_profiles",
    "make_client",
    "mask_secret",
    "profile_name",
    "region_of",
    "resolve_settings",
    "resolve_with_sources",
    "save_profile",
    "securex_host_for",
    "with_flags",
]

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "default"
REGIONS: dict[str, str] = {
    "NA": "visibility.amp.cisco.com",
    "EU": "visibility.eu.amp.cisco.com",
    "APJC": "visibility.apjc.amp.cisco.com",
}
# Field name -> the environment variable that overrides it (the vendor's names where they exist).
ENV_NAMES: dict[str, str] = {
    "client_id": "SECUREX_CLIENT_ID",
    "client_password": "SECUREX_CLIENT_PASSWORD",
    "securex_host": "SECUREX_VISIBILITY_HOST_NAME",
    "api_url": "GTA_API_URL",
    "app_url": "GTA_APP_URL",
    "customer_id": "GTA_CUSTOMER_ID",
    "proxy": "GTA_PROXY",
    "ca_bundle": "GTA_CA_BUNDLE",
}
SECRET_FIELDS = frozenset({"client_password"})
_warned: set[Path] = set()  # config files already reported as readable by others


@dataclass(frozen=True)
class Settings:
    """One profile as the file stores it: strings, secrets possibly as references (``env:``,
    ``file:``, ``keyring:``), ``None`` for "not set". ``client_from_settings`` resolves it into
    the SDK's :class:`gta.ClientSettings`, the one settings type a client is built from."""

    client_id: str | None = None
    client_password: str | None = field(default=None, repr=False)
    securex_host: str | None = None
    api_url: str | None = None
    app_url: str | None = None
    customer_id: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may carry credentials
    ca_bundle: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The fields that are set, for writing to the file."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file's path, following ``GTA_CONFIG_DIR`` and then the XDG convention."""
    environ = os.environ if env is None else env
    if directory := environ.get("GTA_CONFIG_DIR"):
        return Path(directory) / "config.toml"
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gta" / "config.toml"


def profile_name(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    """The profile to use: the ``--profile`` flag, else ``GTA_PROFILE``, else ``default``."""
    environ = os.environ if env is None else env
    return explicit or environ.get("GTA_PROFILE") or DEFAULT_PROFILE


def load_profiles(path: Path) -> dict[str, Settings]:
    """Read every profile of the file; a missing file is no profiles, a broken one a usage error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077 and path not in _warned:
        _warned.add(path)  # a command may read the file twice; one warning is enough
        log.warning("config file %s is readable by others; run: chmod 600 %s", path, path)
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UsageError(f"config file {path}: [profiles] must be a table")
    return {name: _settings_from_table(path, name, table) for name, table in profiles.items()}


def _settings_from_table(path: Path, name: str, table: Any) -> Settings:
    if not isinstance(table, dict):
        raise UsageError(f"config file {path}: profile {name!r} must be a table")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(
            f"config file {path}: profile {name!r} has unknown key(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(sorted(known))}"
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise UsageError(f"config file {path}: {name}.{key} must be a string")
    return Settings(**table)


def save_profile(path: Path, name: str, settings: Settings) -> None:
    """Write *settings* as profile *name*, keeping the other profiles; mode 0600, atomic."""
    import tomli_w  # only a save writes TOML

    profiles = load_profiles(path)
    profiles[name] = settings
    document = {"profiles": {key: value.as_dict() for key, value in sorted(profiles.items())}}
    payload = tomli_w.dumps(document).encode("utf-8")
    _ensure_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # O_EXCL: never write through a file (or symlink) someone else left at the temporary name.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    _fsync_dir(path.parent)


def _ensure_private_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def resolve_settings(
    profile: str | None = None, *, env: Mapping[str, str] | None = None, path: Path | None = None
) -> Settings:
    """The effective settings: the profile from the file, each field overridden by its env var.

    A profile named explicitly (flag or ``GTA_PROFILE``) must exist in the file; the default one
    may be absent when the environment carries everything.
    """
    return _resolve(profile, env, path)[0]


def resolve_with_sources(profile: str | None = None) -> tuple[Settings, dict[str, str]]:
    """``resolve_settings`` and, for each field set, where it came from (for messages)."""
    return _resolve(profile, None, None)


def _resolve(
    profile: str | None, env: Mapping[str, str] | None, path: Path | None
) -> tuple[Settings, dict[str, str]]:
    """The effective settings and, for each field set, where it came from (for messages)."""
    environ = os.environ if env is None else env
    name = profile_name(profile, environ)
    file_path = path if path is not None else config_path(environ)
    profiles = load_profiles(file_path)
    if name in profiles:
        base = profiles[name]
    elif name != DEFAULT_PROFILE:
        raise UsageError(
            f"profile {name!r} not found in {file_path}; "
            f"create it with: gta configure --profile {name}"
        )
    else:
        base = Settings()
    sources = dict.fromkeys(base.as_dict(), f"profile {name!r} in {file_path}")
    overrides: dict[str, str] = {}
    for key, var in ENV_NAMES.items():
        if value := environ.get(var):
            overrides[key] = value
            sources[key] = f"environment variable {var}"
    if host := overrides.get("securex_host"):
        # The variable takes the region names `gta configure` takes (EU, NA, APJC).
        overrides["securex_host"] = securex_host_for(host)
    return replace(base, **overrides), sources


# For an interactive command: a person is waiting, so an address that refuses or does not
# resolve fails at once and one request waits at most ten seconds for its retries.
# `export` and `sync` keep the SDK's long budget, which outlasts a short outage.
INTERACTIVE_RETRIES: dict[str, Any] = {"connect_retries": 0, "max_retry_wait": 10.0}
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def make_client(
    profile: str | None = None,
    *,
    interactive: bool = False,
    proxy: str | None = None,
    ca_bundle: str | None = None,
    **options: Any,
) -> Client:
    """Build a :class:`gta.Client` from the profile and environment, or fail with one clear line.

    A setting that cannot work is a usage error (exit 2) naming where it came from.
    *interactive* gives the short retry budget of a command a person waits for; *proxy* and
    *ca_bundle* (``--proxy``, ``--ca-bundle``) override the profile and ``GTA_PROXY`` /
    ``GTA_CA_BUNDLE``; ``options`` go to the constructor as they are (``timeout``, ...).
    """
    settings, sources = _resolve(profile, None, None)
    settings, sources = with_flags(settings, sources, proxy=proxy, ca_bundle=ca_bundle)
    return client_from_settings(settings, sources=sources, interactive=interactive, **options)


def client_from_settings(
    settings: Settings,
    *,
    sources: Mapping[str, str] | None = None,
    interactive: bool = False,
    **options: Any,
) -> Client:
    """A :class:`gta.Client` from *settings* as they are (no file, no environment); ``sources``
    says where each field came from, for messages."""
    # Imported here, not at the top: the SDK (httpx, pydantic) is a good part of a command's
    # start-up, and only the commands that talk to the API build a client.
    from pydantic import SecretStr

    from gta.client import Client, ClientSettings
    from gta.errors import ConfigurationError

    sources = dict(sources) if sources is not None else {}
    for key in settings.as_dict():
        sources.setdefault(key, "the settings given")
    missing = [
        f"{key.replace('_', ' ')} ({ENV_NAMES[key]})"
        for key in ("client_id", "client_password", "securex_host")
        if not getattr(settings, key)
    ]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}: run `gta configure` or set the variables")
    assert settings.client_id and settings.client_password and settings.securex_host
    if settings.customer_id is not None and not _CUSTOMER_ID.match(settings.customer_id):
        raise UsageError(
            f"customer id {settings.customer_id!r} (from {sources['customer_id']}) is not a "
            "customer id such as CTA123456789"
        )
    optional: dict[str, Any] = {
        key: value
        for key in ("api_url", "app_url", "customer_id", "proxy", "ca_bundle")
        if (value := getattr(settings, key)) is not None
    }
    password = resolve_setting(settings.client_password, "client_password", sources)
    if "proxy" in optional:  # may be a reference too: proxy credentials kept out of the file
        optional["proxy"] = SecretStr(resolve_setting(optional["proxy"], "proxy", sources))
    client_settings = ClientSettings(
        client_id=settings.client_id,
        client_password=SecretStr(password),
        securex_host=settings.securex_host,
        **optional,
    )
    for key in ("api_url", "app_url"):
        sources.setdefault(key, f"the default ({getattr(client_settings, key)})")
    if interactive:
        options = {**INTERACTIVE_RETRIES, **options}
    try:
        client = Client.from_settings(client_settings, **options)
    except ConfigurationError as exc:
        raise UsageError(_with_source(str(exc), sources)) from None
    remember_origins(client, sources)
    return client


def with_flags(
    settings: Settings,
    sources: Mapping[str, str],
    *,
    proxy: str | None = None,
    ca_bundle: str | None = None,
) -> tuple[Settings, dict[str, str]]:
    """*settings* with ``--proxy`` / ``--ca-bundle`` applied over the profile and environment."""
    sources = dict(sources)
    if proxy is not None:
        settings = replace(settings, proxy=proxy)
        sources["proxy"] = "--proxy"
    if ca_bundle is not None:
        settings = replace(settings, ca_bundle=ca_bundle)
        sources["ca_bundle"] = "--ca-bundle"
    return settings, sources


def _with_source(message: str, sources: Mapping[str, str]) -> str:
    """A client setting error, with the setting's origin: ``api_url ... (from GTA_API_URL)``."""
    for key, source in sources.items():
        if message.startswith(key):
            return f"{message} (from {source})"
    return message


def securex_host_for(choice: str) -> str:
    """A region name (NA, EU, APJC; any case) as its host; anything else is taken as a host."""
    text = choice.strip()
    if not text:
        raise UsageError("the SecureX host must not be empty: give NA, EU, APJC or a host name")
    return REGIONS.get(text.upper(), text)


def region_of(host: str) -> str:
    """The region a SecureX host belongs to (``NA``, ``EU``, ``APJC``), else ``custom (<host>)``."""
    parts = urlsplit(host if "://" in host else f"https://{host}")
    for region, known in REGIONS.items():
        if (parts.hostname or "").lower() == known:
            return region
    return f"custom ({parts.netloc or host})"


def mask_secret(value: str | None) -> str:
    """Mask a secret for display: ``****`` plus at most its last 4 characters, fewer if it is short.

    A value of 8 characters or fewer is masked fully, so at least half of it always stays hidden.
    """
    if not value:
        return "(not set)"
    if len(value) <= 8:
        return "****"
    return "****" + value[-4:]
