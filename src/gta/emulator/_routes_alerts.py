"""Alert paths: list, get, search, status and note changes, and detections with alert ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from gta.emulator import _alerts as ops
from gta.emulator import _models as m
from gta.emulator import _store as st
from gta.emulator._paging_http import (
    AfterParam,
    AlertSortParam,
    BeforeParam,
    DateTimeParam,
    MsnSortParam,
    SizeParam,
    page_request,
    page_response,
    parse_instant,
)
from gta.emulator._problems import Problem
from gta.emulator._routes import ERRORS, NOT_FOUND, Customer, collection_page
from gta.emulator._state import state_of

router = APIRouter(tags=["alerts"])
AlertId = Annotated[str, Path(description="Alert id (64 hex characters)", max_length=200)]
_BASE = "/alert-management/customer/{customerId}"


def _alert_response(doc: bytes | None) -> Response:
    if doc is None:
        raise Problem(
            404, "no such alert (it may have been removed after its detections timed out)"
        )
    return Response(doc, media_type="application/json")


@router.get(f"{_BASE}/alerts", response_model=m.Page[m.Alert], responses=ERRORS)
async def list_alerts(
    request: Request,
    who: Customer,
    sort: AlertSortParam = None,
    triggeredAfter: Annotated[
        str | None, DateTimeParam("Only alerts triggered after this instant (exclusive).")
    ] = None,
    modifiedAfter: Annotated[
        str | None, DateTimeParam("Only alerts modified after this instant (exclusive).")
    ] = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Alerts by risk (Critical first) then id, or by ``triggeredAt:asc``."""
    coll = st.ALERTS_BY_TRIGGER if sort == "triggeredAt:asc" else st.ALERTS_BY_RISK
    filters = []
    triggered = parse_instant("triggeredAfter", triggeredAfter)
    modified = parse_instant("modifiedAfter", modifiedAfter)
    if triggered is not None:
        filters.append(st.Filter("triggered_at > ?", (triggered,)))
    if modified is not None:
        filters.append(st.Filter("modified_at > ?", (modified,)))
    req = page_request(coll.order, size, after, before)
    page = state_of(request).store.page(coll, who.index, req, filters)
    return page_response(request, coll.order, page)


@router.post(f"{_BASE}/alerts/search", response_model=m.Page[m.Alert], responses=ERRORS)
async def search_alerts(
    request: Request,
    who: Customer,
    body: m.AlertSearch,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Alerts by id, in the default order; unknown ids are simply absent."""
    ids = body.filter.alertIds
    return collection_page(request, st.ALERTS_BY_RISK, who.index, size, after, before, None, ids)


@router.get(
    f"{_BASE}/alerts/{{alertId}}", response_model=m.Alert, responses={**ERRORS, **NOT_FOUND}
)
async def get_alert(request: Request, who: Customer, alertId: AlertId) -> Response:
    """One alert; 404 once it has been removed."""
    return _alert_response(ops.get_alert(state_of(request).store, who.index, alertId))


@router.patch(
    f"{_BASE}/alerts/{{alertId}}/status",
    response_model=m.Alert,
    responses={**ERRORS, **NOT_FOUND},
)
async def set_status(
    request: Request,
    who: Customer,
    alertId: AlertId,
    body: m.StatusUpdate,
) -> Response:
    """Change the status; ``closingReasons`` only with ``Closed``. Returns the updated alert."""
    change = body.status
    if change.closingReasons is not None and change.value != "Closed":
        raise Problem(400, "closingReasons may only be given with the status Closed")
    store = state_of(request).store
    return _alert_response(
        ops.update_alert(
            store, who.index, alertId, ops.set_status(change.value, change.closingReasons)
        )
    )


@router.patch(
    f"{_BASE}/alerts/{{alertId}}/note",
    response_model=m.Alert,
    responses={**ERRORS, **NOT_FOUND},
)
async def set_note(
    request: Request,
    who: Customer,
    alertId: AlertId,
    body: m.NoteUpdate,
) -> Response:
    """Replace the note. Returns the updated alert."""
    store = state_of(request).store
    return _alert_response(ops.update_alert(store, who.index, alertId, ops.set_note(body.note)))


@router.delete(
    f"{_BASE}/alerts/{{alertId}}/note",
    status_code=204,
    response_class=Response,
    responses={**ERRORS, **NOT_FOUND},
)
async def delete_note(request: Request, who: Customer, alertId: AlertId) -> Response:
    """Remove the note (204)."""
    store = state_of(request).store
    _alert_response(ops.update_alert(store, who.index, alertId, ops.set_note(None)))
    return Response(status_code=204)


@router.post(
    f"{_BASE}/enriched-threat-detections-with-alert-ids/search",
    tags=["threat detections"],
    response_model=m.Page[m.EnrichedThreatDetection],
    responses=ERRORS,
)
async def search_threat_detections(
    request: Request,
    who: Customer,
    body: m.ThreatDetectionSearch,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Threat detections by id, with the ids of their alerts (which may since be gone)."""
    ids = body.filter.threatDetectionIds
    return collection_page(request, st.ENRICHED_TDS, who.index, size, after, before, None, ids)
