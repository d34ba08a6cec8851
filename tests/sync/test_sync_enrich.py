"""Enrichment: chunks of at most 1000 ids, cache only assets and intel, LRU bounds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sync_fakes import FakeApi, FakeClient

from gta.sync import Enricher, LruCache


def test_chunks_of_1000_and_only_misses_are_searched() -> None:
    api = FakeApi()
    events = []
    for n in range(1500):
        api.put(
            "detections", {"id": f"td-{n}", "threatIntelRecordId": "ti-1", "alertIds": [f"al-{n}"]}
        )
        api.put("alerts", {"id": f"al-{n}", "risk": "Low", "modifiedAt": "2026-01-01T00:00:00Z"})
        api.put("assets", {"id": f"as-{n}", "assumedOwner": None})
        events.append(
            {"id": f"ev-{n}", "affectedAssetId": f"as-{n}", "threatDetectionIds": [f"td-{n}"]}
        )
    api.put("intel", {"id": "ti-1", "title": "T"})
    with ThreadPoolExecutor(4) as pool:
        enricher = Enricher(FakeClient(api), pool, cache_entries=2000)
        ctx = enricher.for_events(events)
        assert len(ctx.detections) == len(ctx.alerts) == len(ctx.assets) == 1500
        assert sorted(api.searches) == sorted(
            [("detections", 1000), ("detections", 500), ("assets", 1000), ("assets", 500),
             ("alerts", 1000), ("alerts", 500), ("intel", 1)]
        )  # fmt: skip
        api.searches.clear()
        again = enricher.for_events(events[:10])
        # Detections and alerts are loaded again (they change); assets and intel come from cache.
        assert sorted(k for k, _ in api.searches) == ["alerts", "detections"]
        assert again.asset("as-3") == {"id": "as-3", "assumedOwner": None}


def test_lru_evicts_oldest_and_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = LruCache(2, ttl_s=10)
    cache.put("a", {"id": "a"})
    cache.put("b", {"id": "b"})
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", {"id": "c"})
    assert cache.get("b") is None and len(cache) == 2
    import gta.sync._enrich as enrich

    now = enrich.time.monotonic()
    monkeypatch.setattr(enrich.time, "monotonic", lambda: now + 11)
    assert cache.get("a") is None and cache.get("c") is None
