"""The engine against an in-memory API: joins, checkpoints after flush, resumption, stop."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sync_fakes import FakeApi, FakeClient, seed

from gta.formats import get_format
from gta.sinks import Record, SinkError
from gta.sync import CheckpointStore, Job, get_stream, prefetch, run_job, run_stream


class ListSink:
    """Records in memory; ``flushed`` is what a crash would keep."""

    name = "list"
    rejected = 0  # the Sink protocol: it never drops a record

    def __init__(self, fail_on_flush: int | None = None) -> None:
        self.pending: list[Record] = []
        self.flushed: list[Record] = []
        self.flushes = 0
        self.fail_on_flush = fail_on_flush

    def write(self, records: Sequence[Record]) -> None:
        self.pending.extend(records)

    def flush(self) -> None:
        self.flushes += 1
        if self.fail_on_flush is not None and self.flushes >= self.fail_on_flush:
            raise SinkError("destination down")
        self.flushed.extend(self.pending)
        self.pending.clear()

    def close(self) -> None:
        self.flush()


@pytest.fixture
def world() -> tuple[FakeApi, FakeClient]:
    api = FakeApi()
    seed(api, events=95)
    return api, FakeClient(api)


def run(
    client: FakeClient, store: CheckpointStore, sink: ListSink, stream: str = "events", **kw: Any
) -> Any:
    return run_stream(
        client=client, stream=get_stream(stream), fmt=get_format("annotation"), sink=sink,
        store=store, job="t", page_size=10, **kw,
    )  # fmt: skip


def test_events_are_joined_and_checkpointed_per_page(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    api, client = world
    store, sink = CheckpointStore(tmp_path / "s.db"), ListSink()
    result = run(client, store, sink)
    assert result.pages == 10 and result.fetched == 95 and len(sink.flushed) == 95
    convicting = [r for r in sink.flushed if "threatDetectionId" in r]
    assert all(r["alertId"] and r["risk"] and r["threatTitle"] for r in convicting)
    assert all("assumedOwner" in r for r in sink.flushed)
    assert store.get("t", client.customer_id, "events").cursor == result.cursor  # type: ignore[union-attr]
    # Detections and alerts are searched per page; assets and intel mostly come from the cache.
    kinds = [k for k, _ in api.searches]
    assert kinds.count("detections") == 10 and kinds.count("alerts") == 10
    assert kinds.count("assets") == 1 and kinds.count("intel") == 1


def test_second_run_delivers_only_new_and_updated(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    api, client = world
    store = CheckpointStore(tmp_path / "s.db")
    run(client, store, ListSink())
    updated = dict(api.events["ev-4"], modifiedAt="2026-02-01T00:00:00.000Z")
    api.put("events", updated)
    api.put("events", {**api.events["ev-5"], "id": "ev-new"})
    api.alerts["alert-4"]["status"] = {
        "value": "Closed"
    }  # context is fresh for re-delivered events
    sink = ListSink()
    run(client, store, sink)
    assert [(r["eventId"], r.get("alertStatus")) for r in sink.flushed] == [
        ("ev-4", "Closed"),
        ("ev-new", "New"),
    ]


def test_failed_flush_commits_nothing_and_a_rerun_repeats_only_that_page(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    _, client = world
    store = CheckpointStore(tmp_path / "s.db")
    broken = ListSink(fail_on_flush=4)
    with pytest.raises(SinkError):
        run(client, store, broken)
    assert len(broken.flushed) == 30
    cp = store.get("t", client.customer_id, "events")
    assert cp is not None and cp.records == 30
    sink = ListSink()
    run(client, store, sink)
    ids = [r["recordId"] for r in broken.flushed + sink.flushed]
    assert len(ids) == len(set(ids)) == 95


def test_fetch_error_propagates_and_keeps_the_last_commit(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    api, client = world
    api.fail_after_pages = 3
    store, sink = CheckpointStore(tmp_path / "s.db"), ListSink()
    with pytest.raises(ConnectionError):
        run(client, store, sink)
    assert store.get("t", client.customer_id, "events").records == len(sink.flushed) == 30  # type: ignore[union-attr]


def test_stop_finishes_the_page_in_flight(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    _, client = world
    stop = threading.Event()
    store = CheckpointStore(tmp_path / "s.db")

    class StopAfterTwo:
        def stream_started(self, stream: str) -> None: ...

        def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
            if int(cursor or 0) > 0:
                stop.set()

        def stream_done(self, result: Any) -> None: ...

    sink = ListSink()
    result = run(client, store, sink, reporter=StopAfterTwo(), stop=stop)
    assert result.stopped and result.pages == 1 and len(sink.flushed) == 10
    assert store.get("t", client.customer_id, "events").records == 10  # type: ignore[union-attr]


def test_alerts_stream_overlap_loses_nothing_at_equal_timestamps(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    api, client = world
    store = CheckpointStore(tmp_path / "s.db")
    first = ListSink()
    run(client, store, first, stream="alerts")
    assert len(first.flushed) == 10
    last = max(a["modifiedAt"] for a in api.alerts.values())
    api.put("alerts", {**api.alerts["alert-0"], "id": "alert-same-instant", "modifiedAt": last})
    api.put("alerts", {**api.alerts["alert-1"], "modifiedAt": "2026-01-01T01:00:00.000Z"})
    second = ListSink()
    result = run(client, store, second, stream="alerts")
    assert sorted((r["alertId"], r["modifiedAt"]) for r in second.flushed) == [
        ("alert-1", "2026-01-01T01:00:00.000Z"),
        ("alert-same-instant", last),
    ]
    assert result.risk and sum(result.status.values()) == 2
    third = ListSink()
    run(client, store, third, stream="alerts")
    assert third.flushed == []


def test_all_streams_in_one_job_share_one_sink(
    world: tuple[FakeApi, FakeClient], tmp_path: Path
) -> None:
    _, client = world
    store = CheckpointStore(tmp_path / "s.db")
    sink = ListSink()
    job = Job(
        name="j",
        streams=["events", "alerts", "threat-detections", "flows"],
        format="nested",
        sink_url="mem",
        page_size=25,
    )
    results = run_job(client, job, store, sink=sink)
    assert [r.stream for r in results] == ["events", "alerts", "threat-detections", "flows"]
    by_stream: dict[str, int] = {}
    for r in sink.flushed:
        by_stream[r["stream"]] = by_stream.get(r["stream"], 0) + 1
    assert by_stream == {"events": 95, "alerts": 10, "threat-detections": 10, "flows": 95}
    det = next(r for r in sink.flushed if r["stream"] == "threat-detections")
    assert det["alertIds"] and det["threatIntelRecord"]["title"]


def test_prefetch_stays_bounded_and_forwards_errors() -> None:
    produced: list[int] = []

    def source() -> Any:
        for i in range(100):
            produced.append(i)
            yield i

    stop = threading.Event()
    gen = prefetch(source(), 1, stop, "t")
    assert next(gen) == 0
    threading.Event().wait(0.2)
    assert len(produced) <= 3  # one handed over, one queued, one waiting to be queued
    gen.close()

    def failing() -> Any:
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(prefetch(failing(), 1, stop, "t"))


def test_ordered_map_overlaps_calls_and_keeps_order() -> None:
    from gta.sync._engine import ordered_map

    running, peak = 0, 0
    lock = threading.Lock()

    def slow(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05 if i % 2 == 0 else 0.01)
        with lock:
            running -= 1
        return i * 10

    assert list(ordered_map(slow, range(8), 2, "t")) == [i * 10 for i in range(8)]
    assert peak == 2

    def failing() -> Any:
        yield from (1, 2)
        raise ConnectionError("fetch failed")

    got: list[int] = []
    with pytest.raises(ConnectionError):
        for value in ordered_map(lambda i: i, failing(), 2, "t"):
            got.append(value)
    assert got == [1, 2]  # what was taken before the failure is still delivered
