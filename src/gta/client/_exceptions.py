"""The SDK's branch of gta's one exception tree (root: ``gta.errors.GtaError``).

::

    GtaError                           gta.errors: the root of every error of gta
     +-- ConfigurationError            missing/invalid settings or arguments, before any request
     +-- ApiError                      a response we could not use (malformed JSON, bad shape)
     |    +-- ResponseTooLargeError    an answer over max_response_bytes (not retried); .limit
     |    +-- ApiStatusError           non-2xx; .status_code, .request_id, .body
     |         +-- BadRequestError        400
     |         +-- AuthenticationError    401, and token errors; .error, .error_description
     |         +-- PermissionDeniedError  403
     |         +-- NotFoundError          404
     |         +-- RateLimitError         429; .retry_after
     |         +-- ServerError            5xx
     +-- ApiConnectionError            connection failed/reset
          +-- ApiTimeoutError          a phase timed out, or the whole-request deadline passed

Every message is one line (method, path without the query, status, request id and a short
detail from the body) so a command line can print ``error: <message>`` and nothing else.
No message ever holds a credential: paths and bodies are the only response material quoted,
and the token endpoint's body is only quoted through its RFC 6749 ``error`` fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from gta.client._retry import parse_retry_after
from gta.errors import GtaError

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "GtaError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
]

# Request headers that carry credentials; exceptions keep a copy of the request without them.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
# Response headers that carry a request id, most specific first.
_REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "x-amzn-requestid", "request-id")
_DETAIL_LIMIT = 200


class ConfigurationError(GtaError):
    """A setting or argument is missing or invalid; raised before any request is sent."""


class ApiError(GtaError):
    """The API answered something we could not use (not JSON, wrong shape, no progress)."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(one_line(message))
        # Error reporters serialise exception attributes: keep a copy without credentials.
        self.request = None if request is None else scrub_request(request)


class ResponseTooLargeError(ApiError):
    """An answer larger than the client's ``max_response_bytes``; refused, not retried."""

    def __init__(self, message: str, *, request: httpx.Request, limit: int) -> None:
        super().__init__(message, request=request)
        self.limit = limit


class ApiStatusError(ApiError):
    """The API answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any = None,
    ) -> None:
        super().__init__(message, request=response.request)
        try:
            content = response.content
        except httpx.ResponseNotRead:
            content = b""
        self.response = httpx.Response(
            response.status_code, headers=response.headers, content=content, request=self.request
        )
        self.status_code: int = response.status_code
        self.request_id: str | None = request_id_of(response)
        self.body: Any = body


class BadRequestError(ApiStatusError):
    """400: the request was not valid (a parameter, a filter, too many ids)."""


class AuthenticationError(ApiStatusError):
    """401, or the token endpoint refused the credentials (RFC 6749 ``error`` body)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.error = error
        self.error_description = error_description


class PermissionDeniedError(ApiStatusError):
    """403: the credentials may not see this path (e.g. another customer's)."""


class NotFoundError(ApiStatusError):
    """404: no such object (an alert removed after its detections timed out, a bad id)."""


class RateLimitError(ApiStatusError):
    """429: rate limited, and the retry budget ran out."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.retry_after = retry_after


class ServerError(ApiStatusError):
    """5xx: the service failed, and the retry budget ran out."""


class ApiConnectionError(GtaError):
    """The connection failed, was reset, or broke mid-response (after all retries).

    ``url`` is the URL tried, without its query (``None`` when unknown), so a caller can say
    which setting named that host."""

    def __init__(self, message: str, *, url: httpx.URL | None = None) -> None:
        super().__init__(message)
        self.url = None if url is None else url.copy_with(query=None, fragment=None)


class ApiTimeoutError(ApiConnectionError):
    """A connect, read, write or pool timeout, or the whole-request deadline passed (after all
    retries)."""


def one_line(text: str) -> str:
    """Collapse whitespace so a message always fits on one line."""
    return " ".join(text.split())


def request_id_of(response: httpx.Response) -> str | None:
    """The request id the server put in a response header, if any."""
    for name in _REQUEST_ID_HEADERS:
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def parse_body(response: httpx.Response) -> Any:
    """The error body as JSON when it is JSON, else as text (never raises)."""
    content = response.content
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return response.text


def _detail(body: Any) -> str:
    """A short human detail from a problem+json, RFC 6749 or free-form body."""
    text = ""
    if isinstance(body, dict):
        for keys in (("detail",), ("error_description",), ("title",), ("message",), ("error",)):
            value = body.get(keys[0])
            if isinstance(value, str) and value.strip():
                text = value
                break
    elif isinstance(body, str):
        text = body
    text = one_line(text)
    if len(text) > _DETAIL_LIMIT:
        text = text[: _DETAIL_LIMIT - 3] + "..."
    return text


def describe(request: httpx.Request) -> str:
    """``METHOD /path`` without the query string (which could carry a cursor or a filter)."""
    return f"{request.method} {request.url.path}"


def origin_of(request: httpx.Request) -> str:
    """``scheme://host[:port]`` of a request: the server it went to, never its path or query."""
    url = request.url
    port = f":{url.port}" if url.port is not None else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


def status_error(response: httpx.Response, now: datetime | None = None) -> ApiStatusError:
    """The one switch from a non-2xx response to its exception class.

    ``now`` (the wall clock) reads an HTTP-date ``Retry-After`` of a 429.
    """
    body = parse_body(response)
    status = response.status_code
    reason = response.reason_phrase or "error"
    rid = request_id_of(response)
    message = f"{status} {reason} for {describe(response.request)}"
    if rid:
        message += f" (request id {rid})"
    detail = _detail(body)
    if detail:
        message += f": {detail}"
    if status == 400:
        return BadRequestError(message, response=response, body=body)
    if status == 401:
        error, description = _oauth_fields(body)
        return AuthenticationError(
            message,
            response=response,
            body=body,
            error=error,
            error_description=description,
        )
    if status == 403:
        return PermissionDeniedError(message, response=response, body=body)
    if status == 404:
        return NotFoundError(message, response=response, body=body)
    if status == 429:
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), now or datetime.now(UTC)
        )
        return RateLimitError(message, response=response, body=body, retry_after=retry_after)
    if status >= 500:
        return ServerError(message, response=response, body=body)
    return ApiStatusError(message, response=response, body=body)


def token_error(response: httpx.Response) -> ApiStatusError:
    """The error for a failed token request: credentials problems become AuthenticationError."""
    body = parse_body(response)
    error, description = _oauth_fields(body)
    if response.status_code in (400, 401, 403) and (error or response.status_code != 400):
        message = f"token request refused ({response.status_code}"
        message += f" {error})" if error else ")"
        if description:
            message += f": {_detail({'detail': description})}"
        message += "; check the client id, the client password and the SecureX host"
        return AuthenticationError(
            message,
            response=response,
            body=body,
            error=error,
            error_description=description,
        )
    return status_error(response)


def _oauth_fields(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    description = body.get("error_description")
    return (
        error if isinstance(error, str) else None,
        description if isinstance(description, str) else None,
    )


def scrub_request(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` (method, URL, headers) with credential headers masked and no body."""
    headers = [
        (name, "***" if name.lower() in _SECRET_HEADERS else value)
        for name, value in request.headers.items()
    ]
    return httpx.Request(request.method, request.url, headers=headers)
