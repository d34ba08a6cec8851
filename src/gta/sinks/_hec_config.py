"""Splunk HEC sink settings: parsed from the URL and the options, checked before any request.

The token comes from the ``token`` option or ``GTA_SPLUNK_HEC_TOKEN`` and never from the URL:
a URL ends up in logs and process lists, so a token-looking query parameter is refused.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gta._secrets import SecretError, resolve_secret
from gta.sinks._base import SinkConfigError, split_sink_url
from gta.sinks._options import (
    Flag,
    Positive,
    PositiveInt,
    RetryOptions,
    RetrySettings,
    Text,
    TlsOptions,
    option,
    read_options,
)
from gta.sinks._spec import SinkSpec, on_call
from gta.sinks._tls import verify_setting

TOKEN_ENV = "GTA_SPLUNK_HEC_TOKEN"
METADATA_KEYS = ("index", "sourcetype", "source", "host")
_SECRET_WORDS = ("token", "password", "secret", "key", "auth")
# A pasted endpoint path is not doubled; a path prefix (a proxy) is kept.
_ENDPOINT_PATH = re.compile(r"/services/collector(/event(/1\.0)?|/raw)?/?$")


class HecOptions(TlsOptions, RetryOptions):
    """The options of ``splunk-hec+https://`` (URL query or keyword options)."""

    index: Text | None = option(None, "Splunk index of the events")
    sourcetype: Text | None = option(None, "sourcetype of the events")
    source: Text | None = option(None, "source of the events")
    host: Text | None = option(None, "host field of the events")
    token: Text | None = option(
        None, "HEC token (env:NAME; never in the URL)", shown=f"${TOKEN_ENV}", secret=True
    )
    ack: Flag = option(False, "wait for indexer acknowledgement before a checkpoint")
    ack_timeout: Positive = option(300.0, "seconds to wait for an acknowledgement")
    ack_poll_interval: Positive = option(10.0, "seconds between acknowledgement polls")
    ack_resends: PositiveInt = option(3, "re-sends of a batch that was never acknowledged")
    channel: Text | None = option(None, "HEC channel GUID (for acknowledgements)", shown="random")
    batch_bytes: PositiveInt = option(1_000_000, "largest request body, bytes")
    batch_events: PositiveInt = option(1000, "most events in one request")
    gzip: Flag = option(True, "compress request bodies")


@dataclass(frozen=True)
class HecConfig(RetrySettings):
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
    ack_timeout: float = 300.0
    ack_poll_interval: float = 10.0
    ack_resends: int = 3
    channel: str = field(default_factory=lambda: str(uuid.uuid4()))


def _secret_in_url(name: str, value: str) -> str | None:
    if any(word in name for word in _SECRET_WORDS):
        return (
            f"splunk-hec URL must not carry a secret ({name}=...); pass the token as the "
            f"'token' option (env:NAME) or set {TOKEN_ENV}"
        )
    return None


def parse_hec_url(url: str, options: Mapping[str, Any]) -> tuple[HecConfig, str | None]:
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
    given = read_options("splunk-hec", HecOptions, parts.query, options,
                         refuse_in_url=_secret_in_url)  # fmt: skip
    http_scheme = "https" if scheme == "splunk-hec+https" else "http"
    port = f":{parts.port}" if parts.port else ""
    path = _ENDPOINT_PATH.sub("", parts.path).rstrip("/")
    config = HecConfig(
        **given.retry_settings(),
        base_url=f"{http_scheme}://{parts.hostname}{port}{path}",
        index=given.index or None,
        sourcetype=given.sourcetype or None,
        source=given.source or None,
        host=given.host or None,
        verify=verify_setting("splunk-hec", given.ca_bundle, given.insecure),
        ack=given.ack,
        batch_bytes=given.batch_bytes,
        batch_events=given.batch_events,
        gzip=given.gzip,
        ack_timeout=given.ack_timeout,
        ack_poll_interval=given.ack_poll_interval,
        ack_resends=given.ack_resends,
        channel=given.channel or str(uuid.uuid4()),
    )
    token = given.token or os.environ.get(TOKEN_ENV) or None
    if token is None:
        return config, None
    try:  # env:NAME, file:PATH or keyring:SERVICE/NAME (gta._secrets), else the token itself
        return config, resolve_secret(token, "splunk-hec token")
    except SecretError as exc:
        raise SinkConfigError(str(exc)) from None


def hec_destination(url: str, options: Mapping[str, Any]) -> str | None:
    """Host, port, path prefix and index (options win over the URL, as in the sink)."""
    from urllib.parse import parse_qsl

    from gta.sinks._registry import redact_url

    try:
        parts = split_sink_url(url)
    except SinkConfigError:
        return redact_url(url)  # the sink itself will refuse it with its own message
    query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    index = options.get("index") or query.get("index") or ""
    path = _ENDPOINT_PATH.sub("", parts.path).rstrip("/")
    host = (parts.hostname or "").lower()
    return f"splunk-hec://{host}:{parts.port or 8088}{path}?index={index}"


SPEC = SinkSpec(
    name="splunk-hec",
    schemes=("splunk-hec+https", "splunk-hec+http"),
    summary=f"Splunk HTTP Event Collector (token: option token or ${TOKEN_ENV})",
    url="splunk-hec+https://HOST:8088[/PREFIX]?index=I&sourcetype=S",
    options=HecOptions,
    open=on_call("gta.sinks._splunk_hec:open_splunk_hec"),
    check=on_call("gta.sinks._check:check_hec"),
    destination_key=hec_destination,
)
