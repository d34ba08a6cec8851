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
import ssl
from typing import Any

import httpx

from gta.client._retry import (
    Runtime,
    backoff_delay,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    token_refresh_delay,
)
from gta.sinks._base import SinkConfigError, SinkError
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
        attempt = 0
        while True:
            issued = self._rt.monotonic()
            try:
                response = self._client.post(self.url, data=form)
            except httpx.HTTPError as exc:
                if untrusted(exc):
                    raise SinkConfigError(
                        f"sentinel TLS certificate of {self._config.authority_host} is not "
                        "trusted; set ca_bundle to the CA that signed it"
                    ) from None
                if not is_retryable_exception(exc):
                    raise SinkError(
                        f"sentinel token request failed: {type(exc).__name__}"
                    ) from None
                attempt = self._wait(attempt, f"token endpoint: {type(exc).__name__}", None)
                continue
            body = _json(response)
            if response.status_code == 200:
                token = body.get("access_token")
                if not isinstance(token, str) or not token:
                    raise SinkError("sentinel: the token endpoint answered without access_token")
                expires = body.get("expires_in")
                try:
                    lifetime = float(expires) if expires is not None else 3600.0
                except (TypeError, ValueError):
                    lifetime = 3600.0
                self._refresh_at = issued + token_refresh_delay(lifetime)
                return token
            if is_retryable_status(response.status_code):
                attempt = self._wait(attempt, f"token endpoint HTTP {response.status_code}",
                                     response)  # fmt: skip
                continue
            error = one_line(str(body.get("error") or f"HTTP {response.status_code}"), 60)
            # The first line of error_description carries the AADSTS code and its meaning.
            described = str(body.get("error_description") or "").splitlines()
            detail = f": {one_line(described[0], 200)}" if described else ""
            raise SinkConfigError(
                f"sentinel: Entra ID refused the client credentials ({error}{detail}); check "
                "tenant_id, client_id and the client secret"
            )

    def _wait(self, attempt: int, reason: str, response: httpx.Response | None) -> int:
        if attempt >= self._config.max_retries:
            raise SinkError(f"sentinel: giving up on a token after {attempt + 1} tries ({reason})")
        delay = sentinel_delay(self._config, attempt, response, self._rt)
        log.warning("sentinel: %s; retrying in %.2fs", reason, delay)
        self._rt.sleep(delay)
        return attempt + 1


def sentinel_delay(
    config: SentinelConfig, attempt: int, response: httpx.Response | None, runtime: Runtime
) -> float:
    """The server's ``Retry-After`` (capped at the client's ``RETRY_AFTER_CAP``) if it sent one,
    else the client's full-jitter backoff with this sink's base and cap."""
    header = response.headers.get("Retry-After") if response is not None else None
    retry_after = parse_retry_after(header, runtime.now())
    if retry_after is not None:
        return retry_after
    return backoff_delay(
        attempt, runtime.random(), base=config.backoff_base, cap=config.backoff_cap
    )


def one_line(text: str, limit: int) -> str:
    """Server text made safe for a log line or an error: whitespace and control characters
    collapsed to single spaces, cut at ``limit`` characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2])
    return " ".join(cleaned.split())[:limit]


def untrusted(exc: BaseException) -> bool:
    """True when a connection failed because the server's certificate was not trusted."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
