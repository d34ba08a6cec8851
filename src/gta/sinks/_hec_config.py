"""Splunk HEC sink settings: parsed from the URL and the options, checked before any request.

The token comes from the ``token`` option or ``GTA_SPLUNK_HEC_TOKEN`` and never from the URL:
a URL ends up in logs and process lists, so a token-looking query parameter is refused.
"""

from __future__ import annotations

import os
import re
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from gta.sinks._base import SinkConfigError, split_sink_url

TOKEN_ENV = "GTA_SPLUNK_HEC_TOKEN"
METADATA_KEYS = ("index", "sourcetype", "source", "host")
# fmt: off
_OPTION_KEYS = ("token", "ca_bundle", "insecure", "ack", "batch_bytes", "batch_events", "gzip",
                "timeout", "ack_timeout", "ack_poll_interval", "ack_resends", "max_retries",
                "backoff_base", "backoff_cap", "channel")
_SECRET_WORDS = ("token", "password", "secret", "key", "auth")
# fmt: on


@dataclass(frozen=True)
class HecConfig:
    """Everything a HEC sink needs except the token, parsed from the URL and options."""

    base_url: str
    index: str | None = None
    sourcetype: str | None = None
    source: str | None = None
    host: str | None = None
    verify: bool | str = True
    ack: bool = False
    batch_bytes: int = 1_000_000
    batch_events: int = 1000
    gzip: bool = True
    timeout: float = 30.0
    ack_timeout: float = 300.0
    ack_poll_interval: float = 10.0
    ack_resends: int = 3
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    channel: str = field(default_factory=lambda: str(uuid.uuid4()))


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SinkConfigError(f"splunk-hec option {name}={value!r} is not a boolean (use true/false)")


def _number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SinkConfigError(f"splunk-hec option {name}={value!r} is not a number") from None
    if number <= 0 and name != "max_retries":
        raise SinkConfigError(f"splunk-hec option {name} must be positive, got {value!r}")
    return number


def parse_hec_url(url: str, options: dict[str, Any]) -> tuple[HecConfig, str | None]:
    """(config, token) from ``splunk-hec+https://HOST:PORT[/prefix]?index=..`` and options.

    The token comes from the ``token`` option or ``GTA_SPLUNK_HEC_TOKEN`` and never from the URL:
    a URL ends up in logs and process lists, so a token-looking query parameter is refused.
    """
    parts = split_sink_url(url)
    scheme = parts.scheme.lower()
    if scheme not in ("splunk-hec+https", "splunk-hec+http"):
        raise SinkConfigError(f"not a splunk-hec URL: scheme {parts.scheme!r}")
    if parts.username or parts.password:
        raise SinkConfigError("splunk-hec URL must not carry credentials; use the token option")
    if not parts.hostname:
        raise SinkConfigError("splunk-hec URL needs a host, e.g. splunk-hec+https://splunk:8088")
    settings: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        lowered = name.lower()
        if any(word in lowered for word in _SECRET_WORDS):
            raise SinkConfigError(
                f"splunk-hec URL must not carry a secret ({name}=...); pass the token as the "
                f"'token' option (env:NAME) or set {TOKEN_ENV}"
            )
        if lowered not in METADATA_KEYS + _OPTION_KEYS:
            valid = ", ".join(METADATA_KEYS + _OPTION_KEYS[1:])
            raise SinkConfigError(f"unknown splunk-hec URL parameter {name!r}; valid: {valid}")
        settings[lowered] = value
    for name, value in options.items():
        if name not in METADATA_KEYS + _OPTION_KEYS:
            valid = ", ".join(METADATA_KEYS + _OPTION_KEYS)
            raise SinkConfigError(f"unknown splunk-hec option {name!r}; valid: {valid}")
        settings[name] = value
    http_scheme = "https" if scheme == "splunk-hec+https" else "http"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise SinkConfigError("splunk-hec URL has an invalid port") from None
    # A path prefix (a proxy) is kept; a pasted endpoint path is not doubled.
    path = re.sub(r"/services/collector(/event(/1\.0)?|/raw)?/?$", "", parts.path).rstrip("/")
    base_url = f"{http_scheme}://{parts.hostname}{port}{path}"
    verify: bool | str = True
    if settings.get("ca_bundle"):
        verify = str(settings["ca_bundle"])
        if not os.path.isfile(verify):
            raise SinkConfigError(f"splunk-hec ca_bundle {verify!r} is not a readable file")
    if _flag(settings.get("insecure", False), "insecure"):
        verify = False
    config = HecConfig(
        base_url=base_url,
        index=settings.get("index") or None,
        sourcetype=settings.get("sourcetype") or None,
        source=settings.get("source") or None,
        host=settings.get("host") or None,
        verify=verify,
        ack=_flag(settings.get("ack", False), "ack"),
        batch_bytes=_number(settings.get("batch_bytes", 1_000_000), "batch_bytes", int),
        batch_events=_number(settings.get("batch_events", 1000), "batch_events", int),
        gzip=_flag(settings.get("gzip", True), "gzip"),
        timeout=_number(settings.get("timeout", 30.0), "timeout", float),
        ack_timeout=_number(settings.get("ack_timeout", 300.0), "ack_timeout", float),
        ack_poll_interval=_number(
            settings.get("ack_poll_interval", 10.0), "ack_poll_interval", float
        ),
        ack_resends=_number(settings.get("ack_resends", 3), "ack_resends", int),
        max_retries=_number(settings.get("max_retries", 8), "max_retries", int),
        backoff_base=_number(settings.get("backoff_base", 0.5), "backoff_base", float),
        backoff_cap=_number(settings.get("backoff_cap", 30.0), "backoff_cap", float),
        channel=str(settings.get("channel") or uuid.uuid4()),
    )
    token = settings.get("token") or os.environ.get(TOKEN_ENV) or None
    return config, (str(token) if token is not None else None)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """What httpx wants for ``verify``: a context trusting ``ca_bundle`` when one is given."""
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise SinkConfigError(f"splunk-hec ca_bundle could not be loaded: {exc}") from None
    return verify
