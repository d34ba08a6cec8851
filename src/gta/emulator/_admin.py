"""The admin API under ``/_emulator`` (never faulted): activity, clock, an alert's
``modifiedAt``, faults, stats and history.

It exists for tests and demos; it is part of the OpenAPI document, tagged ``admin``. Whoever
reaches it can move the clock (removing every alert) or switch faults on, so when the emulator
has an ``admin_token`` every admin call must carry it as a bearer token. The check is a
dependency of the router itself: a route added here is guarded without saying so. The emulator
refuses to listen beyond loopback without a token (:func:`check_admin_exposure`).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gta.emulator import _alerts as ops
from gta.emulator import _history as history
from gta.emulator import _models as m
from gta.emulator._clock import DAY_MS, format_ms, parse_rfc3339
from gta.emulator._problems import Problem
from gta.emulator._settings import FaultSettings
from gta.emulator._state import state_of

ADMIN_TOKEN_MIN_LENGTH = 16


def check_admin_exposure(host: str, admin_token: str | None) -> None:
    """Refuse (``ValueError``) to serve the admin API beyond loopback without a token."""
    if admin_token is None and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without an admin token: anyone who reaches the port "
            "could move the clock or inject faults; set one (--admin-token, or "
            "GTA_EMULATOR_ADMIN_TOKEN), or listen on 127.0.0.1"
        )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; any other name or address is exposed."""
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def require_admin(request: Request) -> None:
    """The router's guard: with an admin token set, the request must carry it."""
    token = state_of(request).settings.admin_token
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Problem(
            401,
            "the admin API needs the emulator's admin token as a bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="gta-emulator-admin"'},
        )


router = APIRouter(prefix="/_emulator", tags=["admin"], dependencies=[Depends(require_admin)])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": m.ProblemDetails, "description": "Unknown customer"}
}


@router.post("/activity", response_model=m.ActivityResult, responses=_NOT_FOUND)
async def activity(request: Request, body: m.ActivityRequest) -> m.ActivityResult:
    """Create new events (with detections, alerts and flows) and update existing events."""
    state = state_of(request)
    who = state.customer(body.customer_id)
    if who is None:
        raise Problem(404, "unknown customer id")
    changes = state.activity.run(who.index, body.new_events, body.updated_events)
    return m.ActivityResult(
        customerId=who.customer_id,
        newEventIds=changes.new_events,
        updatedEventIds=changes.updated_events,
        newThreatDetectionIds=changes.new_tds,
        updatedThreatDetectionIds=changes.updated_tds,
        newAlertIds=changes.new_alerts,
        newFlowCount=changes.new_flows,
        minMsn=changes.min_msn,
        maxMsn=changes.max_msn,
    )


@router.post("/clock", response_model=m.ClockResult)
async def clock(request: Request, body: m.ClockRequest) -> m.ClockResult:
    """Advance the emulated clock, then time out idle detections and empty alerts."""
    state = state_of(request)
    now = state.store.clock.advance(round(body.advance_days * DAY_MS))
    removed_tds, removed_alerts = state.activity.timeouts()
    state.store.save_clock()
    return m.ClockResult(
        now=format_ms(now),
        removedThreatDetectionIds=removed_tds,
        removedAlertIds=removed_alerts,
    )


@router.post(
    "/alerts/{alertId}/modified-at",
    response_model=m.Alert,
    responses={
        404: {
            "model": m.ProblemDetails,
            "content": {"application/problem+json": {}},
            "description": "Unknown customer or alert",
        }
    },
)
async def stamp_modified_at(request: Request, alertId: str, body: m.ModifiedAtRequest) -> Response:
    """Stamp an alert's ``modifiedAt`` with any time (e.g. in the future, as a server with a
    clock bug would), changing nothing else; answers the alert."""
    state = state_of(request)
    who = state.customer(body.customer_id)
    if who is None:
        raise Problem(404, "unknown customer id")
    try:
        ms = parse_rfc3339(body.modified_at)
    except ValueError as exc:
        raise Problem(400, str(exc)) from None
    doc = ops.stamp_modified_at(state.store, who.index, alertId, ms)
    if doc is None:
        raise Problem(404, "no such alert")
    return Response(doc, media_type="application/json")


@router.get("/faults", response_model=FaultSettings)
async def get_faults(request: Request) -> FaultSettings:
    """The fault switches in force."""
    return state_of(request).faults


@router.put("/faults", response_model=FaultSettings)
async def put_faults(request: Request, body: FaultSettings) -> FaultSettings:
    """Replace the fault switches (absent fields go back to their defaults: off)."""
    state = state_of(request)
    state.faults = body
    return body


@router.get("/stats", response_model=m.Stats)
async def stats(request: Request) -> m.Stats:
    """Counts per collection (all customers), the highest MSN and the emulated time."""
    state = state_of(request)
    store = state.store
    return m.Stats(
        now=format_ms(store.clock.now_ms()),
        maxMsn=store.max_msn,
        tokensIssued=state.tokens.issued,
        counts=m.CollectionCounts(**store.counts()),
        customers=[i.customer_id for i in store.identities],
    )


@router.get("/history", response_model=m.HistoryPage)
async def get_history(
    request: Request,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Rows with a greater seq (0: the start).")
    ] = 0,
    size: Annotated[int, Query(ge=1, le=10_000, description="Rows per page.")] = 10_000,
) -> Response:
    """Every version created or modified since the server started, and every removal (paged).

    What existed, not what was served: see ``gta.emulator._history``. The generated data set
    is the starting point and is not listed; read it from the collections.
    """
    store = state_of(request).store
    names = {i.index: i.customer_id for i in store.identities}
    # Built by hand (fields that do not apply are absent, not null); the model documents it.
    page = history.read(store.conn, names, after, size)
    return Response(orjson.dumps(page), media_type="application/json")
