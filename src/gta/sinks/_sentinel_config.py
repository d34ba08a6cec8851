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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gta.sinks._base import SinkConfigError

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
DESCRIPTION = (
    "Microsoft Sentinel / Azure Monitor Logs Ingestion API (DCE + DCR, Entra ID client credentials)"
)
# fmt: off
OPTIONS = ("dcr", "stream", "tenant_id", "client_id", "client_secret", "authority_host", "scope",
           "ca_bundle", "gzip", "batch_bytes", "batch_records", "timeout", "max_retries",
           "backoff_base", "backoff_cap")
# fmt: on
_SECRET_REFERENCE = re.compile(r"^(env|file|keyring):.+$")
_STREAM_NAME = re.compile(r"^Custom-[A-Za-z0-9_]{1,200}$|^Microsoft-[A-Za-z0-9_]{1,200}$")
_DCR_ID = re.compile(r"^dcr-[0-9a-fA-F]{32}$")
_GUID_OR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,253}$")


@dataclass(frozen=True)
class SentinelConfig:
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
    timeout: float = 30.0
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

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


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SinkConfigError(f"sentinel option {name}={value!r} is not a boolean (use true/false)")


def _number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SinkConfigError(f"sentinel option {name}={value!r} is not a number") from None
    if number < 0 or (number == 0 and name != "max_retries"):
        raise SinkConfigError(f"sentinel option {name} must be positive, got {value!r}")
    return number


def resolve_secret(value: str) -> str:
    """``env:NAME``, ``file:PATH`` or ``keyring:SERVICE:USERNAME`` -> the secret; any other
    string is the secret itself. Errors name the reference, never a secret."""
    kind, _, rest = value.partition(":")
    if kind == "env" and rest:
        if rest not in os.environ:
            raise SinkConfigError(f"sentinel client_secret env:{rest}: variable is not set")
        return os.environ[rest]
    if kind == "file" and rest:
        try:
            text = Path(rest).read_text(encoding="utf-8").strip()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SinkConfigError(f"sentinel client_secret file:{rest}: {reason}") from None
        if not text:
            raise SinkConfigError(f"sentinel client_secret file:{rest} is empty")
        return text
    if kind == "keyring" and rest:
        service, sep, username = rest.partition(":")
        if not sep or not service or not username:
            raise SinkConfigError("sentinel client_secret: use keyring:SERVICE:USERNAME")
        try:
            import keyring  # type: ignore[import-not-found]
        except ImportError:
            raise SinkConfigError(
                "sentinel client_secret keyring:...: the 'keyring' package is not installed "
                "(pip install keyring)"
            ) from None
        secret = keyring.get_password(service, username)
        if not secret:
            raise SinkConfigError(f"sentinel client_secret: no keyring entry {service}:{username}")
        return str(secret)
    return value


def parse_sentinel_url(url: str, options: dict[str, Any]) -> tuple[SentinelConfig, str | None]:
    """(config, client secret) from a ``sentinel+https://`` URL and the options."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "sentinel+https":
        raise SinkConfigError(f"not a sentinel URL: scheme {parts.scheme!r} (use sentinel+https)")
    if parts.username or parts.password:
        raise SinkConfigError("sentinel URL must not carry credentials; use client_secret=env:NAME")
    if not parts.hostname:
        raise SinkConfigError(
            "sentinel URL needs the data collection endpoint host, e.g. "
            "sentinel+https://my-dce.westeurope-1.ingest.monitor.azure.com?dcr=dcr-...&stream=..."
        )
    settings: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        lowered = name.lower()
        if lowered not in OPTIONS:
            raise SinkConfigError(
                f"unknown sentinel URL parameter {name!r}; valid: {', '.join(OPTIONS)}"
            )
        if lowered == "client_secret" and not _SECRET_REFERENCE.match(value):
            raise SinkConfigError(
                "sentinel URL must not carry the client secret; write client_secret=env:NAME, "
                f"file:PATH or keyring:SERVICE:USERNAME, or set {SECRET_ENV}"
            )
        settings[lowered] = value
    for name, value in options.items():
        if name not in OPTIONS:
            raise SinkConfigError(f"unknown sentinel option {name!r}; valid: {', '.join(OPTIONS)}")
        settings[name] = value
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise SinkConfigError("sentinel URL has an invalid port") from None
    endpoint = f"https://{parts.hostname}{port}{parts.path.rstrip('/')}"
    dcr = str(settings.get("dcr") or "")
    if not _DCR_ID.match(dcr):
        raise SinkConfigError(
            "sentinel needs dcr=<immutable id of the data collection rule> (dcr- and 32 hex "
            "digits, from the DCR's JSON view)"
        )
    stream = settings.get("stream") or None
    if stream is not None and not _STREAM_NAME.match(str(stream)):
        raise SinkConfigError(f"sentinel stream {stream!r} is not a DCR stream name (Custom-...)")
    tenant = str(settings.get("tenant_id") or os.environ.get("AZURE_TENANT_ID") or "")
    client = str(settings.get("client_id") or os.environ.get("AZURE_CLIENT_ID") or "")
    for label, value, env in (("tenant_id", tenant, "AZURE_TENANT_ID"),
                              ("client_id", client, "AZURE_CLIENT_ID")):  # fmt: skip
        if not _GUID_OR_NAME.match(value):
            raise SinkConfigError(f"sentinel needs {label}=... (or {env}), got {value!r}")
    authority = str(
        settings.get("authority_host")
        or os.environ.get("AZURE_AUTHORITY_HOST")
        or DEFAULT_AUTHORITY
    ).rstrip("/")
    if not authority.startswith("https://"):
        raise SinkConfigError("sentinel authority_host must be an https:// URL")
    verify: bool | str = True
    if settings.get("ca_bundle"):
        verify = str(settings["ca_bundle"])
        if not os.path.isfile(verify):
            raise SinkConfigError(f"sentinel ca_bundle {verify!r} is not a readable file")
    batch_bytes = _number(settings.get("batch_bytes", 1_000_000), "batch_bytes", int)
    if batch_bytes > API_MAX_BYTES:
        raise SinkConfigError(
            f"sentinel batch_bytes {batch_bytes} is over the API's limit of {API_MAX_BYTES} bytes"
        )
    config = SentinelConfig(
        endpoint=endpoint,
        dcr=dcr,
        stream=str(stream) if stream else None,
        tenant_id=tenant,
        client_id=client,
        authority_host=authority,
        scope=str(settings.get("scope") or DEFAULT_SCOPE),
        verify=verify,
        gzip=_flag(settings.get("gzip", True), "gzip"),
        batch_bytes=batch_bytes,
        batch_records=_number(settings.get("batch_records", 5000), "batch_records", int),
        timeout=_number(settings.get("timeout", 30.0), "timeout", float),
        max_retries=_number(settings.get("max_retries", 8), "max_retries", int),
        backoff_base=_number(settings.get("backoff_base", 0.5), "backoff_base", float),
        backoff_cap=_number(settings.get("backoff_cap", 30.0), "backoff_cap", float),
    )
    raw = settings.get("client_secret") or os.environ.get(SECRET_ENV)
    raw = raw or os.environ.get("AZURE_CLIENT_SECRET")
    secret = resolve_secret(str(raw)) if raw else None
    return config, secret
