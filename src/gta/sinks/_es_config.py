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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gta._secrets import SecretError
from gta._secrets import resolve_secret as _resolve
from gta.sinks._base import SinkConfigError, split_sink_url
from gta.sinks._options import (
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

SCHEMES = ("elasticsearch+https", "elasticsearch+http", "opensearch+https", "opensearch+http")
API_KEY_ENV = "GTA_ELASTICSEARCH_API_KEY"
USERNAME_ENV = "GTA_ELASTICSEARCH_USERNAME"
PASSWORD_ENV = "GTA_ELASTICSEARCH_PASSWORD"
_SECRET_WORDS = ("token", "password", "secret", "key", "auth")
# Index names: lowercase, no \ / * ? " < > | space , # : and not starting with - _ + (ES docs,
# "Create index API", path parameters); data stream names follow the same rules.
_INDEX_NAME = re.compile(r"^[^-_+A-Z\\/*?\"<>| ,#:][^A-Z\\/*?\"<>| ,#:]{0,254}$")


class EsOptions(TlsOptions, RetryOptions):
    """The options of ``elasticsearch+https://`` and ``opensearch+https://``."""

    index: Text | None = option(None, "index or data stream to write (required)")
    api_key: Text | None = option(
        None, "API key (env:NAME or file:PATH)", shown=f"${API_KEY_ENV}", secret=True
    )
    username: Text | None = option(None, "basic auth user", shown=f"${USERNAME_ENV}")
    password: Text | None = option(
        None, "basic auth password (env:/file:)", shown=f"${PASSWORD_ENV}", secret=True
    )
    batch_bytes: PositiveInt = option(5_000_000, "largest request body, bytes")
    batch_events: PositiveInt = option(1000, "most records in one request")
    pipeline: Text | None = option(None, "ingest pipeline to run on each record")


@dataclass(frozen=True)
class EsConfig(RetrySettings):
    """Everything the sink needs except the credentials."""

    base_url: str
    index: str
    flavour: str = "elasticsearch"  # or "opensearch": only for names in messages
    verify: bool | str = True
    batch_bytes: int = 5_000_000
    batch_events: int = 1000
    pipeline: str | None = None


@dataclass(frozen=True)
class EsAuth:
    """The ``Authorization`` header value; kept out of ``repr`` so it never reaches a log."""

    header: str | None

    def __repr__(self) -> str:
        return "EsAuth(***)" if self.header else "EsAuth(None)"


def resolve_secret(value: Any, name: str) -> str | None:
    """``env:NAME``, ``file:PATH`` or ``keyring:SERVICE/NAME`` -> the secret (``gta._secrets``),
    else the value."""
    if value is None:
        return None
    try:
        return _resolve(str(value), f"elasticsearch {name}")
    except SecretError as exc:
        raise SinkConfigError(str(exc)) from None


def parse_es_url(url: str, options: Mapping[str, Any]) -> tuple[EsConfig, EsAuth]:
    """(config, auth) from the sink URL and options; any problem is one ``SinkConfigError``."""
    parts = split_sink_url(url)
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
    given = read_options("elasticsearch", EsOptions, parts.query, options,
                         refuse_in_url=_secret_in_url)  # fmt: skip
    index = unquote(given.index or "")
    if not index:
        raise SinkConfigError(
            "elasticsearch URL needs an index or data stream: ?index=logs-gta-default"
        )
    if not _INDEX_NAME.match(index) or index in (".", ".."):
        raise SinkConfigError(
            f"elasticsearch index {index!r} is not a valid index or data stream name "
            '(lowercase, no spaces or \\/*?"<>|,#:, not starting with - _ +)'
        )
    port = f":{parts.port}" if parts.port else ""
    path = re.sub(r"/_bulk/?$", "", parts.path).rstrip("/")
    http_scheme = "https" if scheme.endswith("+https") else "http"
    config = EsConfig(
        **given.retry_settings(),
        base_url=f"{http_scheme}://{parts.hostname}{port}{path}",
        index=index,
        flavour=scheme.split("+")[0],
        verify=verify_setting("elasticsearch", given.ca_bundle, given.insecure),
        batch_bytes=given.batch_bytes,
        batch_events=given.batch_events,
        pipeline=given.pipeline or None,
    )
    return config, _auth(given)


def _secret_in_url(name: str, value: str) -> str | None:
    if name != "username" and any(word in name for word in _SECRET_WORDS):
        return (
            f"elasticsearch URL must not carry a secret ({name}=...); pass api_key or "
            f"password as an option (env:NAME or file:PATH) or set {API_KEY_ENV}"
        )
    return None


def _auth(given: EsOptions) -> EsAuth:
    import base64

    api_key = resolve_secret(given.api_key, "api_key") or os.environ.get(API_KEY_ENV)
    username = resolve_secret(given.username, "username") or os.environ.get(USERNAME_ENV)
    password = resolve_secret(given.password, "password") or os.environ.get(PASSWORD_ENV)
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


SPEC = SinkSpec(
    name="elasticsearch",
    schemes=SCHEMES,
    summary="Elasticsearch / OpenSearch _bulk: create with _id = recordId (replays are 409s)",
    url="elasticsearch+https://HOST:9200?index=NAME",
    options=EsOptions,
    open=on_call("gta.sinks._elasticsearch:open_elasticsearch"),
    check=on_call("gta.sinks._es_check:check_elasticsearch"),
)
