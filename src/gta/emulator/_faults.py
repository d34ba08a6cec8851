"""Fault injection as a raw ASGI middleware: latency, 5xx, 429 and dropped connections.

It wraps every API path and the token endpoint, never ``/_emulator/*`` (the admin API must stay
reliable to control the faults) nor the OpenAPI document. Latency is an ``asyncio.sleep`` so
concurrent requests wait side by side. Draws come from the emulator's own seeded generator.

A dropped connection is made by starting the response with a status the server cannot encode:
uvicorn (h11) marks the response as started, fails before writing a byte, and closes the
socket, so the client sees the connection end without any response, like a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gta.emulator._problems import problem_body
from gta.emulator._state import EmulatorState

_EXEMPT = ("/_emulator", "/openapi.json", "/docs", "/redoc")


class ConnectionDropped(Exception):
    """Raised to make the server close the connection without answering (a fault)."""


class _QuietDrops(logging.Filter):
    """Keep injected drops out of the server's error log (they are on purpose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def quiet_server_logs() -> None:
    target = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in target.filters):
        target.addFilter(_QuietDrops())


class FaultMiddleware:
    """Decide per request (seeded draws) whether to delay, fail, throttle or drop it."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(_EXEMPT):
            await self.app(scope, receive, send)
            return
        faults = self.state.faults
        rng = self.state.fault_rng
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.reset_rate and rng.random() < faults.reset_rate:
            await self._drop(send)
        if faults.rate_limit_rate and rng.random() < faults.rate_limit_rate:
            await self._answer(
                send,
                429,
                "rate limited (injected fault)",
                [(b"retry-after", str(faults.retry_after).encode())],
            )
            return
        if faults.error_rate and rng.random() < faults.error_rate:
            status = rng.choice((500, 502, 503))
            await self._answer(send, status, "injected server error", [])
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(
        send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        body = problem_body(status, detail)
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _drop(send: Send) -> None:
        # The server refuses the status before writing a byte; the error is expected.
        with contextlib.suppress(Exception):
            await send({"type": "http.response.start", "status": 999, "headers": []})
        raise ConnectionDropped("connection dropped (injected fault)")
