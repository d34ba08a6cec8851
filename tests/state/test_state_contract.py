"""The ``StateStore`` contract, run against every backend (``state_url``: SQLite, PostgreSQL).

The lease rules live above the backends, so each case here must hold on both: checkpoints per
(job, customer, stream), leases refused to a second live holder and taken over once expired,
the fencing check in the transaction of every commit, the alert set's rows.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
import time

import pytest

from gta.state import (
    SCHEMA_VERSION,
    LeaseHeldError,
    LeaseInfo,
    LeaseLostError,
    StateStore,
    open_state,
)
from gta.sync._alert_set import AlertSet


def test_checkpoints_round_trip_per_job_customer_and_stream(state_url: str) -> None:
    with open_state(state_url) as store:
        assert store.get("ev", "C1", "events") is None
        with store.lease("ev", "C1", "events") as lease:
            lease.commit("100", added=5, format="annotation", sink="jsonl:/x")
            lease.commit("200", added=7)
        with store.lease("ev", "C2", "events") as lease:
            lease.commit("7", added=1)
        store.set_cursor("other", "C1", "alerts", "2026-01-01T00:00:00Z")
        cp = store.get("ev", "C1", "events")
        assert cp is not None and (cp.cursor, cp.records) == ("200", 12)
        assert (cp.format, cp.sink) == ("annotation", "jsonl:/x")  # kept when not given again
        keys = [(c.job, c.customer_id, c.stream) for c in store.list()]
        assert keys == [("ev", "C1", "events"), ("ev", "C2", "events"),
                        ("other", "C1", "alerts")]  # fmt: skip
        assert [c.customer_id for c in store.list(job="ev")] == ["C1", "C2"]
        assert [c.job for c in store.list(stream="alerts")] == ["other"]
        assert store.reset(job="ev", stream="events") == 2
        assert [c.job for c in store.list()] == ["other"]


def test_a_sink_is_stored_without_its_secrets(state_url: str) -> None:
    with open_state(state_url) as store:
        with store.lease("ev", "C1", "events") as lease:
            lease.commit("1", sink="splunk-hec+https://user:hunter2@splunk:8088/?token=hunter2")
        cp = store.get("ev", "C1", "events")
    assert cp is not None and cp.sink is not None and "hunter2" not in cp.sink


def test_a_second_live_holder_is_refused_and_a_released_lease_is_free(state_url: str) -> None:
    first, second = open_state(state_url), open_state(state_url)
    try:
        with first.lease("ev", "C1", "events") as held:
            held.commit("4")
            with (
                pytest.raises(LeaseHeldError, match=r"being synced by pid \d+"),
                second.lease("ev", "C1", "events"),
            ):
                pass
            with second.lease("ev", "C1", "alerts"):  # another stream is free
                pass
            with pytest.raises(LeaseHeldError):
                second.set_cursor("ev", "C1", "events", "1")
            with pytest.raises(LeaseHeldError):
                second.reset(stream="events")
            assert second.get("ev", "C1", "events").cursor == "4"  # type: ignore[union-attr]
        with second.lease("ev", "C1", "events") as lease:
            assert lease.fence == 2  # the fencing number of the key grows per acquisition
    finally:
        first.close()
        second.close()


def test_destination_leases_keep_two_jobs_from_one_destination(state_url: str) -> None:
    refused = r"destination file:/x \(job 'a'\) is being written"
    with (
        open_state(state_url) as store,
        store.destination_lease("file:/x", "a"),
        pytest.raises(LeaseHeldError, match=refused),
        store.destination_lease("file:/x", "b"),
    ):
        pass


def _foreign(info: LeaseInfo, **changes: object) -> LeaseInfo:
    """The row as another machine's worker would have written it."""
    values: dict[str, object] = {"owner": "f" * 32, "pid": 1, "host": "elsewhere",
                                 "pidns": "4026531836", "boot_id": "other-boot"}  # fmt: skip
    values.update(changes)
    return dataclasses.replace(info, **values)  # type: ignore[arg-type]


def _row(store: StateStore, stream: str = "events") -> LeaseInfo:
    with store.transaction() as tx:
        row = tx.lease("\x1f".join(("stream", "ev", "C1", stream)))
    assert row is not None
    return row


def test_a_live_holder_on_another_machine_is_refused_until_its_ttl_passes(
    state_url: str,
) -> None:
    with open_state(state_url) as store:
        with store.lease("ev", "C1", "events"):
            pass
        row = _row(store)
        with store.transaction() as tx:  # pid 1 elsewhere: the pid says nothing here
            tx.put_lease(_foreign(row, heartbeat=time.time(), ttl=60.0, fence=row.fence + 1))
        with (
            pytest.raises(LeaseHeldError, match="pid 1 on elsewhere"),
            store.lease("ev", "C1", "events"),
        ):
            pass
        with store.transaction() as tx:  # its heartbeat is now older than its TTL
            tx.put_lease(_foreign(row, heartbeat=time.time() - 61, ttl=60.0, fence=row.fence + 1))
        with store.lease("ev", "C1", "events") as lease:
            assert lease.fence == row.fence + 2
            lease.commit("9")
        assert store.get("ev", "C1", "events").cursor == "9"  # type: ignore[union-attr]


