"""The GTA API paths of API.md section 4, plus the token issuer and ``/auth/api-clients/me``."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from gta.emulator import _models as m
from gta.emulator import _store as st
from gta.emulator._auth import TokenError
from gta.emulator._paging_http import (
    AfterParam,
    BeforeParam,
    DateTimeParam,
    MsnSortParam,
    SizeParam,
    page_request,
    page_response,
    parse_instant,
)
from gta.emulator._settings import CustomerIdentity
from gta.emulator._state import state_of

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <access_token>")
_PROBLEM = {"model": m.ProblemDetails, "content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_PROBLEM, "description": "Malformed parameter or body"},
    401: {**_PROBLEM, "description": "Missing, malformed or expired token"},
    403: {**_PROBLEM, "description": "Another customer's path"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_PROBLEM, "description": "No such alert"}}


async def customer(
    request: Request,
    customerId: Annotated[str, Path(description="Customer id, e.g. CTA123456789")],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> CustomerIdentity:
    """The token's customer, who must own the path (401/403 Problem otherwise)."""
    return state_of(request).tokens.check_customer(request.headers.get("authorization"), customerId)


async def any_customer(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> CustomerIdentity:
    """Any valid token (the threat catalog and ``/me`` are not customer-scoped)."""
    return state_of(request).tokens.check(request.headers.get("authorization"))


Customer = Annotated[CustomerIdentity, Depends(customer)]
AnyCustomer = Annotated[CustomerIdentity, Depends(any_customer)]
router = APIRouter()


# -- auth --------------------------------------------------------------------------------


@router.post(
    "/iroh/oauth2/token",
    tags=["auth"],
    response_model=m.TokenResponse,
    responses={400: {"model": m.TokenErrorResponse, "description": "RFC 6749 error"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]}
                        },
                        "required": ["grant_type"],
                    }
                }
            },
        },
        "security": [{"clientBasic": []}],
    },
)
async def token(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Client credentials grant: HTTP Basic client id and password, form grant_type."""
    state = state_of(request)
    try:
        body = await request.body()
    except ClientDisconnect:  # the client went away mid-body: nobody to answer
        return Response(status_code=400)
    try:
        answer = state.tokens.issue(authorization, body, state.faults.token_ttl)
    except TokenError as exc:
        return _json(exc.body(), 400, {"Cache-Control": "no-store"})
    return _json(answer, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get(
    "/auth/api-clients/me",
    tags=["auth"],
    response_model=m.Me,
    responses={401: ERRORS[401]},
)
async def me(who: AnyCustomer) -> Response:
    """The identity of the token's API client: its customer id."""
    return _json({"identity": {"customerId": who.customer_id, "clientId": who.client_id}})


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


# -- collections ---------------------------------------------------------------------------


def collection_page(
    request: Request,
    coll: st.Collection,
    cust: int,
    size: int | None,
    after: str | None,
    before: str | None,
    filters: list[st.Filter] | None = None,
    ids: list[str] | None = None,
) -> Response:
    req = page_request(coll.order, size, after, before)
    page = state_of(request).store.page(coll, cust, req, filters or [], ids)
    return page_response(request, coll.order, page)


def _modified_after(request: Request, table: str, cust: int, after_ms: int) -> list[st.Filter]:
    """``modified_at > t`` as a keyset bound on the MSN (see Store.first_msn_modified_after)."""
    first = state_of(request).store.first_msn_modified_after(table, cust, after_ms)
    if first is None:
        return [st.Filter("0")]
    return [st.Filter("msn >= ?", (first,)), st.Filter("modified_at > ?", (after_ms,))]


@router.get(
    "/threat-detection/customer/{customerId}/threat-detections",
    tags=["threat detections"],
    response_model=m.Page[m.ThreatDetection],
    responses=ERRORS,
)
async def list_threat_detections(
    request: Request,
    who: Customer,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Threat detections in modification sequence order."""
    return collection_page(request, st.TDS, who.index, size, after, before)


@router.get(
    "/threat-detection/customer/{customerId}/enriched-events-with-threat-detection-ids",
    tags=["events"],
    response_model=m.Page[m.EnrichedEvent],
    responses=ERRORS,
)
async def list_enriched_events(
    request: Request,
    who: Customer,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
    detectedOrModifiedAfter: Annotated[
        str | None, DateTimeParam("Only events detected or modified after this instant.")
    ] = None,
) -> Response:
    """Events with the ids of their threat detections (empty list: a contextual event)."""
    since = parse_instant("detectedOrModifiedAfter", detectedOrModifiedAfter)
    filters = [] if since is None else _modified_after(request, "events", who.index, since)
    return collection_page(request, st.ENRICHED_EVENTS, who.index, size, after, before, filters)


@router.post(
    "/threat-detection/customer/{customerId}/enriched-events-with-threat-detection-ids/search",
    tags=["events"],
    response_model=m.Page[m.EnrichedEvent],
    responses=ERRORS,
)
async def search_enriched_events(
    request: Request,
    who: Customer,
    body: m.EventSearch,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Enriched events by id (the vendor's flow script uses this search)."""
    ids = body.filter.securityEventIds
    return collection_page(request, st.ENRICHED_EVENTS, who.index, size, after, before, None, ids)


@router.get(
    "/event-detection/customer/{customerId}/events",
    tags=["events"],
    response_model=m.Page[m.Event],
    responses=ERRORS,
)
async def list_events(
    request: Request,
    who: Customer,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Events in modification sequence order."""
    return collection_page(request, st.EVENTS, who.index, size, after, before)


@router.post(
    "/event-detection/customer/{customerId}/events/search",
    tags=["events"],
    response_model=m.Page[m.Event],
    responses=ERRORS,
)
async def search_events(
    request: Request,
    who: Customer,
    body: m.EventSearch,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Events, optionally restricted to ``securityEventIds``."""
    ids = body.filter.securityEventIds
    return collection_page(request, st.EVENTS, who.index, size, after, before, None, ids)


@router.post(
    "/event-detection/customer/{customerId}/flows/search",
    tags=["flows"],
    response_model=m.Page[m.Flow],
    responses=ERRORS,
)
async def search_flows(
    request: Request,
    who: Customer,
    body: m.FlowSearch,
    sort: MsnSortParam = None,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Flows, optionally only those of the events in ``securityEventIds``."""
    filters = []
    event_ids = body.filter.securityEventIds
    if event_ids is not None:
        if not event_ids:
            filters.append(st.Filter("0"))
        else:
            filters.append(
                st.Filter(
                    "event_id IN (SELECT value FROM json_each(?))",
                    (orjson.dumps(event_ids).decode(),),
                )
            )
    return collection_page(request, st.FLOWS, who.index, size, after, before, filters)


@router.post(
    "/asset-management/customer/{customerId}/assets/search",
    tags=["assets"],
    response_model=m.Page[m.Asset],
    responses=ERRORS,
)
async def search_assets(
    request: Request,
    who: Customer,
    body: m.AssetSearch,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Assets by id (the filter key is singular: ``assetId``)."""
    return collection_page(
        request, st.ASSETS, who.index, size, after, before, None, body.filter.assetId
    )


async def _search_threat_intel(
    request: Request,
    body: m.ThreatIntelSearch,
    size: int | None,
    after: str | None,
    before: str | None,
) -> Response:
    ids = body.filter.threatIntelRecordId
    return collection_page(request, st.THREAT_INTEL, 0, size, after, before, None, ids)


@router.post(
    "/threat-catalog/records/search",
    tags=["threat catalog"],
    response_model=m.Page[m.ThreatIntelRecord],
    responses={400: ERRORS[400], 401: ERRORS[401]},
)
async def search_threat_intel(
    request: Request,
    _who: AnyCustomer,
    body: m.ThreatIntelSearch,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """Threat-intel records by id (not customer-scoped; singular key ``threatIntelRecordId``)."""
    return await _search_threat_intel(request, body, size, after, before)


@router.post(
    "/threat-catalog/records",
    tags=["threat catalog"],
    response_model=m.Page[m.ThreatIntelRecord],
    responses={400: ERRORS[400], 401: ERRORS[401]},
)
async def search_threat_intel_legacy(
    request: Request,
    _who: AnyCustomer,
    body: m.ThreatIntelSearch,
    size: SizeParam = None,
    after: AfterParam = None,
    before: BeforeParam = None,
) -> Response:
    """The same search at the path the vendor's example script posts to."""
    return await _search_threat_intel(request, body, size, after, before)
