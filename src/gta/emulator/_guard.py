"""Request guard (raw ASGI): bounded request bodies, and the bearer checked before any body.

FastAPI reads a request's body before it runs the dependencies that check the token, so without
this a client without a token could make the emulator hold a body of any size before its 401.
Here, before the application sees the request:

- a ``Content-Length`` over ``max_body_bytes`` is a 413 at once, without reading a byte;
- a request with a body to a path that needs a bearer token (everything but the token endpoint,
  the admin API and the API documents) gets its 401 without the body being read;
- a body without a length (chunked) is counted as it arrives: once it passes the limit the
  guard answers 413 and tells the application the client went away, so it stops reading.

Starlette's own body limit answers ``text/plain`` and leaves the token check to the application;
the emulator's errors are ``application/problem+json`` (API.md section 8).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gta.emulator._problems import Problem, problem_body
from gta.emulator._state import EmulatorState

# Paths that take no bearer token: the token endpoint, the admin API and the documents.
_NO_BEARER = ("/iroh/oauth2/token", "/_emulator", "/openapi.json", "/docs", "/redoc")


class RequestGuard:
    """Refuse oversized bodies (413) and token-less bodies (401) before reading them."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.state.settings.max_body_bytes
        headers = Headers(scope=scope)
        length = _content_length(headers)
        if length is not None and length > limit:
            await _answer(send, 413, _too_large(limit))
            return
        has_body = (length or 0) > 0 or "chunked" in headers.get("transfer-encoding", "").lower()
        if has_body and not str(scope["path"]).startswith(_NO_BEARER):
            try:
                self.state.tokens.check(headers.get("authorization"))
            except Problem as problem:
                await _answer(send, problem.status, problem.detail, problem.headers)
                return
        if length is not None:  # the server stops at Content-Length: nothing more to count
            await self.app(scope, receive, send)
            return
        await _CountedRequest(self.app, limit)(scope, receive, send)


class _CountedRequest:
    """One request whose body has no announced length: count it, answer 413 past the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.refused = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit and not self.started:
                    self.refused = True
                    await _answer(send, 413, _too_large(self.limit))
                    # The application sees a client that went away, and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return  # the 413 has been sent; what the application answers is dropped
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _content_length(headers: Headers) -> int | None:
    text = headers.get("content-length")
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _too_large(limit: int) -> str:
    return f"request body over the limit of {limit} bytes"


async def _answer(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    body = problem_body(status, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
