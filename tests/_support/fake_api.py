"""Fakes for client unit tests: a scriptable API behind httpx.MockTransport, a fake clock.

Nothing here opens a socket or really sleeps: the client gets a ``Runtime`` whose sleep only
records the delay and advances the fake clocks.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from gta.client import Client, Runtime

CLIENT_ID = "client-abc"
PASSWORD = "pw-Sup3rS3cret!"  # a value to look for in reprs, messages and logs
CUSTOMER = "CTA123456789"
API = "https://api.test"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic and wall clocks that move only when the client sleeps or a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.wall0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self) -> datetime:
        return self.wall0 + timedelta(seconds=self.t - 1000.0)

    def runtime(self, rand: float = 0.5) -> Runtime:
        return Runtime(
            sleep=self.sleep, monotonic=self.monotonic, random=lambda: rand, now=self.now
        )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=orjson.dumps(body),
        headers={"content-type": "application/json", **(headers or {})},
    )


def page(items: list[Any], end: str | None, has_next: bool) -> dict[str, Any]:
    return {
        "items": items,
        "pageInfo": {
            "previous": None,
            "next": "/do/not/follow" if has_next else None,
            "hasPreviousPage": False,
            "hasNextPage": has_next,
            "startCursor": None if not items else "s",
            "endCursor": end,
        },
    }


class FakeApi:
    """Token endpoint + routes. Unknown routes are 404; a bad bearer is 401.

    ``routes`` maps ``(method, path)`` to a handler; ``fail`` holds responses or exceptions
    served (and consumed) before the route runs, to script faults.
    """

    def __init__(self, lifetime: float = 600) -> None:
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.requests: list[httpx.Request] = []
        # Header values as they were when received (a replayed request object is mutated).
        self.seen_auth: list[str] = []
        self.token_requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.fail: list[httpx.Response | Exception] = []
        self.token_fail: list[httpx.Response] = []
        self.route("GET", "/auth/api-clients/me", {"identity": {"customerId": CUSTOMER}})

    def route(self, method: str, path: str, handler: Handler | Any) -> None:
        if callable(handler):
            self.routes[(method, path)] = handler
        else:
            body = handler
            self.routes[(method, path)] = lambda request: json_response(200, body)

    def revoke_all(self) -> None:
        self.valid.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/iroh/oauth2/token":
            return self._token(request)
        self.requests.append(request)
        self.seen_auth.append(request.headers.get("authorization", ""))
        if self.fail:
            item = self.fail.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.valid:
            return json_response(401, {"title": "Unauthorized", "status": 401})
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return json_response(404, {"title": "Not Found", "detail": request.url.path})
        return handler(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        if self.token_fail:
            return self.token_fail.pop(0)
        expected = base64.b64encode(f"{CLIENT_ID}:{PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return json_response(
                400,
                {
                    "error": "invalid_client",
                    "error_description": "unknown client",
                    "error_uri": "https://tools.ietf.org/html/rfc6749#section-5.2",
                },
            )
        token = f"tok-{len(self.issued) + 1}-secretvalue"
        self.issued.append(token)
        self.valid.add(token)
        return json_response(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.lifetime,
                "scope": "casebook",
            },
        )


def make_client(
    api: Handler,
    clock: FakeClock | None = None,
    *,
    customer_id: str | None = CUSTOMER,
    max_retries: int = 3,
    password: str = PASSWORD,
    **options: Any,
) -> Client:
    clock = clock or FakeClock()
    return Client(
        CLIENT_ID,
        password,
        securex_host="visibility.test",
        api_url=API,
        app_url="https://app.test",
        customer_id=customer_id,
        max_retries=max_retries,
        http_client=httpx.Client(transport=httpx.MockTransport(api)),
        _runtime=clock.runtime(),
        **options,
    )
