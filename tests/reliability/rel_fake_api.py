"""A small, honest fake of the GTA API behind ``httpx.MockTransport``, into which a test injects
one lie at a time (a bad body, a wrong cursor), to see what the SDK and the sync make of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from gta import Client
from gta.client import Runtime

CID = "CTA123456789"
API = "https://api.test"
CLIENT_ID = "client-rel"
PASSWORD = "rel-Pa55word-never-shown"
TOKEN = "tok-rel-0123456789abcdef"

Lie = Callable[[httpx.Request, int], httpx.Response | None]


def event(msn: int) -> dict[str, Any]:
    det = f"td-{msn % 3}"
    return {
        "id": f"ev-{msn}",
        "detectedAt": "2026-01-01T00:00:00.000Z",
        "modifiedAt": f"2026-01-01T00:00:{msn % 60:02d}.000Z",
        "securityEventTypeId": 7,
        "title": f"event {msn}",
        "subtitle": "s",
        "affectedAssetId": f"as-{msn % 2}",
        "securityAnnotation": None,
        "threatDetectionIds": [det] if msn % 4 else [],
        "_msn": msn,
    }


@dataclass
class FakeApi:
    """Events with MSN 1..count in MSN order; detections, alerts, assets and intel to match."""

    count: int = 30
    lies: dict[str, Lie] = field(default_factory=dict)  # kind -> lie (None: answer honestly)
    calls: dict[str, int] = field(default_factory=dict)

    def events(self) -> list[dict[str, Any]]:
        return [event(m) for m in range(1, self.count + 1)]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = (
            "token"
            if path.endswith("/oauth2/token")
            else "events"
            if "enriched-events" in path
            else "detections"
            if "enriched-threat-detections" in path
            else "alerts"
            if "alerts/search" in path
            else "assets"
            if "assets/search" in path
            else "intel"
            if "records/search" in path
            else "other"
        )
        self.calls[kind] = self.calls.get(kind, 0) + 1
        lie = self.lies.get(kind)
        if lie is not None:
            told = lie(request, self.calls[kind])
            if told is not None:
                return told
        if kind == "token":
            return _json({"access_token": TOKEN, "token_type": "bearer", "expires_in": 600})
        if kind == "events":
            size = int(request.url.params.get("size", "1000"))
            after = int(request.url.params.get("after", "0"))
            items = [e for e in self.events() if e["_msn"] > after][:size]
            more = bool(items) and items[-1]["_msn"] < self.count
            return _json(page([_public(e) for e in items], items, more))
        ids = orjson.loads(request.content)["filter"]
        wanted = next(iter(ids.values()))
        if kind == "detections":
            found = [
                {
                    "id": i,
                    "alertIds": [f"al-{i}"],
                    "threatIntelRecordId": "ti-1",
                    "affectedAssetId": "as-0",
                    "confidence": 80,
                    "detectedAt": "2026-01-01T00:00:00.000Z",
                    "modifiedAt": "2026-01-01T00:00:00.000Z",
                }
                for i in wanted
            ]
        elif kind == "alerts":
            found = [
                {
                    "id": i,
                    "risk": "High",
                    "status": {"value": "New", "closingReasons": None},
                    "triggeredAt": "2026-01-01T00:00:00.000Z",
                    "modifiedAt": "2026-01-01T00:00:00.000Z",
                }
                for i in wanted
            ]
        elif kind == "assets":
            found = [{"id": i, "assumedOwner": "owner"} for i in wanted]
        else:
            found = [
                {"id": i, "title": "T", "category": "C", "subcategory": "S", "severity": 5}
                for i in wanted
            ]
        return _json({"items": found, "pageInfo": _info(None, None, False)})

    def client(self, **options: Any) -> Client:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return Client(
            CLIENT_ID,
            PASSWORD,
            securex_host="https://visibility.test",
            api_url=API,
            app_url="https://app.test",
            customer_id=CID,
            http_client=http,
            max_retries=2,
            _runtime=Runtime(sleep=lambda s: None),
            **options,
        )


def _public(e: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k != "_msn"}


def _info(start: str | None, end: str | None, more: bool) -> dict[str, Any]:
    return {
        "previous": None,
        "next": None,
        "hasPreviousPage": False,
        "hasNextPage": more,
        "startCursor": start,
        "endCursor": end,
    }


def page(items: list[dict[str, Any]], raw: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    start = str(raw[0]["_msn"]) if raw else None
    end = str(raw[-1]["_msn"]) if raw else None
    return {"items": items, "pageInfo": _info(start, end, more)}


def _json(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(body), headers={"content-type": "application/json"}
    )


def raw_response(content: bytes, ctype: str = "application/json", status: int = 200) -> Lie:
    """A lie: answer ``content`` as is (with ``ctype``) on the first call of its kind after the
    first page (so one good page is delivered before it)."""

    def lie(request: httpx.Request, call: int) -> httpx.Response | None:
        if call != 2:
            return None
        return httpx.Response(status, content=content, headers={"content-type": ctype})

    return lie
