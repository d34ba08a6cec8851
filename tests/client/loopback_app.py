"""A small server of the documented API (API.md) for SDK tests over a real loopback socket.

Independent of the project's emulator on purpose: the SDK is checked against the documented
behaviour with real sockets and real clocks. It serves client-credentials tokens with a short
real lifetime (which may be shorter than announced, to provoke 401s), a 401 for a missing,
expired or lower-case bearer, ``/auth/api-clients/me``, keyset cursor pagination of alerts and
enriched events, status/note PATCH, note DELETE, and the bulk searches.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CID = "CTA000000042"
USER, PASSWORD = "loop-client", "loop-Pa55word!"
ALERT_COUNT = 23
EVENT_COUNT = 12

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class ServerState:
    """What the fake service knows; ``real_lifetime`` may be shorter than announced."""

    announced_lifetime: float = 2.0
    real_lifetime: float = 2.0
    tokens: dict[str, float] = field(default_factory=dict)
    issued: int = 0
    unauthorized: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _seed(state: ServerState) -> None:
    state.alerts = [
        {
            "id": f"{i:064x}",
            "risk": ("Critical", "High", "Medium", "Low")[i % 4],
            "status": {"value": "New", "closingReasons": None},
            "etaFlag": None,
            "note": None,
            "triggeredAt": f"2024-01-{1 + i % 28:02d}T00:00:00.000Z",
            "modifiedAt": f"2024-01-{1 + i % 28:02d}T00:00:00.000Z",
        }
        for i in range(ALERT_COUNT)
    ]
    state.events = [
        {
            "id": f"ev-{i}",
            "detectedAt": "2024-01-02T00:00:00.000Z",
            "modifiedAt": "2024-01-02T00:00:00.000Z",
            "securityEventTypeId": 1000 + i,
            "title": f"event {i}",
            "affectedAssetId": f"asset-{i % 3}",
            "threatDetectionIds": [f"td-{i % 4}"] if i % 2 == 0 else [],
            "_msn": 100 + i,
        }
        for i in range(EVENT_COUNT)
    ]


def _problem(status: int, title: str) -> Response:
    return JSONResponse({"title": title, "status": status}, status_code=status)


def _page(items: list[dict[str, Any]], has_next: bool, cursor: Callable[[Any], str]) -> Response:
    return JSONResponse(
        {
            "items": items,
            "pageInfo": {
                "previous": None,
                "next": "/not/to/be/followed" if has_next else None,
                "hasPreviousPage": False,
                "hasNextPage": has_next,
                "startCursor": cursor(items[0]) if items else None,
                "endCursor": cursor(items[-1]) if items else None,
            },
        }
    )


def build_app(state: ServerState) -> Starlette:
    """The Starlette app over ``state``."""
    _seed(state)

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "unknown client",
                    "error_uri": "https://tools.ietf.org/html/rfc6749#section-5.2",
                },
                status_code=400,
            )
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        state.issued += 1
        value = f"loop-token-{state.issued}-{time.monotonic_ns()}"
        state.tokens[value] = time.monotonic() + state.real_lifetime
        return JSONResponse(
            {
                "access_token": value,
                "token_type": "bearer",
                "expires_in": state.announced_lifetime,
                "scope": "casebook",
            }
        )

    def guarded(endpoint: Endpoint) -> Endpoint:
        async def wrapper(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            expiry = state.tokens.get(header.removeprefix("Bearer ")) if header else None
            # The scheme must be capitalised: "bearer x" does not match the prefix.
            if not header.startswith("Bearer ") or expiry is None or time.monotonic() >= expiry:
                state.unauthorized += 1
                return _problem(401, "Unauthorized")
            cid = request.path_params.get("cid")
            if cid is not None and cid != CID:
                return _problem(403, "Forbidden")
            return await endpoint(request)

        return wrapper

    def find(alert_id: str) -> dict[str, Any] | None:
        return next((a for a in state.alerts if a["id"] == alert_id), None)

    async def me(request: Request) -> Response:
        return JSONResponse({"identity": {"customerId": CID}})

    async def alerts(request: Request) -> Response:
        size = min(int(request.query_params.get("size", "1000")), 1000)
        after = request.query_params.get("after")
        ordered = sorted(state.alerts, key=lambda a: a["id"])
        rest = [a for a in ordered if after is None or a["id"] > after]  # keyset, no offset
        return _page(rest[:size], len(rest) > size, lambda a: a["id"])

    async def enriched(request: Request) -> Response:
        size = min(int(request.query_params.get("size", "1000")), 1000)
        after = int(request.query_params.get("after", "0"))
        rest = [e for e in state.events if e["_msn"] > after]
        items = [{k: v for k, v in e.items() if k != "_msn"} for e in rest[:size]]
        return _page(items, len(rest) > size, lambda e: str(int(e["id"][3:]) + 100))

    async def alert(request: Request) -> Response:
        found = find(request.path_params["alert_id"])
        return _problem(404, "Not Found") if found is None else JSONResponse(found)

    async def change(request: Request) -> Response:
        found = find(request.path_params["alert_id"])
        if found is None:
            return _problem(404, "Not Found")
        field_name = request.path_params["field"]
        if request.method == "DELETE" and field_name == "note":
            found["note"] = None
            return Response(status_code=204)
        body = orjson.loads(await request.body())
        if field_name == "note":
            found["note"] = body["note"]
        elif field_name == "status":
            found["status"] = {"closingReasons": None, **body["status"]}
        else:
            return _problem(404, "Not Found")
        return JSONResponse(found)

    def search(key: str, make: Callable[[str], dict[str, Any] | None]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            ids = orjson.loads(await request.body())["filter"][key]
            if len(ids) > 1000:
                return _problem(400, "Too many ids")
            items = [item for item in map(make, ids) if item is not None]
            return _page(items, False, lambda x: str(x["id"]))

        return endpoint

    base = "/alert-management/customer/{cid}/alerts"
    return Starlette(
        routes=[
            Route("/iroh/oauth2/token", token, methods=["POST"]),
            Route("/auth/api-clients/me", guarded(me)),
            Route(base, guarded(alerts)),
            Route(base + "/search", guarded(search("alertIds", find)), methods=["POST"]),
            Route(base + "/{alert_id}", guarded(alert)),
            Route(base + "/{alert_id}/{field}", guarded(change), methods=["PATCH", "DELETE"]),
            Route(
                "/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids",
                guarded(enriched),
            ),
            Route(
                "/alert-management/customer/{cid}/enriched-threat-detections-with-alert-ids/search",
                guarded(
                    search(
                        "threatDetectionIds",
                        lambda i: {
                            "id": i,
                            "affectedAssetId": "asset-0",
                            "threatIntelRecordId": f"ti-{i}",
                            "alertIds": [state.alerts[0]["id"]],
                        },
                    )
                ),
                methods=["POST"],
            ),
            Route(
                "/asset-management/customer/{cid}/assets/search",
                guarded(search("assetId", lambda i: {"id": i, "assumedOwner": f"owner of {i}"})),
                methods=["POST"],
            ),
            Route(
                "/threat-catalog/records/search",
                guarded(
                    search(
                        "threatIntelRecordId",
                        lambda i: {"id": i, "title": "Emotet", "severity": 8},
                    )
                ),
                methods=["POST"],
            ),
        ]
    )


@dataclass
class Running:
    """A started server: its base URL, its state, and the environment that points at it."""

    url: str
    state: ServerState

    def env(self) -> dict[str, str]:
        return {
            "SECUREX_CLIENT_ID": USER,
            "SECUREX_CLIENT_PASSWORD": PASSWORD,
            "SECUREX_VISIBILITY_HOST_NAME": self.url,
            "GTA_API_URL": self.url,
            "GTA_APP_URL": self.url,
        }


@contextmanager
def serve(state: ServerState | None = None) -> Iterator[Running]:
    """Run the app with uvicorn on 127.0.0.1, an OS-chosen port, in a daemon thread."""
    state = state or ServerState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(state), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{port}", state)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
