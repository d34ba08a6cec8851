"""Generated data: reproducible from the seed, stored in SQLite, reused from a file."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import orjson
import pytest

from gta.emulator import EmulatorSettings
from gta.emulator._clock import format_ms, parse_rfc3339
from gta.emulator._store import Store

TABLES = ("threat_intel", "assets", "alerts", "tds", "events", "flows", "td_alerts")
RFC3339_MS = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"')


def _digest(store: Store) -> str:
    h = hashlib.sha256()
    for table in TABLES:
        for row in sorted(store.conn.execute(f"SELECT * FROM {table}")):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = Store.open(EmulatorSettings(seed=11, events=400))
    b = Store.open(EmulatorSettings(seed=11, events=400))
    c = Store.open(EmulatorSettings(seed=12, events=400))
    try:
        assert _digest(a) == _digest(b)
        assert _digest(a) != _digest(c)
        assert a.clock.now_ms() // 60_000 == b.clock.now_ms() // 60_000  # seed-derived start
    finally:
        for store in (a, b, c):
            store.close()


def test_proportions_and_shapes() -> None:
    store = Store.open(EmulatorSettings(seed=2, events=5000, flows_per_event=1.5))
    try:
        counts = store.counts()
        assert counts["events"] == 5000
        assert 7000 <= counts["flows"] <= 8000  # 1.5 per event on average
        assert counts["threatDetections"] == 500  # an order of magnitude fewer than events
        assert 150 <= counts["alerts"] < counts["threatDetections"]
        assert counts["assets"] == 125
        statuses = [
            orjson.loads(d)["status"]["value"]
            for (d,) in store.conn.execute("SELECT doc FROM alerts")
        ]
        assert statuses.count("New") > 0.6 * len(statuses)
        for table in ("events", "tds", "alerts", "flows"):
            for (doc,) in store.conn.execute(f"SELECT doc FROM {table} LIMIT 200"):
                stamps = RFC3339_MS.findall(doc)
                assert stamps
                for stamp in stamps:
                    assert format_ms(parse_rfc3339(stamp.decode())) == stamp.decode()
        alert_ids = [r[0] for r in store.conn.execute("SELECT id FROM alerts")]
        assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in alert_ids)
        # MSNs follow modification time within each collection.
        for table in ("events", "tds"):
            mods = [
                r[0] for r in store.conn.execute(f"SELECT modified_at FROM {table} ORDER BY msn")
            ]
            assert mods == sorted(mods)
        msns = [
            r[0]
            for r in store.conn.execute(
                "SELECT msn FROM events UNION ALL SELECT msn FROM tds"
                " UNION ALL SELECT msn FROM flows"
            )
        ]
        assert len(msns) == len(set(msns))  # one counter across the three collections
    finally:
        store.close()


def test_several_customers_have_their_own_data() -> None:
    store = Store.open(EmulatorSettings(events=300, customers=3))
    try:
        ids = [i.customer_id for i in store.identities]
        assert ids == ["CTA000000001", "CTA000000002", "CTA000000003"]
        per = [
            {r[0] for r in store.conn.execute("SELECT id FROM events WHERE cust = ?", (c,))}
            for c in range(3)
        ]
        assert all(len(p) == 300 for p in per)
        assert not per[0] & per[1] and not per[1] & per[2]
    finally:
        store.close()


def test_file_database_is_generated_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    settings = EmulatorSettings(seed=5, events=3000, db_path=path)
    started = time.monotonic()
    first = Store.open(settings)
    generation = time.monotonic() - started
    digest = _digest(first)
    closed_at = first.clock.advance(3_600_000)
    first.close()
    assert path.exists() and not list(tmp_path.glob(".*.tmp"))
    started = time.monotonic()
    again = Store.open(settings)
    reuse = time.monotonic() - started
    try:
        assert _digest(again) == digest
        assert reuse < generation / 3
        assert again.clock.now_ms() >= closed_at  # the clock did not go back
    finally:
        again.close()
    other = Store.open(EmulatorSettings(seed=6, events=3000, db_path=path))
    try:
        assert _digest(other) != digest  # other settings: regenerated in place
    finally:
        other.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"customer_id": "CTA1"},
        {"events": -1},
        {"error_rate": 1.5},
        {"clock_start": "tomorrow"},
        {"customers": 0},
    ],
)
def test_settings_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EmulatorSettings.model_validate(bad)
