"""Microsoft Sentinel sink settings: parsed from the URL and the options, checked before any
request.

``sentinel+https://DCE-HOST[:PORT]?dcr=dcr-...&stream=Custom-...&tenant_id=..&client_id=..``

The client secret never comes from the URL (a URL ends up in logs and process lists): the URL
may only *name* where it is, ``client_secret=env:NAME``, ``file:PATH`` or
``keyring:SERVICE:USERNAME``; the ``client_secret`` option (a resolved ``env:`` value from the
sync config) may hold it; otherwise ``GTA_SENTINEL_CLIENT_SECRET`` or ``AZURE_CLIENT_SECRET``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gta._secrets import SecretError
from gta._secrets import resolve_secret as _resolve
from gta.sinks._base import SinkConfigError, split_sink_url
from gta.sinks._options import (
    CaOptions,
    Flag,
    PositiveInt,
    RetryOptions,
    RetrySettings,
    Text,
    option,
    read_options,
)
from gta.sinks._spec import SinkSpec, on_call
from gta.sinks._tls import verify_setting

SECRET_ENV = "GTA_SENTINEL_CLIENT_SECRET"
# The documented limit is 1 MB per call, compressed or not (Azure Monitor service limits, "Logs
# Ingestion API"); the service answers 413 ContentLengthLimitExceeded above 1,048,576 bytes.
API_MAX_BYTES = 1_048_576
API_VERSION = "2023-01-01"
DEFAULT_SCOPE = "https://monitor.azure.com//.default"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
# gta stream -> the DCR stream the shipped template declares (integrations/sentinel/).
DEFAULT_STREAMS = {
    "events": "Custom-GtaEvents",
    "alerts": "Custom-GtaAlerts",
    "threat-detections": "Custom-GtaThreatDetections",
    "flows": "Custom-GtaFlows",
}
_SECRET_REFERENCE = re.compile(r"^(env|file|keyring):.+$")
_STREAM_NAME = re.compile(r"^Custom-[A-Za-z0-9_]{1,200}$|^Microsoft-[A-Za-z0-9_]{1,200}$")
_DCR_ID = re.compile(r"^dcr-[0-9a-fA-F]{32}$")
_GUID_OR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,253}$")


class SentinelOptions(CaOptions, RetryOptions):
    """The options of ``sentinel+https://``."""

    dcr: Text | None = option(None, "immutable id of the data collection rule (required)")
    stream: Text | None = option(
        None, "DCR stream (default: Custom-Gta<Stream> per stream)", shown="by record"
    )
    tenant_id: Text | None = option(None, "Entra ID tenant (required)")
    client_id: Text | None = option(None, "Entra ID application (client) id (required)")
    client_secret: Text | None = option(
        None,
        "app secret: env:NAME, file:PATH or keyring:SERVICE:USER; never in the URL",
        shown=f"${SECRET_ENV}",
    )
    authority_host: Text | None = option(
        None, "Entra ID token host", shown="login.microsoftonline.com"
    )
    scope: Text | None = option(None, "token scope", shown=DEFAULT_SCOPE)
    gzip: Flag = option(True, "compress request bodies")
    batch_bytes: PositiveInt = option(1_000_000, "largest request body before gzip, bytes")
    batch_records: PositiveInt = option(5000, "most rows in one request")


OPTIONS = tuple(SentinelOptions.model_fields)


@dataclass(frozen=True)
class SentinelConfig(RetrySettings):
    """Everything the sink needs except the client secret."""

    endpoint: str  # https://HOST[:PORT][/prefix]
    dcr: str
    stream: str | None  # one DCR stream for every record; None: route by the record's stream
    tenant_id: str
    client_id: str
    authority_host: str = DEFAULT_AUTHORITY
    scope: str = DEFAULT_SCOPE
    verify: bool | str = True
    gzip: bool = True
    batch_bytes: int = 1_000_000
    batch_records: int = 5000

    def stream_for(self, gta_stream: Any) -> str:
        """The DCR stream a record of ``gta_stream`` goes to."""
        if self.stream is not None:
            return self.stream
        try:
            return DEFAULT_STREAMS[str(gta_stream)]
        except KeyError:
            raise SinkConfigError(
                f"sentinel: a record of stream {gta_stream!r} has no DCR stream; set stream=..."
            ) from None

    def upload_path(self, stream: str) -> str:
        return f"/dataCollectionRules/{self.dcr}/streams/{stream}"


