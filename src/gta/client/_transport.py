"""The I/O shell: send a request with timeouts and retries, turn failures into gta errors.

Every request the client makes goes through :meth:`Transport.send_raw`, which retries
connection errors, resets, timeouts, 429 and 5xx with backoff (the pure functions of
``_retry``) within a budget of ``max_retries``, and logs each retry without the query string
or any header. :meth:`Transport.request_json` adds the status check and JSON decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from gta._version import __version__
from gta.client._exceptions import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConfigurationError,
    describe,
    one_line,
    status_error,
)
from gta.client._retry import (
    NAME_RESOLUTION_RETRIES,
    Runtime,
    is_name_resolution_failure,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)

__all__ = ["Transport", "decode_json"]

log = logging.getLogger("gta.client")

USER_AGENT = f"gta/{__version__} httpx/{httpx.__version__}"


class Transport:
    """Sends requests on one ``httpx.Client`` with one retry policy."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        timeout: httpx.Timeout,
        max_retries: int,
        runtime: Runtime,
    ) -> None:
        self.http = http
        self.timeout = timeout
        self.max_retries = max_retries
        self.runtime = runtime
        self.auth: httpx.Auth | None = None
        # Observers for metrics, called on the thread that sent the request (they must not
        # raise): every answer's status code, retries included, and every retry's cause.
        self.on_response: Callable[[int], None] | None = None
        self.on_retry: Callable[[str], None] | None = None

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Request:
        """A request with our headers; ``content`` is an already-encoded JSON body."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if content is not None:
            headers["Content-Type"] = "application/json"
        return httpx.Request(method, url, params=params, content=content, headers=headers)

    def send_raw(self, request: httpx.Request, *, auth: httpx.Auth | None) -> httpx.Response:
        """Send with retries; the final response is returned whatever its status.

        Raises ApiConnectionError/ApiTimeoutError when the network fails past the budget.
        """
        if self.http.is_closed:
            raise ConfigurationError("this gta Client is closed; create a new one")
        request.extensions["timeout"] = self.timeout.as_dict()
        attempt = 0
        while True:
            try:
                response = _unbound(self.http.send(request, auth=auth))
                if self.on_response is not None:
                    self.on_response(response.status_code)
            except httpx.HTTPError as exc:
                budget = self.max_retries
                if is_name_resolution_failure(exc):
                    budget = min(budget, NAME_RESOLUTION_RETRIES)
                if not is_retryable_exception(exc) or attempt >= budget:
                    raise _connection_error(exc, request, attempt) from exc
                delay = retry_delay(attempt, None, self.runtime.random())
                self._log_retry(request, type(exc).__name__, attempt, delay)
            else:
                if not is_retryable_status(response.status_code) or attempt >= self.max_retries:
                    return response
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), self.runtime.now()
                )
                delay = retry_delay(attempt, retry_after, self.runtime.random())
                self._log_retry(request, str(response.status_code), attempt, delay)
                response.close()
            self.runtime.sleep(delay)
            attempt += 1

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send with auth and retries; a non-2xx final answer raises its ApiStatusError."""
        response = self.send_raw(request, auth=self.auth)
        if not response.is_success:
            raise status_error(response, self.runtime.now())
        return response

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Any:
        """Send and decode the JSON answer (``None`` for an empty body such as a 204)."""
        response = self.send(self.build(method, url, params=params, content=content))
        return decode_json(response, allow_empty=True)

    def _log_retry(self, request: httpx.Request, cause: str, attempt: int, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(cause)
        log.warning(
            "retrying %s after %s (retry %d of %d) in %.2f s",
            describe(request),
            cause,
            attempt + 1,
            self.max_retries,
            delay,
            extra={
                "gta_method": request.method,
                "gta_path": request.url.path,
                "gta_cause": cause,
                "gta_attempt": attempt + 1,
                "gta_delay": delay,
            },
        )


def _unbound(response: httpx.Response) -> httpx.Response:
    """The response without httpx's reference cycle, once its body is read.

    httpx binds a response's stream back to the response (to time it), so every response is a
    reference cycle and its body (a megabyte for a page of events) stays in memory until the
    cyclic garbage collector runs. ``Client.send`` has read and closed it: the body is in
    ``content`` and the stream is spent, so a plain stream over the same bytes replaces it.
    """
    if response.is_closed and response.is_stream_consumed:
        response.stream = httpx.ByteStream(response.content)
    return response


def decode_json(response: httpx.Response, *, allow_empty: bool = False) -> Any:
    """The JSON body (orjson); anything else is an ApiError naming the request, not a crash."""
    content = response.content
    if not content and allow_empty:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        ctype = response.headers.get("content-type", "none")
        raise ApiError(
            f"{describe(response.request)} answered {response.status_code} with a body that "
            f"is not JSON (content-type {ctype!r}, {len(content)} bytes)",
            request=response.request,
        ) from None


def _connection_error(
    exc: httpx.HTTPError, request: httpx.Request, attempt: int
) -> ApiConnectionError:
    tries = f"after {attempt + 1} attempt{'s' if attempt else ''}"
    detail = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ApiTimeoutError(f"{describe(request)} timed out {tries} ({detail})")
    return ApiConnectionError(
        f"{describe(request)} failed {tries} ({type(exc).__name__}: {detail}); "
        f"check the host and network"
    )
