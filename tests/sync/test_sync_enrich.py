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


def test_a_detection_left_out_is_asked_again_beside_the_alerts_search() -> None:
    """Each id is still asked for twice at most, and what the second ask finds is enriched in
    full; but the second ask of the detections runs while the alerts of the others are being
    searched (a page with gaps costs three round trips, not four)."""
    import threading

    from sync_fakes import FakeSearch

    api = FakeApi()
    for name in ("one", "late"):
        api.put("detections", {"id": f"td-{name}", "threatIntelRecordId": "ti-1",
                               "alertIds": [f"al-{name}"]})  # fmt: skip
        api.put("alerts", {"id": f"al-{name}", "risk": "Low", "modifiedAt": "2026-01-01T00:00:00Z"})
    api.put("intel", {"id": "ti-1", "title": "T"})
    events = [
        {"id": f"ev-{n}", "affectedAssetId": None, "threatDetectionIds": [f"td-{n}"]}
        for n in ("one", "late", "gone")
    ]
    alerts_started = threading.Event()
    asks: list[list[str]] = []
    overlapped: list[bool] = []
    client = FakeClient(api)
    detections, alerts = client.threat_detections, client.alerts
    search_alerts = alerts.search

    def search_detections(ids: list[str]) -> FakeSearch:
        asks.append(sorted(ids))
        if len(asks) == 1:  # the first ask leaves out td-late (a passing glitch)
            ids = [i for i in ids if i != "td-late"]
        else:  # the second ask waits (at most 2 s) for the alerts search to be under way
            overlapped.append(alerts_started.wait(2.0))
        return FakeSearch(
            [{k: v for k, v in api.detections[i].items() if k != "_msn"}
             for i in ids if i in api.detections],
            api.searches, "detections", ids,
        )  # fmt: skip

    def search_alerts_marked(ids: list[str]) -> FakeSearch:
        alerts_started.set()
        return search_alerts(ids)

    detections.search_with_alert_ids = search_detections  # type: ignore[method-assign]
    alerts.search = search_alerts_marked  # type: ignore[method-assign]
    with ThreadPoolExecutor(4) as pool:
        ctx = Enricher(client, pool).for_events(events)
    assert asks == [["td-gone", "td-late", "td-one"], ["td-gone", "td-late"]]
    assert overlapped == [True]
    assert set(ctx.detections) == {"td-one", "td-late"}
    assert set(ctx.alerts) == {"al-one", "al-late"}
    assert ctx.gaps == {"threat detections": 1}
