"""The application factory: one FastAPI app serving token, identity, API and admin paths."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gta._version import __version__
from gta.emulator import _admin, _routes, _routes_alerts
from gta.emulator._faults import FaultMiddleware, quiet_server_logs
from gta.emulator._guard import RequestGuard
from gta.emulator._problems import install_handlers
from gta.emulator._server_date import ServerDateMiddleware
from gta.emulator._settings import EmulatorSettings
from gta.emulator._state import EmulatorState
from gta.emulator._store import Store

log = logging.getLogger("gta.emulator")
_TIMEOUT_CHECK_SECONDS = 10


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """Build the emulator: open or generate its data, then wire routes, errors and faults.

    Generation happens here, before the server accepts a connection, so a started server
    always has its full data set.
    """
    settings = settings or EmulatorSettings()
    store = Store.open(settings)
    state = EmulatorState(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.activity_per_minute > 0:
            task = asyncio.create_task(_background_activity(state))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            store.save_clock()

    app = FastAPI(
        title="Global Threat Alerts API (gta emulator)",
        version=__version__,
        description=(
            "An offline emulator of the Cisco Global Threat Alerts API. Token issuer, "
            "/auth/api-clients/me and the API share one origin. Paths under /_emulator "
            "are the emulator's admin API (a bearer admin token when one is set)."
        ),
        lifespan=lifespan,
    )
    app.state.emulator = state
    install_handlers(app)
    app.include_router(_routes.router)
    app.include_router(_routes_alerts.router)
    app.include_router(_admin.router)
    # The last added runs first: faults, then the guard of bodies and tokens, then the app.
    app.add_middleware(RequestGuard, state=state)
    app.add_middleware(FaultMiddleware, state=state)
    app.add_middleware(ServerDateMiddleware, state=state)  # outermost: faults are dated too
    quiet_server_logs()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, corrected: errors are 400 problems (never 422), Basic auth named."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _not_null(parameter["schema"])
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None and "400" not in responses:
                responses["400"] = {
                    "description": "Malformed parameter or body",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/ProblemDetails"}
                        }
                    },
                }
    schemas = doc.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    doc["components"].setdefault("securitySchemes", {})["clientBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "API client id and password (token endpoint only)",
    }
    return doc


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` -> X: a query parameter is absent or a value, never JSON null.

    FastAPI writes optional parameters that way and hangs ``format`` on the wrapper, where
    client generators and fuzzers do not see it.
    """
    branches = schema.get("anyOf")
    if not branches or len(branches) != 2 or {"type": "null"} not in branches:
        return schema
    merged = dict(next(b for b in branches if b != {"type": "null"}))
    merged.update({k: v for k, v in schema.items() if k not in ("anyOf", "default")})
    return merged


async def _background_activity(state: EmulatorState) -> None:
    """Background movement at ``activity_per_minute`` events per customer (3/4 new)."""
    per_second = state.settings.activity_per_minute / 60.0
    carry = 0.0
    ticks = 0
    while True:
        await asyncio.sleep(1.0)
        ticks += 1
        carry += per_second
        count = int(carry)
        carry -= count
        try:
            if count:
                updates = count // 4
                for who in state.store.identities:
                    state.activity.run(who.index, count - updates, updates)
            if ticks % _TIMEOUT_CHECK_SECONDS == 0:
                state.activity.timeouts()
        except Exception:  # keep the server up; the failure is logged
            log.exception("background activity failed")
