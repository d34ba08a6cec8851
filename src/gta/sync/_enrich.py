"""Per-page enrichment: bulk-load the parents a page refers to, and hand formats a context.

What is cached, and why (docs/sync.md explains it to users):
- Assets and threat-intel records change rarely and are referred to over and over, so they live
  in a bounded LRU cache with a long time-to-live; a hit costs no request.
- ThreatDetections and Alerts change (status, risk, alert ids), and an event is re-delivered
  precisely when something about it changed; serving it with an hour-old alert would label it
  wrongly. They are therefore loaded fresh for every page and kept only for that page. One page
  of 1000 events needs one detection search and one alert search (ids are chunked at 1000), so
  correctness costs two requests per thousand events.

Lookups of one page run concurrently on a small thread pool: detections with assets, then
alerts with threat-intel records (the second pair needs ids from the first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gta._context import in_context
from gta._time import format_rfc3339
from gta.formats import ApiObject, string_list, unique
from gta.sync._sdk import SyncClient

CHUNK = 1000
"""Most ids the API accepts in one search filter."""

Fetch = Callable[[list[str]], Iterable[ApiObject]]

# The kinds of parent a lookup can fail to return (the keys of ``PageContext.gaps``).
DETECTIONS, ALERTS, ASSETS, INTEL = "threat detections", "alerts", "assets", "threat-intel records"


def utc_now() -> str:
    """Real UTC now, RFC 3339 with milliseconds and ``Z`` (the vendor script wrote local time
    labelled ``Z``)."""
    return format_rfc3339(datetime.now(UTC))


class LruCache:
    """A thread-safe LRU map with a size bound and an optional time-to-live per entry."""

    def __init__(self, max_entries: int, ttl_s: float | None = None) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._data: OrderedDict[str, tuple[float, ApiObject]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> ApiObject | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None or (
                self.ttl_s is not None and time.monotonic() - entry[0] > self.ttl_s
            ):
                if entry is not None:
                    del self._data[key]
                return None
            self._data.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: ApiObject) -> None:
        if self.max_entries == 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class PageContext:
    """The parents of one page, as ``FormatContext`` wants them. Immutable once built, so a
    format sees the same context for every object of the page."""

    index_time: str
    customer_id: str | None = None
    detections: dict[str, ApiObject] = field(default_factory=dict)
    alerts: dict[str, ApiObject] = field(default_factory=dict)
    assets: dict[str, ApiObject] = field(default_factory=dict)
    intel: dict[str, ApiObject] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)
    """Ids the API did not return, even when asked twice, by kind (``GAP_KINDS``)."""

    def detection(self, detection_id: str) -> ApiObject | None:
        return self.detections.get(detection_id)

    def alert(self, alert_id: str) -> ApiObject | None:
        return self.alerts.get(alert_id)

    def asset(self, asset_id: str) -> ApiObject | None:
        return self.assets.get(asset_id)

    def threat_intel(self, record_id: str) -> ApiObject | None:
        return self.intel.get(record_id)


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` ids."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _by_id(fetch: Fetch, ids: list[str]) -> dict[str, ApiObject]:
    """The objects of ``ids`` that the API returned, asking once more for any it left out.

    A search that answers 200 with fewer items than asked is either a passing glitch (asked
    again, it answers) or a parent that is really gone (an alert removed after its detections
    timed out). One more request tells them apart; what is still missing is reported as a gap
    by the caller, never dropped in silence.
    """
    found = _once(fetch, ids)
    missing = [oid for oid in ids if oid not in found]
    if missing:
        found.update(_once(fetch, missing))
    return found


def _once(fetch: Fetch, ids: list[str]) -> dict[str, ApiObject]:
    """The objects of ``ids`` the API returned to one ask (chunked)."""
    found: dict[str, ApiObject] = {}
    for chunk in chunks(ids):
        for obj in fetch(chunk):
            oid = obj.get("id")
            if isinstance(oid, str):
                found[oid] = obj
    return found


def gaps_of(*lookups: tuple[str, list[str], dict[str, ApiObject]]) -> dict[str, int]:
    """``kind -> ids asked for but not found``, for each (kind, asked, found) that came back
    short."""
    counts: dict[str, int] = {}
    for kind, asked, found in lookups:
        missing = sum(1 for oid in asked if oid not in found)
        if missing:
            counts[kind] = missing
    return counts


class Enricher:
    """Loads a page's parents through the SDK, using the caches and a thread pool."""

    def __init__(
        self,
        client: SyncClient,
        executor: Executor,
        *,
        cache_entries: int = 5_000,
        cache_ttl_s: float | None = 3600.0,
    ) -> None:
        self._client = client
        self._executor = executor
        self.assets = LruCache(cache_entries, cache_ttl_s)
        self.intel = LruCache(cache_entries, cache_ttl_s)
        self.requests = 0  # search requests issued (chunks), for tests and stats

    @property
    def customer_id(self) -> str | None:
        """The client's customer id (known once the first page was fetched); ``None`` for a
        client without one (test doubles)."""
        value = getattr(self._client, "customer_id", None)
        return value if isinstance(value, str) else None

    def bare(self) -> PageContext:
        """A context without parents, for streams that need none (alerts, flows)."""
        return PageContext(index_time=utc_now(), customer_id=self.customer_id)

    # The four bulk searches, raw dicts on the hot path.
    def _detections(self, ids: list[str]) -> Iterable[ApiObject]:
        self.requests += 1
        return list(self._client.threat_detections.search_with_alert_ids(ids).raw())

    def _alerts(self, ids: list[str]) -> Iterable[ApiObject]:
        self.requests += 1
        return list(self._client.alerts.search(ids).raw())

    def _assets(self, ids: list[str]) -> Iterable[ApiObject]:
        self.requests += 1
        return list(self._client.assets.search(ids).raw())

    def _intel(self, ids: list[str]) -> Iterable[ApiObject]:
        self.requests += 1
        return list(self._client.threat_intel.search(ids).raw())

    def _cached(self, cache: LruCache, fetch: Fetch, ids: list[str]) -> dict[str, ApiObject]:
        """Hits from the cache; only the misses are searched, then remembered."""
        found: dict[str, ApiObject] = {}
        missing: list[str] = []
        for oid in ids:
            hit = cache.get(oid)
            if hit is None:
                missing.append(oid)
            else:
                found[oid] = hit
        if missing:
            for oid, obj in _by_id(fetch, missing).items():
                cache.put(oid, obj)
                found[oid] = obj
        return found

    def _submit(self, fn: Callable[[], dict[str, ApiObject]]) -> Future[dict[str, ApiObject]]:
        return self._executor.submit(in_context(fn))  # lookups keep the page's job and stream

    def for_events(self, events: Sequence[ApiObject]) -> PageContext:
        """Detections (with alert ids) and assets, then alerts and threat-intel records."""
        detection_ids = unique(d for e in events for d in string_list(e.get("threatDetectionIds")))
        asset_ids = unique(e.get("affectedAssetId") for e in events)
        return self._load(detection_ids, asset_ids)

    def for_detections(self, detections: Sequence[ApiObject]) -> PageContext:
        """The enriched form of each detection (for its alert ids), assets and intel records;
        the alerts themselves are not loaded: a detection row names them by id."""
        detection_ids = unique(d.get("id") for d in detections)
        asset_ids = unique(d.get("affectedAssetId") for d in detections)
        intel_ids = unique(d.get("threatIntelRecordId") for d in detections)
        det_f = self._submit(lambda: _by_id(self._detections, detection_ids))
        asset_f = self._submit(lambda: self._cached(self.assets, self._assets, asset_ids))
        intel_f = self._submit(lambda: self._cached(self.intel, self._intel, intel_ids))
        found, assets, intel = det_f.result(), asset_f.result(), intel_f.result()
        return PageContext(
            index_time=utc_now(),
            customer_id=self.customer_id,
            detections=found,
            assets=assets,
            intel=intel,
            gaps=gaps_of(
                (DETECTIONS, detection_ids, found),
                (ASSETS, asset_ids, assets),
                (INTEL, intel_ids, intel),
            ),
        )

    def _load(self, detection_ids: list[str], asset_ids: list[str]) -> PageContext:
        """Every id is asked for at most twice, as ``_by_id`` does, but the second ask of the
        detections a search left out runs beside the alerts of those it returned: three
        round trips for a page with gaps instead of four (a detection found only at the second
        ask costs a fourth, for its alerts)."""
        det_f = self._submit(lambda: _once(self._detections, detection_ids))
        asset_f = self._submit(lambda: self._cached(self.assets, self._assets, asset_ids))
        detections = det_f.result()
        retry_ids = [oid for oid in detection_ids if oid not in detections]
        retry_f = self._submit(lambda: _once(self._detections, retry_ids)) if retry_ids else None
        alerts, intel, late = self._alerts_and_intel(detections, retry_f)
        if late:  # detections found at the second ask: their alerts and records too
            detections.update(late)
            more_alerts, more_intel, _ = self._alerts_and_intel(late, None)
            alerts.update(more_alerts)
            intel.update(more_intel)
        alert_ids = unique(a for d in detections.values() for a in string_list(d.get("alertIds")))
        intel_ids = unique(d.get("threatIntelRecordId") for d in detections.values())
        assets = asset_f.result()
        return PageContext(
            index_time=utc_now(),
            customer_id=self.customer_id,
            detections=detections,
            alerts=alerts,
            assets=assets,
            intel=intel,
            gaps=gaps_of(
                (DETECTIONS, detection_ids, detections),
                (ALERTS, alert_ids, alerts),
                (ASSETS, asset_ids, assets),
                (INTEL, intel_ids, intel),
            ),
        )

    def _alerts_and_intel(
        self,
        detections: dict[str, ApiObject],
        retry_f: Future[dict[str, ApiObject]] | None,
    ) -> tuple[dict[str, ApiObject], dict[str, ApiObject], dict[str, ApiObject]]:
        """The alerts (each asked for at most twice) and threat-intel records of
        ``detections``, while ``retry_f`` (the second ask of missing detections) runs; returns
        them and what that second ask found."""
        alert_ids = unique(a for d in detections.values() for a in string_list(d.get("alertIds")))
        intel_ids = unique(d.get("threatIntelRecordId") for d in detections.values())
        alert_f = self._submit(lambda: _by_id(self._alerts, alert_ids))
        intel_f = self._submit(lambda: self._cached(self.intel, self._intel, intel_ids))
        late = retry_f.result() if retry_f is not None else {}
        return alert_f.result(), intel_f.result(), late