def resolve_secret(value: str) -> str:
    """``env:NAME``, ``file:PATH`` or ``keyring:SERVICE/NAME`` (``SERVICE:USERNAME`` too) -> the
    secret (``gta._secrets``); any other string is the secret itself. Errors name the reference,
    never a secret."""
    try:
        return _resolve(value, "sentinel client_secret")
    except SecretError as exc:
        raise SinkConfigError(str(exc)) from None


def parse_sentinel_url(url: str, options: Mapping[str, Any]) -> tuple[SentinelConfig, str | None]:
    """(config, client secret) from a ``sentinel+https://`` URL and the options."""
    parts = split_sink_url(url)
    if parts.scheme.lower() != "sentinel+https":
        raise SinkConfigError(f"not a sentinel URL: scheme {parts.scheme!r} (use sentinel+https)")
    if parts.username or parts.password:
        raise SinkConfigError("sentinel URL must not carry credentials; use client_secret=env:NAME")
    if not parts.hostname:
        raise SinkConfigError(
            "sentinel URL needs the data collection endpoint host, e.g. "
            "sentinel+https://my-dce.westeurope-1.ingest.monitor.azure.com?dcr=dcr-...&stream=..."
        )
    given = read_options("sentinel", SentinelOptions, parts.query, options,
                         refuse_in_url=_secret_in_url)  # fmt: skip
    port = f":{parts.port}" if parts.port else ""
    endpoint = f"https://{parts.hostname}{port}{parts.path.rstrip('/')}"
    dcr = given.dcr or ""
    if not _DCR_ID.match(dcr):
        raise SinkConfigError(
            "sentinel needs dcr=<immutable id of the data collection rule> (dcr- and 32 hex "
            "digits, from the DCR's JSON view)"
        )
    stream = given.stream or None
    if stream is not None and not _STREAM_NAME.match(str(stream)):
        raise SinkConfigError(f"sentinel stream {stream!r} is not a DCR stream name (Custom-...)")
    tenant = str(given.tenant_id or os.environ.get("AZURE_TENANT_ID") or "")
    client = str(given.client_id or os.environ.get("AZURE_CLIENT_ID") or "")
    for label, value, env in (("tenant_id", tenant, "AZURE_TENANT_ID"),
                              ("client_id", client, "AZURE_CLIENT_ID")):  # fmt: skip
        if not _GUID_OR_NAME.match(value):
            raise SinkConfigError(f"sentinel needs {label}=... (or {env}), got {value!r}")
    authority = str(
        given.authority_host or os.environ.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY
    ).rstrip("/")
    if not authority.startswith("https://"):
        raise SinkConfigError("sentinel authority_host must be an https:// URL")
    batch_bytes = given.batch_bytes
    if batch_bytes > API_MAX_BYTES:
        raise SinkConfigError(
            f"sentinel batch_bytes {batch_bytes} is over the API's limit of {API_MAX_BYTES} bytes"
        )
    config = SentinelConfig(
        **given.retry_settings(),
        endpoint=endpoint,
        dcr=dcr,
        stream=str(stream) if stream else None,
        tenant_id=tenant,
        client_id=client,
        authority_host=authority,
        scope=given.scope or DEFAULT_SCOPE,
        verify=verify_setting("sentinel", given.ca_bundle),
        gzip=given.gzip,
        batch_bytes=batch_bytes,
        batch_records=given.batch_records,
    )
    raw = given.client_secret or os.environ.get(SECRET_ENV)
    raw = raw or os.environ.get("AZURE_CLIENT_SECRET")
    secret = resolve_secret(str(raw)) if raw else None
    return config, secret


def _secret_in_url(name: str, value: str) -> str | None:
    if name == "client_secret" and not _SECRET_REFERENCE.match(value):
        return (
            "sentinel URL must not carry the client secret; write client_secret=env:NAME, "
            f"file:PATH or keyring:SERVICE:USERNAME, or set {SECRET_ENV}"
        )
    return None


SPEC = SinkSpec(
    name="sentinel",
    schemes=("sentinel+https",),
    summary="Microsoft Sentinel / Azure Monitor Logs Ingestion API (Entra ID app credentials)",
    url="sentinel+https://DCE-HOST?dcr=dcr-ID&tenant_id=T&client_id=C[&stream=Custom-S]",
    options=SentinelOptions,
    open=on_call("gta.sinks._sentinel:open_sentinel"),
    check=on_call("gta.sinks._sentinel_check:check_sentinel"),
)
