"""Guarantees 1 and 2 under SIGKILL: no loss, duplicates only from the batch in flight, state
never ahead of the sink and never corrupt.

One long ``gta sync --once`` of 50,000 events (page size 100, about 500 pages) from a file-db
emulator in its own process is killed again and again until it has been killed KILLS times,
then run to the end. The kills are aimed at the dangerous instants by a ``sitecustomize`` hook
(``kill_hook/``) loaded into the child through PYTHONPATH: inside or right after the ``fsync``
of the output file (the sink flush), inside or around the SQLite ``COMMIT`` of the checkpoint,
inside ``write`` (including a torn half-written batch), plus kills from outside at random
instants. After every kill the state file must pass ``PRAGMA integrity_check``, ``gta state
show`` must work, every record before the committed cursor must be in the file, and the lines
beyond what the state says was committed must be at most the page after the cursor. The expected
rows come from an independent traversal over plain httpx.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.reliability.rel_support import (
    CACHE,
    GTA,
    HERE,
    Key,
    RawApi,
    emulator_process,
    gta_in_process,
    record_figures,
    row_key,
    run_gta,
    sync_config,
)

pytestmark = pytest.mark.reliability

EVENTS = 50_000
PAGE = 100
KILLS = 50
PLACES = ["random", "fsync", "commit", "write"]
DURING_MAX_US = 700  # most commits and fsyncs here last well under a millisecond
PHASES = {
    "fsync": ["before", "during", "after"],
    "commit": ["before", "during", "after"],
    "write": ["before", "after", "torn"],
}


class Tail:
    """Reads only the complete lines appended since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.rows: list[dict[str, Any]] = []
        self.torn = 0

    def read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n")
        if end < 0:
            return
        for line in data[: end + 1].splitlines():
            if not line:
                continue
            try:
                self.rows.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                self.torn += 1
        self.offset += end + 1


