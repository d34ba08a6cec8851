"""The ``Date`` header of every answer, from the emulated clock (RFC 9110 section 6.6.1).

A client may use ``Date`` as the server's present (the sync does: no timestamp may move its
alerts checkpoint past it), so it must come from the same clock as ``modifiedAt``: the emulated
one, which admin calls move, not the host's. uvicorn's own ``Date`` is switched off
(``date_header=False``) and in-process test transports send none, so this adds it everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gta.emulator._state import EmulatorState


def http_date(ms: int) -> str:
    """IMF-fixdate of an instant in epoch milliseconds (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return format_datetime(datetime.fromtimestamp(ms // 1000, UTC), usegmt=True)


class ServerDateMiddleware:
    """Replace any ``Date`` header of a response with the emulated clock's present."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (k, v) for k, v in message.get("headers", []) if bytes(k).lower() != b"date"
                ]
                now = http_date(self.state.store.clock.now_ms())
                headers.append((b"date", now.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_dated)
