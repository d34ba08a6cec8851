"""Elasticsearch / OpenSearch sink settings: parsed from the URL and the options, checked before
any request.

``elasticsearch+https://HOST:9200[/prefix]?index=NAME`` (also ``elasticsearch+http``,
``opensearch+https``, ``opensearch+http``). Credentials never come from the URL (it ends up in
logs and process lists): an API key (``api_key`` option or ``GTA_ELASTICSEARCH_API_KEY``) or basic
auth (``username`` + ``password`` options, or ``GTA_ELASTICSEARCH_USERNAME`` /
``GTA_ELASTICSEARCH_PASSWORD``). A secret option may be written ``env:NAME`` (read from that
variable) or ``file:PATH`` (the file's content, trailing newline removed), like a mounted secret.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from gta.sinks._base import SinkConfigError

SCHEMES = ("elasticsearch+https", "elasticsearch+http", "opensearch+https", "opensearch+http")
API_KEY_ENV = "GTA_ELASTICSEARCH_API_KEY"
USERNAME_ENV = "GTA_ELASTICSEARCH_USERNAME"
PASSWORD_ENV = "GTA_ELASTICSEARCH_PASSWORD"
_SECRET_OPTIONS = ("api_key", "password")
# fmt: off
_OPTION_KEYS = ("index", "api_key", "username", "password", "ca_bundle", "insecure",
                "batch_bytes", "batch_events", "timeout", "max_retries", "backoff_base",
                "backoff_cap", "pipeline")
_URL_KEYS = ("index", "ca_bundle", "insecure", "batch_bytes", "batch_events", "timeout",
             "max_retries", "backoff_base", "backoff_cap", "pipeline", "username")
_SECRET_WORDS = ("token", "password", "secret", "key", "auth")
# Index names: lowercase, no \ / * ? " < > | space , # : and not starting with - _ + (ES docs,
# "Create index API", path parameters); data stream names follow the same rules.
_INDEX_NAME = re.compile(r"^[^-_+A-Z\\/*?\"<>| ,#:][^A-Z\\/*?\"<>| ,#:]{0,254}$")
# fmt: on


@dataclass(frozen=True)
class EsConfig:
    """Everything the sink needs except the credentials."""

    base_url: str
    index: str
    flavour: str = "elasticsearch"  # or "opensearch": only for names in messages
    verify: bool | str = True
    batch_bytes: int = 5_000_000
    batch_events: int = 1000
    timeout: float = 30.0
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    pipeline: str | None = None


@dataclass(frozen=True)
class EsAuth:
    """The ``Authorization`` header value; kept out of ``repr`` so it never reaches a log."""

    header: str | None

    def __repr__(self) -> str:
        return "EsAuth(***)" if self.header else "EsAuth(None)"


def resolve_secret(value: Any, name: str) -> str | None:
    """``env:NAME`` -> that variable, ``file:PATH`` -> the file's content, else the value."""
    if value is None:
        return None
    text = str(value)
    if text.startswith("env:"):
        variable = text[4:]
        if variable not in os.environ:
            raise SinkConfigError(f"elasticsearch {name}: environment variable {variable} is unset")
        return os.environ[variable]
    if text.startswith("file:"):
        path = Path(text[5:]).expanduser()
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise SinkConfigError(
                f"elasticsearch {name}: cannot read {path} ({type(exc).__name__})"
            ) from None
    return text


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SinkConfigError(f"elasticsearch option {name}={value!r} is not a boolean (true/false)")


def _number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SinkConfigError(f"elasticsearch option {name}={value!r} is not a number") from None
    if number < 0 or (number == 0 and name != "max_retries"):
        raise SinkConfigError(f"elasticsearch option {name} must be positive, got {value!r}")
    return number