def wait_for_growth(proc: subprocess.Popen[bytes], out: Path, size: int, grow: int) -> None:
    """Wait until ``out`` has grown by ``grow`` bytes since ``size`` (or the run ended).

    Kills and stops are placed by output progress, not by wall time, so that a faster machine
    does not let a run deliver more pages before the signal (and finish the sync early)."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if out.exists() and out.stat().st_size >= size + grow:
            return
        time.sleep(0.002)


def checkpoint(state: Path) -> tuple[str | None, int, str]:
    """(cursor, committed records, integrity) read straight from the SQLite file."""
    if not state.exists():
        return None, 0, "absent"
    conn = sqlite3.connect(state)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        row = conn.execute(
            "SELECT cursor, records FROM checkpoints WHERE stream='events'"
        ).fetchone()
    except sqlite3.OperationalError:  # killed before the schema was created
        return None, 0, conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return (row[0], int(row[1]), integrity) if row else (None, 0, integrity)


def test_sigkill_during_sync_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"emulator-seed7-events{EVENTS}.db"
    out, state = tmp_path / "events.jsonl", tmp_path / "state.db"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    started = time.monotonic()
    with emulator_process(seed=7, events=EVENTS, db=db, extra=["--flows-per-event", "0"]) as emu:
        raw = RawApi(emu.url, emu.client_id, emu.client_password, emu.customer_id)
        pages = raw.event_pages(PAGE)
        expected_per_page = raw.expected_rows(pages)
        raw.close()
        cursors = [cursor for cursor, _ in pages]
        page_after = {None: 0, **{c: i + 1 for i, c in enumerate(cursors)}}
        done_keys: list[set[Key]] = [set()]  # keys of pages 1..i, by i
        for keys in expected_per_page:
            done_keys.append(done_keys[-1] | set(keys))
        expected = done_keys[-1]
        config = sync_config(
            tmp_path / "gta.toml",
            url=emu.url,
            sink=f"jsonl:{out}",
            streams=["events"],
            page_size=PAGE,
            customer_id=emu.customer_id,
            readers=1,  # one cursor: page boundaries below; partitions: tests/sync/test_crash_sync
        )
        base_env = {
            **emu.env,
            "GTA_STATE_DIR": str(tmp_path / "statedir"),
            "GTA_REL_KILL_OUT": str(out),
            "GTA_REL_KILL_STATE": str(state),
        }
        cmd = [*GTA, "sync", "--config", str(config), "--once", "--state", str(state), "-q"]
        tail = Tail(out)
        excess = 0  # complete lines beyond what the state says was committed
        kills: list[dict[str, Any]] = []
        landed: Counter[str] = Counter()
        finished_early = 0
        for i in range(KILLS):
            place = PLACES[i % len(PLACES)]
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
            env.update(base_env)
            phase = "timer"
            if place != "random":
                phase = rng.choice(PHASES[place])
                nth = rng.randint(1, 6)
                delay_us = rng.randint(0, DURING_MAX_US)
                env["GTA_REL_KILL"] = f"{place}:{nth}:{phase}:{delay_us}"
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(HERE / "kill_hook"), env.get("PYTHONPATH", "")]
                )
            size = out.stat().st_size if out.exists() else 0
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if place == "random":
                wait_for_growth(proc, out, size, rng.randint(1, 250_000))  # up to ~3 pages
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                pytest.fail(f"run {i} ({place}) hung")
            if proc.returncode == 0:
                finished_early += 1
                break
            assert proc.returncode == -signal.SIGKILL, (place, proc.returncode, err[-2000:])
            note = err.decode(errors="replace").strip().splitlines()
            marker = next(
                (n for n in note if n.startswith("REL-KILL")), f"REL-KILL {place} timer -"
            )
            landed[" ".join(marker.split()[1:])] += 1

            # -- what the kill left behind ------------------------------------------------
            cursor, committed, integrity = checkpoint(state)
            assert integrity in ("ok", "absent"), f"state corrupt after kill {i}: {integrity}"
            if i % 13 == 0:  # the real command now and then; in process otherwise (fast)
                shown = run_gta(["state", "show", "--state", str(state)], base_env, timeout=60)
                assert shown.returncode == 0, shown.stderr
                assert "Traceback" not in shown.stderr
            else:
                capsys.readouterr()
                assert gta_in_process(["state", "show", "--state", str(state)]) == 0
                shown_out = capsys.readouterr()
                assert "Traceback" not in shown_out.err
                assert "events" in shown_out.out or cursor is None
            assert cursor in page_after, f"kill {i}: cursor {cursor!r} is not a page boundary"
            tail.read()
            delivered = {row_key(r) for r in tail.rows}
            behind = done_keys[page_after[cursor]] - delivered
            assert not behind, f"kill {i}: state ahead of the sink, {len(behind)} rows missing"
            new_excess = len(tail.rows) - committed
            assert new_excess >= 0, f"kill {i}: state counts more records than the file holds"
            in_flight = new_excess - excess
            next_page = page_after[cursor]
            limit = len(expected_per_page[next_page]) if next_page < len(pages) else 0
            assert 0 <= in_flight <= limit, (i, place, phase, in_flight, limit)
            kills.append({"place": place, "phase": phase, "cursor": cursor, "in_flight": in_flight})
            excess = new_excess

        # -- the last run goes to the end ---------------------------------------------------
        env = {**base_env}
        final = run_gta(
            ["sync", "--config", str(config), "--once", "--state", str(state), "-q"],
            env,
            timeout=180,
        )
        assert final.returncode == 0, final.stderr
    tail.read()
    cursor, committed, integrity = checkpoint(state)
    assert integrity == "ok"
    assert cursor == cursors[-1]
    delivered_keys = Counter(row_key(r) for r in tail.rows)
    missing = expected - set(delivered_keys)
    unexpected = set(delivered_keys) - expected
    ids = Counter(r["recordId"] for r in tail.rows)
    duplicates = len(tail.rows) - len(ids)
    key_of: dict[str, Key] = {}
    for r in tail.rows:  # a duplicate carries the same record id for the same row
        assert key_of.setdefault(r["recordId"], row_key(r)) == row_key(r)
    assert len(ids) == len(delivered_keys)
    assert not missing, f"{len(missing)} expected rows never delivered"
    assert not unexpected, f"{len(unexpected)} rows that the API does not have"
    # Lines never counted by a commit are exactly the batches in flight at the kills, and they
    # are exactly the duplicates: each one came again, with the same record id.
    assert len(tail.rows) - committed == excess == sum(k["in_flight"] for k in kills)
    assert duplicates == excess
    assert finished_early == 0, "the sync finished before all kills were made; raise EVENTS"
    assert len(kills) >= 50
    record_figures(
        "crash",
        {
            "seed": seed,
            "during_max_us": DURING_MAX_US,
            "events": EVENTS,
            "page_size": PAGE,
            "pages": len(pages),
            "expected_rows": len(expected),
            "delivered_lines": len(tail.rows),
            "distinct_records": len(ids),
            "missing": len(missing),
            "duplicates": duplicates,
            "max_in_flight": max(k["in_flight"] for k in kills),
            "max_page_rows": max(len(p) for p in expected_per_page),
            "torn_lines_skipped": tail.torn,
            "kills": len(kills),
            "kills_by_place": dict(Counter(k["place"] for k in kills)),
            "kills_landed": dict(landed),
            "state_checks_ok": len(kills),
            "seconds": round(time.monotonic() - started, 1),
        },
    )


TERMS = 10


def test_sigterm_finishes_the_page_and_leaves_no_duplicate(tmp_path: Path) -> None:
    """SIGTERM (a service stop) at random instants: exit 0, the page in flight is finished and
    committed, so nothing is delivered twice and nothing is lost."""
    db = CACHE / f"emulator-seed7-events{EVENTS}.db"
    out, state = tmp_path / "events.jsonl", tmp_path / "state.db"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    with emulator_process(seed=7, events=EVENTS, db=db, extra=["--flows-per-event", "0"]) as emu:
        config = sync_config(
            tmp_path / "gta.toml",
            url=emu.url,
            sink=f"jsonl:{out}",
            streams=["events"],
            page_size=PAGE,
            customer_id=emu.customer_id,
            readers=1,  # one cursor: page boundaries below; partitions: tests/sync/test_crash_sync
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
        env.update(emu.env)
        cmd = [*GTA, "sync", "--config", str(config), "--once", "--state", str(state), "-q"]
        tail = Tail(out)
        stops: list[float] = []
        previous: str | None = None
        for _ in range(TERMS):
            size = out.stat().st_size if out.exists() else 0
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wait_for_growth(proc, out, size, rng.randint(1, 250_000))
            asked = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            stops.append(time.monotonic() - asked)
            assert proc.returncode == 0, err[-2000:]
            cursor, committed, integrity = checkpoint(state)
            assert integrity == "ok"
            tail.read()
            assert tail.torn == 0
            assert len(tail.rows) == committed, "a stopped run left uncommitted records"
            assert cursor != previous, "a stopped run committed nothing it had delivered"
            previous = cursor
    ids = Counter(r["recordId"] for r in tail.rows)
    duplicates = len(tail.rows) - len(ids)
    record_figures(
        "sigterm",
        {
            "seed": seed,
            "stops": TERMS,
            "exit_0": TERMS,
            "records": len(tail.rows),
            "duplicates": duplicates,
            "slowest_stop_seconds": round(max(stops), 2),
        },
    )
    assert duplicates == 0


ALERT_KILLS = 16
ALERT_PAGE = 20


def test_sigkill_during_alerts_scan_loses_no_alert_version(tmp_path: Path) -> None:
    """The alerts stream keeps a scan position and an overlap set in its checkpoint (not an
    MSN): kills inside its commits and flushes must not lose an alert version either."""
    db = CACHE / f"emulator-seed7-events{EVENTS}.db"
    out, state = tmp_path / "alerts.jsonl", tmp_path / "state.db"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    with emulator_process(seed=7, events=EVENTS, db=db, extra=["--flows-per-event", "0"]) as emu:
        raw = RawApi(emu.url, emu.client_id, emu.client_password, emu.customer_id)
        alerts = raw.objects(f"/alert-management/customer/{emu.customer_id}/alerts")
        raw.close()
        expected = {(a["id"], a["modifiedAt"]) for a in alerts}
        emu.faults(latency_ms=20)  # a full scan then lasts seconds: random kills land inside
        config = sync_config(
            tmp_path / "gta.toml",
            url=emu.url,
            sink=f"jsonl:{out}",
            streams=["alerts"],
            page_size=ALERT_PAGE,
            customer_id=emu.customer_id,
        )
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
        base.update(emu.env, GTA_REL_KILL_OUT=str(out), GTA_REL_KILL_STATE=str(state))
        cmd = [*GTA, "sync", "--config", str(config), "--once", "--state", str(state), "-q"]
        tail = Tail(out)
        excess = 0
        in_flight: list[int] = []
        for i in range(ALERT_KILLS):
            env = dict(base)
            place = PLACES[i % len(PLACES)]
            if place != "random":
                phase = rng.choice(PHASES[place])
                env["GTA_REL_KILL"] = (
                    f"{place}:{rng.randint(2, 5)}:{phase}:{rng.randint(0, DURING_MAX_US)}"
                )
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(HERE / "kill_hook"), env.get("PYTHONPATH", "")]
                )
            size = out.stat().st_size if out.exists() else 0
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if place == "random":
                wait_for_growth(proc, out, size, rng.randint(1, 30_000))  # up to ~4 pages
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGKILL, (place, proc.returncode, err[-2000:])
            with contextlib.closing(sqlite3.connect(state)) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                row = conn.execute(
                    "SELECT records FROM checkpoints WHERE stream='alerts'"
                ).fetchone()
            committed = int(row[0]) if row else 0
            tail.read()
            new_excess = len(tail.rows) - committed
            assert 0 <= new_excess - excess <= ALERT_PAGE, (i, place, new_excess, excess)
            in_flight.append(new_excess - excess)
            excess = new_excess
        final = run_gta(
            ["sync", "--config", str(config), "--once", "--state", str(state), "-q"],
            emu.env,
            timeout=180,
        )
        assert final.returncode == 0, final.stderr
    tail.read()
    delivered = Counter((r["alertId"], r["modifiedAt"]) for r in tail.rows)
    ids = Counter(r["recordId"] for r in tail.rows)
    missing = expected - set(delivered)
    record_figures(
        "crash_alerts",
        {
            "seed": seed,
            "alerts": len(expected),
            "page_size": ALERT_PAGE,
            "kills": len(in_flight),
            "lines": len(tail.rows),
            "missing": len(missing),
            "duplicates": len(tail.rows) - len(ids),
            "in_flight_total": sum(in_flight),
            "max_in_flight": max(in_flight),
        },
    )
    assert not missing, f"{len(missing)} alert versions never delivered"
    assert not set(delivered) - expected
    assert len(ids) == len(delivered)
    assert len(tail.rows) - len(ids) == sum(in_flight) == excess
