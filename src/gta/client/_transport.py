"""The I/O shell: send a request with timeouts and retries, turn failures into gta errors.

Every request the client makes goes through :meth:`Transport.send_raw`, which retries
connection errors, resets, timeouts, 429 and 5xx with backoff (the pure functions of
``_retry``) within a budget of ``max_retries``, and logs each retry without the query string
or any header. Each attempt has its own whole-request deadline and its answer a size limit
(``_limits``). :meth:`Transport.request_json` adds the status check and JSON decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from gta._version import __version__
from gta.client._auth import TokenAuth
from gta.client._exceptions import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConfigurationError,
    describe,
    one_line,
    origin_of,
    status_error,
)
from gta.client._limits import DeadlineExceeded, DeadlineTimeouts, format_seconds, read_body
from gta.client._retry import (
    NAME_RESOLUTION_RETRIES,
    Runtime,
    is_name_resolution_failure,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from gta.client._sockets import bounded_by

__all__ = ["Transport", "decode_json"]

log = logging.getLogger("gta.client")

USER_AGENT = f"gta/{__version__} httpx/{httpx.__version__}"
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class Transport:
    """Sends requests on one ``httpx.Client`` with one retry policy."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        timeout: httpx.Timeout,
        max_retries: int,
        runtime: Runtime,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        connect_retries: int | None = None,
        max_retry_wait: float | None = None,
    ) -> None:
        self.http = http
        self.timeout = timeout
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.runtime = runtime
        # A person waiting at a terminal: a connection that cannot be made fails at once
        # (connect_retries=0) and the retries of one request wait max_retry_wait seconds at most.
        self.connect_retries = connect_retries
        self.max_retry_wait = max_retry_wait
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

        Raises ApiConnectionError/ApiTimeoutError when the network fails past the budget, and
        ResponseTooLargeError (at once) for an answer over ``max_response_bytes``.
        """
        if self.http.is_closed:
            raise ConfigurationError("this gta Client is closed; create a new one")
        attempt = 0
        waited = 0.0
        while True:
            try:
                response = self._attempt(request, auth)
                if self.on_response is not None:
                    self.on_response(response.status_code)
            except httpx.HTTPError as exc:
                budget = self._budget_for(exc)
                delay = retry_delay(attempt, None, self.runtime.random())
                if (
                    not is_retryable_exception(exc)
                    or attempt >= budget
                    or not self._may_wait(waited, delay)
                ):
                    raise _connection_error(exc, request, attempt, self.deadline) from exc
                self._log_retry(request, type(exc).__name__, attempt, budget, delay)
            else:
                if not is_retryable_status(response.status_code) or attempt >= self.max_retries:
                    return response
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), self.runtime.now()
                )
                delay = retry_delay(attempt, retry_after, self.runtime.random())
                if not self._may_wait(waited, delay):
                    return response
                cause = str(response.status_code)
                self._log_retry(request, cause, attempt, self.max_retries, delay)
                response.close()
            self.runtime.sleep(delay)
            waited += delay
            attempt += 1

    def _attempt(self, request: httpx.Request, auth: httpx.Auth | None) -> httpx.Response:
        """One attempt within its own deadline: the answer is read whole, or an error raised."""
        if isinstance(auth, TokenAuth):
            # A token to fetch is a request of its own, with its own deadline: fetch it before
            # this request's deadline starts, so its time is not taken from this one.
            auth.token()
        clock = self.runtime.monotonic
        deadline = clock() + self.deadline
        # Looked up by httpcore as each phase starts, so a phase never outlives the deadline.
        timeouts = DeadlineTimeouts(self.timeout.as_dict(), deadline, clock)
        request.extensions["timeout"] = timeouts
        # And on the client's own transport, each socket operation too (``_sockets``).
        with bounded_by(timeouts):
            response = self.http.send(request, auth=auth, stream=True)
            content = read_body(
                response,
                limit=self.max_response_bytes,
                deadline=deadline,
                seconds=self.deadline,
                clock=clock,
            )
        return _unbound(response, content)

    def _budget_for(self, exc: httpx.HTTPError) -> int:
        """How many retries this kind of network failure gets."""
        budget = self.max_retries
        if is_name_resolution_failure(exc):
            budget = min(budget, NAME_RESOLUTION_RETRIES)
        if self.connect_retries is not None and isinstance(exc, httpx.ConnectError):
            budget = min(budget, self.connect_retries)
        return budget

    def _may_wait(self, waited: float, delay: float) -> bool:
        return self.max_retry_wait is None or waited + delay <= self.max_retry_wait

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

    def _log_retry(
        self, request: httpx.Request, cause: str, attempt: int, budget: int, delay: float
    ) -> None:
        if self.on_retry is not None:
            self.on_retry(cause)
        log.warning(
            "retrying %s after %s (retry %d of %d) in %.2f s",
            describe(request),
            cause,
            attempt + 1,
            budget,
            delay,
            extra={
                "gta_method": request.method,
                "gta_path": request.url.path,
                "gta_cause": cause,
                "gta_attempt": attempt + 1,
                "gta_delay": delay,
            },
        )


def _unbound(response: httpx.Response, content: bytes) -> httpx.Response:
    """The response holding its read body, without httpx's reference cycle.

    httpx binds a response's stream back to the response (to time it), so every response is a
    reference cycle and its body (a megabyte for a page of events) stays in memory until the
    cyclic garbage collector runs. ``read_body`` has read and closed the stream: a plain stream
    over the same bytes replaces it, and the bytes become the response's content, as
    ``Response.read()`` would have stored them (httpx has no public setter for that).
    """
    response._content = content
    response.stream = httpx.ByteStream(content)
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
    exc: httpx.HTTPError, request: httpx.Request, attempt: int, deadline: float
) -> ApiConnectionError:
    tries = f"after {attempt + 1} attempt{'s' if attempt else ''}"
    detail = one_line(str(exc)) or type(exc).__name__
    where = f"{describe(request)} on {origin_of(request)}"
    if isinstance(exc, httpx.TimeoutException):
        if not isinstance(exc, DeadlineExceeded):
            detail = f"{type(exc).__name__}: {detail}"
        return ApiTimeoutError(
            f"{where} timed out {tries} "
            f"(deadline {format_seconds(deadline)} per attempt; {detail})",
            url=request.url,
        )
    return ApiConnectionError(
        f"{where} failed {tries} ({type(exc).__name__}: {detail}); check the host and network",
        url=request.url,
    )