def parse_es_url(url: str, options: dict[str, Any]) -> tuple[EsConfig, EsAuth]:
    """(config, auth) from the sink URL and options; any problem is one ``SinkConfigError``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise SinkConfigError(f"not an elasticsearch URL: scheme {parts.scheme!r}")
    if parts.username or parts.password:
        raise SinkConfigError(
            "elasticsearch URL must not carry credentials; use the api_key option or "
            f"{API_KEY_ENV} (or username/password)"
        )
    if not parts.hostname:
        raise SinkConfigError("elasticsearch URL needs a host, e.g. elasticsearch+https://es:9200")
    settings: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        lowered = name.lower()
        if lowered != "username" and any(word in lowered for word in _SECRET_WORDS):
            raise SinkConfigError(
                f"elasticsearch URL must not carry a secret ({name}=...); pass api_key or "
                f"password as an option (env:NAME or file:PATH) or set {API_KEY_ENV}"
            )
        if lowered not in _URL_KEYS:
            raise SinkConfigError(
                f"unknown elasticsearch URL parameter {name!r}; valid: {', '.join(_URL_KEYS)}"
            )
        settings[lowered] = value
    for name, value in options.items():
        if name not in _OPTION_KEYS:
            raise SinkConfigError(
                f"unknown elasticsearch option {name!r}; valid: {', '.join(_OPTION_KEYS)}"
            )
        settings[name] = value
    index = unquote(str(settings.get("index") or ""))
    if not index:
        raise SinkConfigError(
            "elasticsearch URL needs an index or data stream: ?index=logs-gta-default"
        )
    if not _INDEX_NAME.match(index) or index in (".", ".."):
        raise SinkConfigError(
            f"elasticsearch index {index!r} is not a valid index or data stream name "
            '(lowercase, no spaces or \\/*?"<>|,#:, not starting with - _ +)'
        )
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise SinkConfigError("elasticsearch URL has an invalid port") from None
    path = re.sub(r"/_bulk/?$", "", parts.path).rstrip("/")
    http_scheme = "https" if scheme.endswith("+https") else "http"
    verify: bool | str = True
    if settings.get("ca_bundle"):
        verify = str(settings["ca_bundle"])
        if not os.path.isfile(verify):
            raise SinkConfigError(f"elasticsearch ca_bundle {verify!r} is not a readable file")
    if _flag(settings.get("insecure", False), "insecure"):
        verify = False
    config = EsConfig(
        base_url=f"{http_scheme}://{parts.hostname}{port}{path}",
        index=index,
        flavour=scheme.split("+")[0],
        verify=verify,
        batch_bytes=_number(settings.get("batch_bytes", 5_000_000), "batch_bytes", int),
        batch_events=_number(settings.get("batch_events", 1000), "batch_events", int),
        timeout=_number(settings.get("timeout", 30.0), "timeout", float),
        max_retries=_number(settings.get("max_retries", 8), "max_retries", int),
        backoff_base=_number(settings.get("backoff_base", 0.5), "backoff_base", float),
        backoff_cap=_number(settings.get("backoff_cap", 30.0), "backoff_cap", float),
        pipeline=str(settings["pipeline"]) if settings.get("pipeline") else None,
    )
    return config, _auth(settings)


def _auth(settings: dict[str, Any]) -> EsAuth:
    import base64

    api_key = resolve_secret(settings.get("api_key"), "api_key") or os.environ.get(API_KEY_ENV)
    username = resolve_secret(settings.get("username"), "username") or os.environ.get(USERNAME_ENV)
    password = resolve_secret(settings.get("password"), "password") or os.environ.get(PASSWORD_ENV)
    if api_key and username:
        raise SinkConfigError("elasticsearch: give an api_key or a username/password, not both")
    if api_key:
        return EsAuth(f"ApiKey {api_key.strip()}")
    if username:
        if not password:
            raise SinkConfigError(
                f"elasticsearch: username given without a password (password option or "
                f"{PASSWORD_ENV})"
            )
        pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return EsAuth(f"Basic {pair}")
    return EsAuth(None)
