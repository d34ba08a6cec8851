"""Plain-httpx helpers for emulator tests (no SDK): tokens, pages, whole collections."""

from __future__ import annotations

import atexit
from typing import Any

import httpx

from gta.emulator import RunningEmulator

# Shared: making an httpx client (its TLS context) costs more than a loopback call.
HTTP = httpx.Client(timeout=30)
atexit.register(HTTP.close)


def token(emu: RunningEmulator, customer: int = 0) -> str:
    who = emu.customers[customer]
    response = HTTP.post(
        f"{emu.url}/iroh/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(who.client_id, who.client_password),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def client(emu: RunningEmulator, customer: int = 0) -> httpx.Client:
    """An httpx client on the emulator's origin, already holding a bearer token."""
    return httpx.Client(
        base_url=emu.url,
        headers={"Authorization": f"Bearer {token(emu, customer)}"},
        timeout=30,
    )


def walk(
    http: httpx.Client,
    path: str,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    direction: str = "after",
    start: str | None = None,
) -> list[dict[str, Any]]:
    """Every item of a collection, paging by cursor (forward with after, backward with before)."""
    params = dict(params or {})
    cursor = start
    items: list[dict[str, Any]] = []
    for _ in range(100_000):
        query = dict(params)
        if cursor is not None:
            query[direction] = cursor
        if body is None:
            response = http.get(path, params=query)
        else:
            response = http.post(path, params=query, json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        info = page["pageInfo"]
        if direction == "after":
            items.extend(page["items"])
            if not info["hasNextPage"]:
                return items
            cursor = info["endCursor"]
        else:
            items[:0] = page["items"]
            if not info["hasPreviousPage"]:
                return items
            cursor = info["startCursor"]
    raise AssertionError("pagination did not end")


def paths(customer_id: str) -> dict[str, str]:
    cid = customer_id
    return {
        "alerts": f"/alert-management/customer/{cid}/alerts",
        "alerts_search": f"/alert-management/customer/{cid}/alerts/search",
        "tds_search": (
            f"/alert-management/customer/{cid}/enriched-threat-detections-with-alert-ids/search"
        ),
        "tds": f"/threat-detection/customer/{cid}/threat-detections",
        "enriched": f"/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids",
        "events": f"/event-detection/customer/{cid}/events",
        "events_search": f"/event-detection/customer/{cid}/events/search",
        "flows_search": f"/event-detection/customer/{cid}/flows/search",
        "assets_search": f"/asset-management/customer/{cid}/assets/search",
        "catalog_search": "/threat-catalog/records/search",
    }