def test_a_run_whose_lease_was_taken_over_cannot_move_its_cursor(state_url: str) -> None:
    with open_state(state_url) as store, store.lease("ev", "C1", "events") as lease:
        lease.commit("1")
        row = _row(store)
        with store.transaction() as tx:  # another worker took it over
            tx.put_lease(_foreign(row, heartbeat=time.time(), fence=lease.fence + 1))
        with pytest.raises(LeaseLostError, match="now held by pid 1 on elsewhere"):
            lease.commit("2", added=10)
        cp = store.get("ev", "C1", "events")
        assert cp is not None and (cp.cursor, cp.records) == ("1", 0)


def test_an_unlocked_lease_stops_its_holder_at_the_next_commit(state_url: str) -> None:
    with open_state(state_url) as store, open_state(state_url) as operator:
        with store.lease("ev", "C1", "events") as lease:
            held = operator.leases()
            assert [(i.job, i.stream, i.pid) for i in held] == [("ev", "events", os.getpid())]
            assert operator.unlock(held) == held
            assert operator.unlock(held) == []  # already released: nothing left to do
            with pytest.raises(LeaseLostError):
                lease.commit("5")
        assert store.get("ev", "C1", "events") is None


def test_the_heartbeat_keeps_a_lease_alive(state_url: str) -> None:
    with open_state(state_url, lease_ttl=1.5) as store, store.lease("ev", "C1", "events"):
        first = store.leases()[0].heartbeat
        deadline = time.monotonic() + 10
        while store.leases()[0].heartbeat == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.leases()[0].heartbeat > first


def _hold_and_die(url: str) -> None:
    store = open_state(url)
    with store.lease("ev", "C1", "events") as lease:
        lease.commit("1")
        os._exit(9)  # no release, like SIGKILL


def test_the_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once(
    state_url: str,
) -> None:
    open_state(state_url).close()  # schema made before the fork
    proc = multiprocessing.get_context("fork").Process(target=_hold_and_die, args=(state_url,))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 9
    with open_state(state_url) as store:
        with store.lease("ev", "C1", "events") as lease:
            lease.commit("2")
        assert store.get("ev", "C1", "events").cursor == "2"  # type: ignore[union-attr]


def test_competing_stores_never_hold_one_lease_together(state_url: str) -> None:
    stores = [open_state(state_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    lock = threading.Lock()
    holding, most, fences, refused = [0], [0], [], [0]

    def contend(store: StateStore) -> None:
        barrier.wait(timeout=30)
        for _ in range(3):
            try:
                with store.lease("ev", "C1", "events") as lease:
                    with lock:
                        holding[0] += 1
                        most[0] = max(most[0], holding[0])
                        fences.append(lease.fence)
                    time.sleep(0.05)
                    lease.commit(str(lease.fence))
                    with lock:
                        holding[0] -= 1
            except LeaseHeldError:
                with lock:
                    refused[0] += 1
            time.sleep(0.01)

    threads = [threading.Thread(target=contend, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for store in stores:
        store.close()
    assert most[0] == 1 and fences and refused[0] > 0
    assert len(set(fences)) == len(fences)  # never one fencing number twice


def test_the_alert_set_is_kept_per_job_and_customer(state_url: str) -> None:
    with open_state(state_url) as store:
        mine, theirs = AlertSet(store, "al", "C1"), AlertSet(store, "al", "C2")
        assert mine.remember([{"id": "a1", "status": "new", "risk": "high"}, {"id": "a2"}]) == 2
        mine.remember([{"id": "a1", "status": {"value": "resolved"}, "risk": "high"}])
        theirs.remember([{"id": "b1"}])
        mine.forget(["a2"])
        assert mine.live() == {"a1": ("resolved", "high")}
        assert theirs.live() == {"b1": (None, None)}
        assert mine.last_reconcile() is None
        mine.mark_reconciled(1234.5)
        mine.mark_reconciled(1300.0)
        assert mine.last_reconcile() == 1300.0 and theirs.last_reconcile() is None


def test_a_new_state_is_made_with_its_version_on_first_use(state_url: str) -> None:
    with open_state(state_url) as first:
        first.set_cursor("ev", "C1", "events", "3")
    with open_state(state_url) as again:  # opening an existing state keeps its rows
        assert again.get("ev", "C1", "events").cursor == "3"  # type: ignore[union-attr]
    if state_url.startswith("sqlite:"):
        import sqlite3

        with sqlite3.connect(state_url[len("sqlite://") :]) as conn:
            meta = dict(conn.execute("SELECT key, value FROM gta_meta").fetchall())
        assert meta == {"app": "gta-state", "schema": SCHEMA_VERSION}
    else:
        import psycopg

        with psycopg.connect(state_url) as conn:
            meta = dict(conn.execute("SELECT key, value FROM gta_meta").fetchall())
        from gta.state._postgres import SCHEMA_VERSION as PG_VERSION

        assert meta == {"app": "gta-state", "schema": PG_VERSION}
