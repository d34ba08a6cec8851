"""An in-memory stand-in for the SDK surface the sync engine uses (no HTTP).

It keeps the API's paging rules (MSN order with ``after``, alerts in risk/id order with
``modifiedAfter`` strictly greater) so engine tests can check cursor logic without the emulator.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

RISK_ORDER = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}


@dataclass
class FakePage:
    items: list[dict[str, Any]]


class FakePager:
    """Pages of ``fetch(after) -> (items, end_cursor, has_next)``, like ``Pager.raw()``."""

    def __init__(
        self,
        fetch: Callable[[str | None], tuple[list[dict[str, Any]], str | None, bool]],
        after: str | None,
    ) -> None:
        self._fetch = fetch
        self._after = after
        self.end_cursor = after

    def raw(self) -> FakePager:
        return self

    def pages(self) -> Iterator[FakePage]:
        cursor = self._after
        while True:
            items, end, more = self._fetch(cursor)
            if items and end is not None:
                self.end_cursor = end
            yield FakePage([dict(i) for i in items])
            if not items or not more:
                return
            cursor = end


class FakeSearch:
    def __init__(
        self, found: list[dict[str, Any]], log: list[tuple[str, int]], kind: str, ids: list[str]
    ) -> None:
        assert ids, "the engine must not send an empty id list"
        assert len(ids) <= 1000, "chunks of at most 1000 ids"
        log.append((kind, len(ids)))
        self._found = found

    def raw(self) -> list[dict[str, Any]]:
        return [dict(f) for f in self._found]


class FakeApi:
    """Objects by kind; every create/update takes the next modification sequence number."""

    def __init__(self) -> None:
        self.msn = itertools.count(1)
        self.events: dict[str, dict[str, Any]] = {}
        self.detections: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, dict[str, Any]] = {}
        self.intel: dict[str, dict[str, Any]] = {}
        self.searches: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.fail_after_pages: int | None = None  # raise on the n-th page fetch (crash tests)
        self.page_fetches = 0

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        table: dict[str, dict[str, Any]] = getattr(self, kind)
        stored = dict(obj)
        stored["_msn"] = next(self.msn)
        table[obj["id"]] = stored
        return stored

    def _msn_fetch(
        self, table: dict[str, dict[str, Any]], size: int
    ) -> Callable[[str | None], tuple[list[dict[str, Any]], str | None, bool]]:
        def fetch(after: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
            self.page_fetches += 1
            if self.fail_after_pages is not None and self.page_fetches > self.fail_after_pages:
                raise ConnectionError("injected failure")
            start = int(after) if after else 0
            with self.lock:
                rows = sorted(
                    (o for o in table.values() if o["_msn"] > start), key=lambda o: o["_msn"]
                )
            page = rows[:size]
            items = [{k: v for k, v in o.items() if k != "_msn"} for o in page]
            end = str(page[-1]["_msn"]) if page else None
            return items, end, len(rows) > size

        return fetch


class FakeClient:
    """``client.events.enriched(...)``, ``client.alerts.list(...)`` and the bulk searches."""

    customer_id = "CTA000000042"

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.events = _Events(api)
        self.threat_detections = _Detections(api)
        self.flows = _Flows(api)
        self.alerts = _Alerts(api)
        self.assets = _Lookup(api, "assets")
        self.threat_intel = _Lookup(api, "intel")


class _Events:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def enriched(self, *, after: str | None = None, size: int | None = None) -> FakePager:
        return FakePager(self.api._msn_fetch(self.api.events, size or 1000), after)


class _Detections:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def list(self, *, after: str | None = None, size: int | None = None) -> FakePager:
        table = {
            k: {kk: vv for kk, vv in v.items() if kk != "alertIds"}
            for k, v in self.api.detections.items()
        }
        return FakePager(self.api._msn_fetch(table, size or 1000), after)

    def search_with_alert_ids(self, ids: list[str]) -> FakeSearch:
        found = [
            {k: v for k, v in self.api.detections[i].items() if k != "_msn"}
            for i in ids
            if i in self.api.detections
        ]
        return FakeSearch(found, self.api.searches, "detections", ids)


class _Flows:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def search(self, *, after: str | None = None, size: int | None = None) -> FakePager:
        return FakePager(self.api._msn_fetch(self.api.flows, size or 1000), after)


class _Alerts:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def list(
        self,
        *,
        modified_after: str | None = None,
        after: str | None = None,
        size: int | None = None,
    ) -> FakePager:
        from datetime import datetime

        size = size or 1000

        def key(a: dict[str, Any]) -> tuple[int, str]:
            return RISK_ORDER[a["risk"]], a["id"]

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
            rows = list(self.api.alerts.values())
            if modified_after:
                floor = datetime.fromisoformat(modified_after)
                rows = [a for a in rows if datetime.fromisoformat(a["modifiedAt"]) > floor]
            rows.sort(key=key)
            if cursor:
                risk, aid = cursor.split(",", 1)
                rows = [a for a in rows if key(a) > (RISK_ORDER[risk], aid)]
            page = rows[:size]
            items = [{k: v for k, v in a.items() if k != "_msn"} for a in page]
            end = f"{page[-1]['risk']},{page[-1]['id']}" if page else None
            return items, end, len(rows) > size

        return FakePager(fetch, after)

    def search(self, ids: list[str]) -> FakeSearch:
        found = [
            {k: v for k, v in self.api.alerts[i].items() if k != "_msn"}
            for i in ids
            if i in self.api.alerts
        ]
        return FakeSearch(found, self.api.searches, "alerts", ids)


class _Lookup:
    def __init__(self, api: FakeApi, kind: str) -> None:
        self.api = api
        self.kind = kind

    def search(self, ids: list[str]) -> FakeSearch:
        table: dict[str, dict[str, Any]] = getattr(self.api, self.kind)
        found = [{k: v for k, v in table[i].items() if k != "_msn"} for i in ids if i in table]
        return FakeSearch(found, self.api.searches, self.kind, ids)


def seed(api: FakeApi, events: int = 50) -> None:
    """A small consistent world: assets, intel, detections with alerts, events of both kinds."""
    for n in range(5):
        api.put("assets", {"id": f"asset-{n}", "assumedOwner": f"owner{n}@example.com"})
        api.put(
            "intel",
            {
                "id": f"ti-{n}",
                "title": f"Threat {n}",
                "category": "Malware",
                "subcategory": "Trojan",
                "severity": 50 + n,
            },
        )
    for n in range(10):
        ts = f"2026-01-01T00:{n:02d}:00.000Z"
        api.put(
            "alerts",
            {
                "id": f"alert-{n}",
                "risk": ["Critical", "High", "Medium", "Low"][n % 4],
                "status": {"value": "New", "closingReasons": None},
                "etaFlag": None,
                "note": None,
                "triggeredAt": ts,
                "modifiedAt": ts,
            },
        )
        api.put(
            "detections",
            {
                "id": f"td-{n}",
                "affectedAssetId": f"asset-{n % 5}",
                "confidence": 90,
                "threatIntelRecordId": f"ti-{n % 5}",
                "detectedAt": ts,
                "modifiedAt": ts,
                "alertIds": [f"alert-{n}"],
            },
        )
    for n in range(events):
        ts = f"2026-01-02T00:00:{n % 60:02d}.000Z"
        tds = [] if n % 3 == 0 else [f"td-{n % 10}"]
        api.put(
            "events",
            {
                "id": f"ev-{n}",
                "detectedAt": ts,
                "modifiedAt": ts,
                "securityEventTypeId": 7,
                "title": f"Event {n}",
                "subtitle": "sub",
                "affectedAssetId": f"asset-{n % 5}",
                "securityAnnotation": None,
                "threatDetectionIds": tds,
            },
        )
        api.put(
            "flows",
            {"id": f"flow-{n}", "timeStamp": ts, "networkSecurityEventId": f"ev-{n}", "bytes": n},
        )
