"""The ceiling: fetch everything a sync of enriched events needs, and do nothing else.

Any client of this server, on this machine, needs at least this: every page of enriched events
(size 1000, ``sort=modificationSequenceNumber``, ``after=<endCursor>``) and the bulk lookups the
annotation rows need (ThreatDetections with alert ids and Assets for each page's new ids, then the
Alerts and threat-intel records those detections name), each id fetched once, in chunks of at most
1000 ids. Responses are decoded (orjson, the fastest decoder at hand) and nothing more: no models,
no formatting, no writing. Requests overlap as much as is sensible: the page chain is inherently
sequential (each cursor comes from the previous page; cursors are opaque, so we do not split the
key range), but each page's lookups run on a thread pool while the next page is fetched.

Run as a script (it imports nothing from the benchmarks package, so its memory is its own)::

    python benchmarks/limit.py --summary summary.json

Credentials come from the same environment variables as ``gta`` (the emulator prints them).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import orjson

PAGE_SIZE = 1000
CHUNK = 1000
TOKEN_MAX_AGE_S = 480.0  # tokens live 600 s; renew well before

# kind -> (path template, filter key); {cid} is the customer id
SEARCHES: dict[str, tuple[str, str]] = {
    "detections": (
        "/alert-management/customer/{cid}/enriched-threat-detections-with-alert-ids/search",
        "threatDetectionIds",
    ),
    "assets": ("/asset-management/customer/{cid}/assets/search", "assetId"),
    "alerts": ("/alert-management/customer/{cid}/alerts/search", "alertIds"),
    "intel": ("/threat-catalog/records/search", "threatIntelRecordId"),
}
EVENTS_PATH = "/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids"


def _with_scheme(host: str) -> str:
    return host if host.startswith(("http://", "https://")) else f"https://{host}"


class Api:
    """A thread-safe, token-carrying httpx client for the few calls the ceiling makes."""

    def __init__(self, env: dict[str, str], concurrency: int) -> None:
        self._client_id = env["SECUREX_CLIENT_ID"]
        self._password = env["SECUREX_CLIENT_PASSWORD"]
        self._token_url = _with_scheme(env["SECUREX_VISIBILITY_HOST_NAME"]) + "/iroh/oauth2/token"
        self.api_url = env.get("GTA_API_URL", "https://api.cta.eu.amp.cisco.com").rstrip("/")
        self._app_url = env.get("GTA_APP_URL", "https://cta.eu.amp.cisco.com").rstrip("/")
        pool = concurrency + 4
        self.http = httpx.Client(
            timeout=120.0,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )
        self._lock = threading.Lock()
        self._token = ""
        self._token_at = 0.0
        self._count_lock = threading.Lock()
        self.requests = 0
        cid = env.get("GTA_CUSTOMER_ID")
        self.customer_id = cid if cid else self._discover_customer_id()

    def auth_headers(self) -> dict[str, str]:
        with self._lock:
            if not self._token or time.monotonic() - self._token_at > TOKEN_MAX_AGE_S:
                response = self.http.post(
                    self._token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self._client_id, self._password),
                    headers={"Accept": "application/json"},
                )
                response.raise_for_status()
                self._token = orjson.loads(response.content)["access_token"]
                self._token_at = time.monotonic()
            return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _discover_customer_id(self) -> str:
        response = self.http.get(
            f"{self._app_url}/auth/api-clients/me", headers=self.auth_headers()
        )
        response.raise_for_status()
        customer_id: str = orjson.loads(response.content)["identity"]["customerId"]
        return customer_id

    def get(self, path: str, params: dict[str, str | int]) -> dict[str, Any]:
        response = self.http.get(self.api_url + path, params=params, headers=self.auth_headers())
        response.raise_for_status()
        with self._count_lock:
            self.requests += 1
        page: dict[str, Any] = orjson.loads(response.content)
        return page

    def post(self, path: str, params: dict[str, str | int], body: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.auth_headers(), "Content-Type": "application/json"}
        response = self.http.post(
            self.api_url + path, params=params, content=orjson.dumps(body), headers=headers
        )
        response.raise_for_status()
        with self._count_lock:
            self.requests += 1
        page: dict[str, Any] = orjson.loads(response.content)
        return page


def chunks(ids: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    """Split ``ids`` into lists of at most ``size`` (the API's cap on a search filter)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Ceiling:
    """Fetches the page chain on the calling thread and each page's lookups on a pool."""

    def __init__(self, api: Api, concurrency: int) -> None:
        self.api = api
        self._requests = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="req")
        self._pages = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="page")
        self._in_flight = threading.BoundedSemaphore(concurrency)
        self._seen: dict[str, set[str]] = {kind: set() for kind in SEARCHES}
        self._lock = threading.Lock()
        self.fetched: dict[str, int] = dict.fromkeys(SEARCHES, 0)

    def _claim(self, kind: str, ids: Iterable[str | None]) -> list[str]:
        """The ids of ``kind`` never requested before, marked as requested."""
        with self._lock:
            seen = self._seen[kind]
            new = [i for i in dict.fromkeys(ids) if i and i not in seen]
            seen.update(new)
            return new

    def _search_chunk(self, kind: str, ids: list[str]) -> list[dict[str, Any]]:
        template, key = SEARCHES[kind]
        path = template.format(cid=self.api.customer_id)
        items: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"size": PAGE_SIZE}
        while True:
            page = self.api.post(path, params, {"filter": {key: ids}})
            items.extend(page["items"])
            info = page["pageInfo"]
            if not page["items"] or not info.get("hasNextPage") or not info.get("endCursor"):
                return items
            params = {"size": PAGE_SIZE, "after": info["endCursor"]}

    def _search(self, kind: str, ids: list[str]) -> list[Future[list[dict[str, Any]]]]:
        return [self._requests.submit(self._search_chunk, kind, c) for c in chunks(ids)]

    def _gather(self, kind: str, futures: list[Future[list[dict[str, Any]]]]) -> list[Any]:
        items = [item for future in futures for item in future.result()]
        with self._lock:
            self.fetched[kind] += len(items)
        return items

    def _enrich(self, events: list[dict[str, Any]]) -> None:
        try:
            detection_ids = (d for e in events for d in e.get("threatDetectionIds") or ())
            detections_f = self._search("detections", self._claim("detections", detection_ids))
            assets_f = self._search(
                "assets", self._claim("assets", (e.get("affectedAssetId") for e in events))
            )
            detections = self._gather("detections", detections_f)
            alert_ids = (a for d in detections for a in d.get("alertIds") or ())
            alerts_f = self._search("alerts", self._claim("alerts", alert_ids))
            intel_ids = (d.get("threatIntelRecordId") for d in detections)
            intel_f = self._search("intel", self._claim("intel", intel_ids))
            self._gather("assets", assets_f)
            self._gather("alerts", alerts_f)
            self._gather("intel", intel_f)
        finally:
            self._in_flight.release()

    def run(self) -> dict[str, Any]:
        path = EVENTS_PATH.format(cid=self.api.customer_id)
        base: dict[str, str | int] = {"sort": "modificationSequenceNumber", "size": PAGE_SIZE}
        after: str | None = None
        cursors: list[str | None] = []  # the `after` of every non-empty page, for latency probes
        jobs: list[Future[None]] = []
        events = 0
        while True:
            params = dict(base) if after is None else {**base, "after": after}
            page = self.api.get(path, params)
            items: list[dict[str, Any]] = page["items"]
            if items:
                cursors.append(after)
                events += len(items)
                self._in_flight.acquire()
                jobs.append(self._pages.submit(self._enrich, items))
                after = page["pageInfo"].get("endCursor") or after
            if not items or not page["pageInfo"].get("hasNextPage"):
                break
        for job in jobs:
            job.result()  # re-raises a failed lookup
        self._pages.shutdown()
        self._requests.shutdown()
        return {"events": events, "pages": len(cursors), "cursors": cursors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", help="write a JSON summary (counts, page cursors) here")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    api = Api(dict(os.environ), args.concurrency)
    try:
        ceiling = Ceiling(api, args.concurrency)
        result = ceiling.run()
        result["fetched"] = ceiling.fetched
    finally:
        api.http.close()
    return _finish(result, api, started, args.summary)


def _finish(result: dict[str, Any], api: Api, started: float, summary: str | None) -> int:
    result["requests"] = api.requests
    result["elapsed_s"] = time.perf_counter() - started
    if summary:
        with open(summary, "wb") as f:
            f.write(orjson.dumps(result))
    sys.stderr.write(f"limit: {result['events']} events, {api.requests} requests\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
