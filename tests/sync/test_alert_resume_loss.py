"""No loss across an interrupted alerts scan: a change to an alert the scan already passed.

Alert pages come in risk order, so a scan stopped after its first page resumes after that page.
An alert from the first page that changes while the run is stopped is not in the resumed scan;
the scan's start, not its high-water mark, must bound the next scan or that change is lost.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests._support.clients import emulator_client

import gta
from gta.emulator import RunningEmulator
from gta.sync import AlertCursor, CheckpointStore, Job, run_job


def _client(emu: RunningEmulator) -> gta.Client:
    return emulator_client(emu)


def _delivered(path: Path) -> set[tuple[str, str]]:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return {(row["id"], row["modifiedAt"]) for row in rows}


def test_change_to_a_first_page_alert_while_stopped_is_delivered(
    make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(seed=5, events=300)
    out = tmp_path / "alerts.jsonl"
    job = Job(name="t", streams=["alerts"], format="nested", sink_url=str(out), page_size=3)
    with _client(emu) as client, CheckpointStore(tmp_path / "state.db") as store:
        stop = threading.Event()
        first = run_job(client, job, store, stop=stop, on_records=lambda _s, _r: stop.set())
        assert first[0].stopped and first[0].pages == 1
        first_page = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        critical = next(a for a in first_page if a["risk"] == "Critical")
        saved = store.get("t", emu.customer_id, "alerts")
        assert saved is not None and AlertCursor.loads(saved.cursor).scan is not None

        client.alerts.set_note(critical["id"], "looked at it while the sync was stopped")
        noted = _raw(client, critical["id"])
        assert noted["modifiedAt"] != critical["modifiedAt"]
        httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 1}).raise_for_status()
        low = next(a for a in client.alerts.list(size=1000).raw() if a["risk"] == "Low")
        client.alerts.set_note(low["id"], "a later change")
        changed = _raw(client, low["id"])

        run_job(client, job, store)  # finishes the interrupted scan
        run_job(client, job, store)  # the next scan
    delivered = _delivered(out)
    assert (changed["id"], changed["modifiedAt"]) in delivered
    assert (noted["id"], noted["modifiedAt"]) in delivered


def _raw(client: gta.Client, alert_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = list(client.alerts.search([alert_id]).raw())
    assert len(found) == 1
    return found[0]
