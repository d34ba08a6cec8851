"""Guarantee 1 when the destination fails: a Splunk HEC that answers 503 for 25 s and a syslog
TCP receiver that is down for 12 s, each in the middle of a ``gta sync --every 1s`` service.

Pass 1 delivers the backlog; then the emulator gets new events and the sink fails. While it
fails the checkpoint must not move (polled from the state file every 0.2 s); the sink's backoff
must show in the logs; once the sink is back, the service must deliver everything: the record
ids at the destination equal those of a fault-free export of the same data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._support.hec_receiver import run_receiver
from tests.reliability.rel_support import (
    GTA,
    RawApi,
    read_records,
    record_figures,
    run_gta,
    sync_config,
)
from tests.reliability.rel_syslog_receiver import SyslogReceiver

from gta.emulator import RunningEmulator

pytestmark = pytest.mark.reliability

EVENTS = 800
NEW_EVENTS = 400
HEC_OUTAGE_S = 25.0
SYSLOG_OUTAGE_S = 12.0


def cursor_of(state: Path) -> str | None:
    if not state.exists():
        return None
    with contextlib.closing(sqlite3.connect(state, timeout=5)) as conn:
        try:
            row = conn.execute("SELECT cursor FROM checkpoints WHERE stream='events'").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def final_cursor(emu: RunningEmulator) -> str:
    raw = RawApi(emu.url, emu.client_id, emu.client_password, emu.customer_id)
    try:
        return raw.event_pages(1000)[-1][0]
    finally:
        raw.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def service(config: Path, state: Path, env: dict[str, str], log: Path) -> Iterator[Any]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    full.update(env)
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*GTA, "sync", "-c", str(config), "--every", "1s", "--state", str(state), "-q"],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def reference_ids(emu: RunningEmulator, tmp: Path) -> Counter[str]:
    out = tmp / "reference.jsonl"
    done = run_gta(
        ["export", "events", "-o", str(out), "--state", str(tmp / "ref.db"), "-q"], emu.env()
    )
    assert done.returncode == 0, done.stderr
    rows, _ = read_records(out)
    return Counter(r["recordId"] for r in rows)


def outage(
    emu: RunningEmulator,
    state: Path,
    fail: Callable[[], None],
    recover: Callable[[], None],
    seconds: float,
) -> dict[str, Any]:
    """Add events, make the sink fail for ``seconds`` while watching the checkpoint, recover,
    and wait until the service has delivered everything."""
    before = cursor_of(state)
    fail()
    httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": NEW_EVENTS}).raise_for_status()
    target = final_cursor(emu)
    assert target != before
    seen: set[str | None] = set()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        seen.add(cursor_of(state))
        time.sleep(0.2)
    recover()
    recovered = time.monotonic()
    wait_for(lambda: cursor_of(state) == target, 120, "the service to catch up")
    return {
        "outage_seconds": seconds,
        "cursor_before": before,
        "cursors_seen_during_outage": sorted(str(c) for c in seen),
        "catch_up_seconds": round(time.monotonic() - recovered, 1),
        "checkpoint_waited": seen == {before},
    }


def test_hec_503_for_25s_loses_nothing(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = make_emulator(seed=12, events=EVENTS, flows_per_event=0.0)
    state, log = tmp_path / "state.db", tmp_path / "sync.log"
    with run_receiver() as hec:
        config = sync_config(
            tmp_path / "gta.toml",
            url=emu.url,
            sink=hec.url,
            streams=["events"],
            page_size=200,
            sink_options='token = "env:REL_HEC_TOKEN", backoff_cap = 8.0',
        )
        env = {**emu.env(), "REL_HEC_TOKEN": "good-token"}
        with service(config, state, env, log):
            wait_for(lambda: cursor_of(state) == final_cursor(emu), 60, "pass 1")
            delivered_before = len(hec.state.indexed)

            def fail() -> None:
                hec.state.busy_next = 1_000_000

            def recover() -> None:
                hec.state.busy_next = 0

            figures = outage(emu, state, fail, recover, HEC_OUTAGE_S)
        ids = Counter(hec.state.indexed_record_ids())
    reference = reference_ids(emu, tmp_path)
    text = log.read_text()
    backoffs = text.count("splunk-hec: HTTP 503")
    figures.update(
        delivered_before_outage=delivered_before,
        records_expected=len(reference),
        records_received=sum(ids.values()),
        missing=len(set(reference) - set(ids)),
        duplicates=sum(ids.values()) - len(ids),
        backoff_log_lines=backoffs,
        runs_that_gave_up=text.count("job rel: error"),
    )
    record_figures("sink_outage_hec", figures)
    assert figures["checkpoint_waited"], figures
    assert backoffs >= 3, "no backoff in the logs"
    assert not set(reference) - set(ids), "records lost"
    assert not set(ids) - set(reference)


def test_syslog_tcp_down_and_back_loses_nothing(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = make_emulator(seed=13, events=EVENTS, flows_per_event=0.0)
    state, log = tmp_path / "state.db", tmp_path / "sync.log"
    receiver = SyslogReceiver()
    receiver.up()
    try:
        config = sync_config(
            tmp_path / "gta.toml",
            url=emu.url,
            sink=f"syslog+tcp://127.0.0.1:{receiver.port}",
            streams=["events"],
            page_size=200,
            sink_options="backoff_cap = 4.0, max_retries = 12",
        )
        with service(config, state, emu.env(), log):
            wait_for(lambda: cursor_of(state) == final_cursor(emu), 60, "pass 1")
            figures = outage(emu, state, receiver.down, receiver.up, SYSLOG_OUTAGE_S)
        ids = Counter(receiver.record_ids())
    finally:
        receiver.down()
    reference = reference_ids(emu, tmp_path)
    text = log.read_text()
    backoffs = text.count("reconnecting in")
    figures.update(
        records_expected=len(reference),
        records_received=sum(ids.values()),
        missing=len(set(reference) - set(ids)),
        duplicates=sum(ids.values()) - len(ids),
        backoff_log_lines=backoffs,
        connections=receiver.connections,
        runs_that_gave_up=text.count("job rel: error"),
    )
    record_figures("sink_outage_syslog", figures)
    assert figures["checkpoint_waited"], figures
    assert backoffs >= 2, "no reconnect backoff in the logs"
    assert not set(reference) - set(ids), "records lost"
    assert not set(ids) - set(reference)
