"""Microsoft Entra ID client-credentials tokens for the Logs Ingestion API.

``POST {authority}/{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``,
``client_id``, ``client_secret`` and ``scope`` (form-encoded) answers ``access_token`` and
``expires_in``. The token is cached and fetched again at ``token_refresh_delay`` (the client's
rule) or when the ingestion endpoint answers 401. Entra's ``AADSTS`` errors that mean the
configuration is wrong (unknown tenant, bad secret, wrong scope) stop at once; 429/5xx and
network errors are retried with the client's backoff. The secret never reaches a log or an error.
"""

from __future__ import annotations

import logging

import httpx

from gta.client import RETRY_AFTER_CAP, Runtime, is_retryable_status, token_refresh_delay
from gta.sinks._base import SinkConfigError, SinkError
from gta.sinks._http_sink import json_object
from gta.sinks._retrying import Backoff, Verdict, deliver, done, retry
from gta.sinks._sentinel_config import SentinelConfig

log = logging.getLogger("gta.sinks.sentinel")


class EntraToken:
    """A cached bearer token for ``config.scope``, fetched with the app's client secret."""

    def __init__(
        self, config: SentinelConfig, secret: str, client: httpx.Client, runtime: Runtime
    ) -> None:
        self._config, self._secret, self._client, self._rt = config, secret, client, runtime
        self._token: str | None = None
        self._refresh_at = 0.0

    @property
    def url(self) -> str:
        return f"{self._config.authority_host}/{self._config.tenant_id}/oauth2/v2.0/token"

    def get(self) -> str:
        if self._token is None or self._rt.monotonic() >= self._refresh_at:
            self._token = self._fetch()
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._config.client_id,
            "client_secret": self._secret,
            "scope": self._config.scope,
        }
        issued: list[float] = []
        fetched: list[str] = []

        def post(_: list[str]) -> httpx.Response:
            issued.append(self._rt.monotonic())
            return self._client.post(self.url, data=form)

        def answer(_: list[str], response: httpx.Response) -> Verdict[str]:
            body = json_object(response)
            if response.status_code == 200:
                token = body.get("access_token")
                if not isinstance(token, str) or not token:
                    raise SinkError("sentinel: the token endpoint answered without access_token")
                expires = body.get("expires_in")
                try:
                    lifetime = float(expires) if expires is not None else 3600.0
                except (TypeError, ValueError):
                    lifetime = 3600.0
                self._refresh_at = issued[-1] + token_refresh_delay(lifetime)
                fetched.append(token)
                return done()
            if is_retryable_status(response.status_code):
                return retry(f"token endpoint HTTP {response.status_code}", response)
            error = one_line(str(body.get("error") or f"HTTP {response.status_code}"), 60)
            # The first line of error_description carries the AADSTS code and its meaning.
            described = str(body.get("error_description") or "").splitlines()
            detail = f": {one_line(described[0], 200)}" if described else ""
            raise SinkConfigError(
                f"sentinel: Entra ID refused the client credentials ({error}{detail}); check "
                "tenant_id, client_id and the client secret"
            )

        untrusted = (
            f"sentinel TLS certificate of {self._config.authority_host} is not trusted; set "
            "ca_bundle to the CA that signed it"
        )
        deliver(["token"], post, answer, sentinel_backoff(self._config, self._rt),
                untrusted=untrusted)  # fmt: skip
        return fetched[-1]


def sentinel_backoff(config: SentinelConfig, runtime: Runtime) -> Backoff:
    """The client's full-jitter backoff with this sink's base and cap; a server's
    ``Retry-After`` is honoured up to the client's ``RETRY_AFTER_CAP``."""
    return Backoff("sentinel", log, config.max_retries, config.backoff_base, config.backoff_cap,
                   runtime.sleep, runtime.random, runtime.now,
                   retry_after_cap=RETRY_AFTER_CAP)  # fmt: skip


def one_line(text: str, limit: int) -> str:
    """Server text made safe for a log line or an error: whitespace and control characters
    collapsed to single spaces, cut at ``limit`` characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2])
    return " ".join(cleaned.split())[:limit]
