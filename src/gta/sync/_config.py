"""The ``gta sync`` configuration file (TOML): tenants, jobs (streams -> format -> sink), schedule.

Secrets may be written as ``env:NAME`` so the file itself holds none; they are resolved when the
file is loaded and kept in ``SecretStr`` so they never show in a repr, log or error. Tenant
credentials and sink secrets may also be ``file:PATH`` or ``keyring:SERVICE/NAME``
(``gta._secrets``), read where they are used. Every error
is one line naming the file and the key (``gta.toml: jobs.siem.format: ...``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from gta._secrets import is_reference, resolve_secret
from gta._time import duration_seconds
from gta.errors import InputError
from gta.formats import get_format
from gta.sinks import destination_key
from gta.state import MIN_LEASE_TTL_S
from gta.sync._streams import STREAM_NAMES, get_stream

if TYPE_CHECKING:
    from gta.client import ClientSettings


def _known_stream(name: str) -> str:
    get_stream(name)  # UnknownStreamError (a ValueError) lists the valid names
    return name


StreamName = Annotated[str, AfterValidator(_known_stream)]
"""A name from the stream registry (``gta.sync.STREAMS``)."""


def _known_format(name: str) -> str:
    get_format(name)  # UnknownFormatError (a ValueError) lists the valid names
    return name


FormatName = Annotated[str, AfterValidator(_known_format)]
"""A name from the format registry (``gta.formats.FORMAT_NAMES``)."""


class ConfigError(InputError, ValueError):
    """The configuration file is missing, unreadable or invalid (one line)."""


MAX_INTERVAL = 365 * 86400.0
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64


def parse_interval(text: str) -> float:
    """``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"`` or plain seconds, as seconds (> 0):
    ``gta._time.duration_seconds``, the parser of every duration gta reads."""
    seconds = duration_seconds(text, bare_seconds=True)
    if seconds is None or seconds <= 0:
        raise ValueError(f"not an interval: {text!r} (use e.g. 30s, 5m, 1h)")
    if not seconds <= MAX_INTERVAL:  # a timer cannot wait longer (and inf is refused too)
        raise ValueError(f"interval {text!r} is too long: at most 365d")
    return seconds


def check_lease_ttl(seconds: float) -> float:
    """A lease TTL of at least ``MIN_LEASE_TTL_S`` (the heartbeat runs every third of it)."""
    if seconds < MIN_LEASE_TTL_S:
        raise ValueError(f"a lease TTL must be at least {MIN_LEASE_TTL_S:g}s, got {seconds:g}s")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantConfig(_Strict):
    """Credentials, hosts and network of one GTA tenant.

    ``client_id``, ``client_password`` and ``proxy`` may be ``env:NAME`` (read when the file
    is loaded), ``file:PATH`` or ``keyring:SERVICE/NAME`` (read by :meth:`secrets` each time a
    client is made, so a rotated secret file is picked up without a restart).
    """

    client_id: SecretStr
    client_password: SecretStr
    visibility_host: str
    api_url: str | None = None
    app_url: str | None = None
    customer_id: str | None = None
    timeout: str | float | None = None
    """Deadline of each API request attempt (``30s``, ``2m`` or seconds); default: top level."""
    proxy: SecretStr | None = None
    """Proxy for this tenant's API requests (it may carry credentials); default: GTA_PROXY,
    then HTTPS_PROXY/NO_PROXY."""
    ca_bundle: str | None = None
    """PEM file of the CAs to trust for the API (a TLS-inspecting proxy's); default: system."""

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str | float | None) -> str | float | None:
        return _checked_timeout(value)

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_reference(value.get_secret_value()):
            from gta.client import check_proxy_url
            from gta.errors import ConfigurationError

            try:  # the message shows the URL without its credentials
                check_proxy_url(value.get_secret_value())
            except ConfigurationError as exc:
                raise ValueError(str(exc)) from None
        return value

    def client_settings(
        self, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> ClientSettings:
        """The tenant's :class:`gta.ClientSettings`, ``file:`` and ``keyring:`` references read
        now (a rotated secret file is picked up by the next client). Proxy: the tenant's, else
        ``GTA_PROXY``, else (in the client) ``HTTPS_PROXY``/``NO_PROXY``; CA bundle: the
        tenant's, else ``GTA_CA_BUNDLE``. A reference that cannot be read is a one-line
        ``SecretError``."""
        from pydantic import SecretStr

        from gta.client import ClientSettings

        environ = os.environ if env is None else env
        if self.proxy is not None:
            proxy: str | None = resolve_secret(self.proxy.get_secret_value(), "proxy")
        elif variable := environ.get("GTA_PROXY"):
            proxy = resolve_secret(variable, "GTA_PROXY")
        else:
            proxy = None
        optional: dict[str, Any] = {
            "api_url": self.api_url,
            "app_url": self.app_url,
            "customer_id": self.customer_id,
            "ca_bundle": self.ca_bundle or environ.get("GTA_CA_BUNDLE"),
        }
        return ClientSettings(
            client_id=resolve_secret(self.client_id.get_secret_value(), "client_id"),
            client_password=SecretStr(
                resolve_secret(self.client_password.get_secret_value(), "client_password")
            ),
            securex_host=self.visibility_host,
            timeout=timeout,
            proxy=SecretStr(proxy) if proxy else None,
            **{key: value for key, value in optional.items() if value},
        )


def _all_streams() -> list[StreamName]:
    return list(STREAM_NAMES)


class JobConfig(_Strict):
    """Streams of one tenant, delivered in one format to one sink, with their own checkpoints."""

    tenant: str = "default"
    streams: list[StreamName] = Field(default_factory=lambda: _all_streams(), min_length=1)
    format: FormatName = "annotation"
    sink: str
    # Resolved ``env:`` secrets (HEC token...) live here: keep them out of every repr.
    sink_options: dict[str, Any] = Field(default_factory=dict, repr=False)
    page_size: int = Field(default=1000, ge=1, le=1000)
    # Readers of an MSN stream's backlog (partitioned backfill); unset: chosen by gta.
    readers: int | None = Field(default=None, ge=1, le=32)
    # How often the alerts stream checks for removed alerts (tombstones): an interval.
    reconcile_every: str = "1h"

    @field_validator("reconcile_every")
    @classmethod
    def _reconcile_interval(cls, value: str) -> str:
        parse_interval(value)
        return value

    def reconcile_seconds(self) -> float:
        return parse_interval(self.reconcile_every)

    @field_validator("streams")
    @classmethod
    def _distinct(cls, value: list[StreamName]) -> list[StreamName]:
        if len(set(value)) != len(value):
            raise ValueError("a stream is listed twice")
        return value


def _checked_timeout(value: str | float | None) -> str | float | None:
    if value is not None:
        _seconds(value)
    return value


def _seconds(value: str | float) -> float:
    """A ``timeout`` value as seconds: a positive number, or an interval such as ``30s``."""
    if isinstance(value, str):
        return parse_interval(value)
    if isinstance(value, bool) or not value > 0 or value == float("inf"):
        raise ValueError(f"not a timeout: {value!r} (use e.g. 30s, 2m, or seconds > 0)")
    return float(value)


class SyncConfig(_Strict):
    """The whole file."""

    state: str | None = None
    every: str | None = None
    lease_ttl: str | None = None  # "60s": a holder silent this long loses its leases
    timeout: str | float | None = None
    """Deadline of each API request attempt, for tenants that set none (client default: 60 s)."""
    # Where ``gta sync`` serves /metrics, /healthz and /readyz (off when absent).
    metrics_address: str | None = None
    # Jobs of different tenants run side by side, at most this many at once (one per tenant).
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=MAX_CONCURRENCY)
    tenants: dict[str, TenantConfig] = Field(min_length=1)
    jobs: dict[str, JobConfig] = Field(min_length=1)

    @field_validator("every", "lease_ttl")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        if value is not None:
            parse_interval(value)
        return value

    @field_validator("lease_ttl")
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        if value is not None:
            check_lease_ttl(parse_interval(value))
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str | float | None) -> str | float | None:
        return _checked_timeout(value)

    @field_validator("metrics_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:  # imported here: prometheus_client loads only when metrics run
            from gta.sync._health import parse_metrics_address

            parse_metrics_address(value)
        return value

    def with_network(self, proxy: str | None, ca_bundle: str | None) -> SyncConfig:
        """This config with ``--proxy`` / ``--ca-bundle`` applied to every tenant."""
        update: dict[str, Any] = {}
        if proxy is not None:
            update["proxy"] = TenantConfig._proxy(SecretStr(proxy))
        if ca_bundle is not None:
            update["ca_bundle"] = ca_bundle
        if not update:
            return self
        tenants = {name: t.model_copy(update=update) for name, t in self.tenants.items()}
        return self.model_copy(update={"tenants": tenants})

    def every_seconds(self) -> float | None:
        return None if self.every is None else parse_interval(self.every)

    def lease_ttl_seconds(self) -> float | None:
        return None if self.lease_ttl is None else parse_interval(self.lease_ttl)

    def timeout_seconds(self, tenant: str) -> float | None:
        """The request deadline for ``tenant``: its own ``timeout``, else the top-level one."""
        value = self.tenants[tenant].timeout
        if value is None:
            value = self.timeout
        return None if value is None else _seconds(value)


def _resolve(value: Any, where: str, env: dict[str, str], file: str) -> Any:
    """Replace ``env:NAME`` strings (at any depth) by the variable's value."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in env:
            raise ConfigError(f"{file}: {where}: environment variable {name} is not set")
        return env[name]
    if isinstance(value, dict):
        return {k: _resolve(v, f"{where}.{k}" if where else k, env, file) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, f"{where}[{i}]", env, file) for i, v in enumerate(value)]
    return value


def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> SyncConfig:
    """Read, resolve and validate a config file; any problem is a one-line ``ConfigError``."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    resolved = _resolve(raw, "", dict(os.environ) if env is None else env, file.name)
    try:
        config = SyncConfig.model_validate(resolved)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        # Never echo the input: it may be a secret that was just resolved.
        raise ConfigError(f"{file.name}: {key}: {first['msg']}") from None
    for name, job in config.jobs.items():
        if job.tenant not in config.tenants:
            known = ", ".join(config.tenants)
            raise ConfigError(
                f"{file.name}: jobs.{name}.tenant: no tenant {job.tenant!r} (have: {known})"
            )
    _one_writer_per_destination(config, file.name)
    return config


def _one_writer_per_destination(config: SyncConfig, file: str) -> None:
    """Two jobs of one file writing one destination would deliver every record twice."""
    seen: dict[str, str] = {}
    for name, job in config.jobs.items():
        key = destination_key(job.sink, job.sink_options)
        if key is None:
            continue
        if key in seen:
            raise ConfigError(
                f"{file}: jobs.{name}.sink: jobs {seen[key]!r} and {name!r} both write {key}; "
                "give each job its own destination (or list both streams in one job)"
            )
        seen[key] = name
