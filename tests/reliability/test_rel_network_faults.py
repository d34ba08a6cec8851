"""Guarantee 4 (survives the network): the same records arrive whatever the network does.

One emulator, one fault-free ``gta export all`` as the reference, then one run per fault profile
(5xx, 429 with a Retry-After of 4 s, connection resets, latency spikes of 0.8 s for 1 s in every
1.3 s, tokens that expire every second, and everything at once). Each run must exit 0 and
deliver exactly the reference's record ids, as many lines (no duplicate without a crash), and
end on the same checkpoints. The retries the SDK logged (WARNING lines, visible without --debug)
and the tokens the emulator issued show that the faults really happened.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.reliability.rel_support import read_records, record_figures, run_gta

from gta.emulator import RunningEmulator

pytestmark = pytest.mark.reliability

EVENTS = 1_200
PAGE = 200
PROFILES: dict[str, dict[str, Any]] = {
    "5xx": {"error_rate": 0.3},
    "429-retry-after-4s": {"rate_limit_rate": 0.1, "retry_after": 4},
    "resets": {"reset_rate": 0.2},
    "latency-spikes": {},  # a thread switches latency between 0 and 1.5 s during the run
    "token-ttl-1s": {"token_ttl": 1, "latency_ms": 80},
    "all-at-once": {
        "error_rate": 0.15,
        "rate_limit_rate": 0.04,
        "retry_after": 3,
        "reset_rate": 0.15,
        "latency_ms": 100,
        "token_ttl": 2,
    },
}
RETRY = re.compile(r"retrying \S+ \S+ after (\S+) \(retry")


def checkpoints(state: Path) -> dict[str, str | None]:
    with sqlite3.connect(state) as conn:
        rows = conn.execute("SELECT stream, cursor FROM checkpoints").fetchall()
    # the alerts checkpoint holds a time read from the emulator clock: compare the MSN ones
    return {stream: cursor for stream, cursor in rows if stream != "alerts"}


def export(
    emu: RunningEmulator, tmp: Path, name: str, readers: int | None = None
) -> tuple[Any, Path, Path, float]:
    out, state = tmp / f"{name}.jsonl", tmp / f"{name}.db"
    started = time.monotonic()
    args = ["export", "all", "-o", str(out), "--state", str(state), "--page-size", str(PAGE)]
    result = run_gta(
        [*args, "-q", *(["--readers", str(readers)] if readers else [])],
        emu.env(),
        timeout=240,
    )
    return result, out, state, time.monotonic() - started


def spikes(url: str, stop: threading.Event, count: list[int]) -> Callable[[], None]:
    """Latency 0.8 s for 0.5 s, then none for 0.2 s, and again, until stopped (short enough
    that even a fast export meets at least two spikes)."""

    def run() -> None:
        while not stop.is_set():
            httpx.put(f"{url}/_emulator/faults", json={"latency_ms": 800})
            count[0] += 1
            if stop.wait(0.5):
                return
            httpx.put(f"{url}/_emulator/faults", json={"latency_ms": 0})
            stop.wait(0.2)

    return run


def test_delivered_records_equal_the_fault_free_run(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    figures = faults_against_reference(make_emulator, tmp_path, PROFILES, readers=None)
    record_figures("network_faults", figures)


PARTITIONED = ("429-retry-after-4s", "all-at-once")  # every fault, in two runs (CI time)
READERS = 3


def test_partitioned_backfill_under_faults_equals_the_fault_free_run(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    """The same with partitions on (``--readers 3``, against a one-cursor reference): exactly
    the same records, none twice, and every stream back on one cursor at the same place."""
    profiles = {name: PROFILES[name] for name in PARTITIONED}
    faults_against_reference(make_emulator, tmp_path, profiles, readers=READERS)


def faults_against_reference(
    make_emulator: Callable[..., RunningEmulator],
    tmp_path: Path,
    profiles: dict[str, dict[str, Any]],
    readers: int | None,
) -> dict[str, Any]:
    emu = make_emulator(seed=5, events=EVENTS, flows_per_event=0.5)
    base, base_out, base_state, base_seconds = export(emu, tmp_path, "clean")
    assert base.returncode == 0, base.stderr
    reference, _ = read_records(base_out)
    reference_ids = Counter(r["recordId"] for r in reference)
    assert reference_ids and max(reference_ids.values()) == 1
    assert set(Counter(r["stream"] for r in reference)) == {
        "events",
        "alerts",
        "threat-detections",
        "flows",
    }
    figures: dict[str, Any] = {
        "events": EVENTS,
        "reference_records": len(reference),
        "profiles": {"fault-free": {"seconds": round(base_seconds, 1), "missing": 0}},
    }
    for name, faults in profiles.items():
        issued_before = httpx.get(f"{emu.url}/_emulator/stats").json()["tokensIssued"]
        httpx.put(f"{emu.url}/_emulator/faults", json=faults).raise_for_status()
        stop = threading.Event()
        spiker = None
        spike_count = [0]
        if name == "latency-spikes":
            spiker = threading.Thread(target=spikes(emu.url, stop, spike_count), daemon=True)
            spiker.start()
        try:
            result, out, state, seconds = export(emu, tmp_path, name, readers)
        finally:
            stop.set()
            if spiker is not None:
                spiker.join()
            httpx.put(f"{emu.url}/_emulator/faults", json={}).raise_for_status()
        issued = httpx.get(f"{emu.url}/_emulator/stats").json()["tokensIssued"] - issued_before
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr
        rows, torn = read_records(out)
        ids = Counter(r["recordId"] for r in rows)
        missing = set(reference_ids) - set(ids)
        extra = set(ids) - set(reference_ids)
        retries = Counter(RETRY.findall(result.stderr))
        figures["profiles"][name] = {
            "faults": faults,
            "seconds": round(seconds, 1),
            "records": len(rows),
            "missing": len(missing),
            "unexpected": len(extra),
            "duplicates": len(rows) - len(ids),
            "retries_by_cause": dict(retries),
            "tokens_issued": issued,
            "latency_spikes": spike_count[0],
        }
        assert not missing, f"{name}: {len(missing)} records lost"
        assert not extra, f"{name}: {len(extra)} records the fault-free run did not have"
        assert torn == 0 and len(rows) == len(reference), f"{name}: duplicates without a crash"
        assert checkpoints(state) == checkpoints(base_state), name
        # the faults were real: retries of the right kind, or fresh tokens
        if "error_rate" in faults:
            assert any(c.startswith("5") for c in retries), (name, retries)
        if name == "429-retry-after-4s":
            assert retries["429"] >= 1
            assert seconds >= 4, "a 4 s Retry-After was not honoured"
        if "reset_rate" in faults:
            assert sum(n for c, n in retries.items() if not c.isdigit()) >= 1, (name, retries)
        if name == "latency-spikes":
            assert spike_count[0] >= 2 and seconds >= 0.8, (spike_count, seconds)
        if "token_ttl" in faults:
            assert issued >= 2, f"{name}: the token was never renewed ({issued} issued)"
    return figures
