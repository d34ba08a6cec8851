"""OAuth2 client-credentials auth as an ``httpx.Auth`` flow (API.md §2).

The flow puts ``Authorization: Bearer <token>`` on every request, refreshes the token well
before it expires (on a monotonic clock), and on a 401 fetches a new token and replays the
request once. A lock makes the refresh single-flight: when many threads find the token stale,
one asks for a new token and the others wait for it and reuse it.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from gta.client._exceptions import ApiError, describe, token_error
from gta.client._retry import DEFAULT_TOKEN_LIFETIME, token_refresh_delay

__all__ = ["TokenAuth"]

log = logging.getLogger("gta.client")


class _Token:
    """An access token and the monotonic instant after which we stop using it."""

    __slots__ = ("refresh_at", "value")

    def __init__(self, value: SecretStr, refresh_at: float) -> None:
        self.value = value
        self.refresh_at = refresh_at


class TokenAuth(httpx.Auth):
    """Client-credentials bearer auth with proactive refresh and one replay on 401.

    ``send`` sends the token request (the client's retrying transport, without auth), so the
    token endpoint gets the same timeouts and retries as the API.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_password: SecretStr,
        *,
        send: Callable[[httpx.Request], httpx.Response],
        monotonic: Callable[[], float],
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._password = client_password
        self._send = send
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"TokenAuth(token_url={self._token_url!r}, client_id={self._client_id!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        response = yield request
        if response.status_code == 401:
            # The token may have been revoked or expired early: get a new one (unless another
            # thread already did) and replay this request once. A second 401 is returned as is.
            log.info("401 for %s; refreshing the token and retrying once", describe(request))
            _discard_body(response)
            token = self.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        raise NotImplementedError("gta's client is synchronous; use httpx.Client")
        yield request  # pragma: no cover  (makes this an async generator)

    def token(self, stale: SecretStr | None = None) -> SecretStr:
        """A valid access token: the cached one, or a fresh one when stale or rejected.

        ``stale`` is a token the server has just refused: it is replaced even if its lifetime
        is not over, but only if no other thread has replaced it meanwhile.
        """
        with self._lock:
            current = self._token
            if (
                current is not None
                and current.value != stale
                and self._monotonic() < current.refresh_at
            ):
                return current.value
            self._token = self._fetch()
            return self._token.value

    def _fetch(self) -> _Token:
        issued = self._monotonic()
        request = httpx.Request(
            "POST",
            self._token_url,
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": _basic(self._client_id, self._password),
                "Accept": "application/json",
            },
        )
        response = self._send(request)
        self.fetch_count += 1
        if not response.is_success:
            raise token_error(response)
        value, expires_in = _parse_token_response(response)
        log.debug("fetched an access token valid for %.0f s", expires_in)
        return _Token(SecretStr(value), issued + token_refresh_delay(expires_in))


def _discard_body(response: httpx.Response) -> None:
    """Drop the body of a 401 that is about to be replayed, unread.

    httpx reads a response whole before the auth flow's next request; the body of a refused
    request is of no use, and a hostile server could make it as large as it likes (the client's
    size limit applies to the answers it reads itself). Closing the network stream drops the
    connection instead of draining it; httpx then reads an empty body.
    """
    network = response.stream
    response.stream = httpx.ByteStream(b"")
    if isinstance(network, httpx.SyncByteStream):
        network.close()


def _basic(client_id: str, password: SecretStr) -> str:
    """The HTTP Basic header value (built where it is sent, kept in no variable or log)."""
    return (
        "Basic " + base64.b64encode(f"{client_id}:{password.get_secret_value()}".encode()).decode()
    )


def _parse_token_response(response: httpx.Response) -> tuple[str, float]:
    """The access token and its lifetime; a body without a token is an ApiError.

    The body is never quoted in the error: it may hold a token.
    """
    where = describe(response.request)
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ApiError(
            f"token response from {where} is not JSON "
            f"(content-type {response.headers.get('content-type', 'none')!r})",
            request=response.request,
        ) from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(f"token response from {where} has no access_token", request=response.request)
    expires_in = body.get("expires_in")
    lifetime = DEFAULT_TOKEN_LIFETIME
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        lifetime = float(expires_in)
    elif isinstance(expires_in, str):
        with contextlib.suppress(ValueError):
            lifetime = float(expires_in)
    return token, lifetime
