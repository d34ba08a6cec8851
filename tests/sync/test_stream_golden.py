"""Every stream in every format, from the seeded emulator, pinned byte for byte.

Record ids, row keys and the bytes of every record must not change when the code that makes
them is reorganised (streams as data, formats as tables). The golden file holds, per format and
stream, the record ids in order, the set of keys the records use and the sha256 of the
JSON-lines output with ``indexTime`` fixed, so it stays small while catching any byte that
moves. Regenerate it only for an intended change: ``REGEN_GOLDEN=1 pytest <this file>``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

import gta
from gta.emulator import EmulatorSettings, run_in_thread
from gta.sync import CheckpointStore, Job, run_job

GOLDEN = Path(__file__).parent / "golden" / "streams.json"
FORMATS = ("annotation", "nested", "ocsf", "ecs")
STREAMS = ("events", "alerts", "threat-detections", "flows")
INDEX_TIME = "2026-01-01T00:00:00.000Z"


def _export(tmp_path: Path, readers: int | None = 1) -> dict[str, Any]:
    """Export every stream in every format; ``readers=1`` reads through one cursor (the pinned
    order), ``None`` lets gta split the MSN streams' backlog (17 pages of 9)."""
    settings = EmulatorSettings(seed=7, events=150, flows_per_event=0.2)
    summary: dict[str, Any] = {}
    with (
        run_in_thread(settings) as emu,
        gta.Client(
            emu.client_id,
            emu.client_password,
            securex_host=emu.url,
            api_url=emu.url,
            app_url=emu.url,
            customer_id=emu.customer_id,
        ) as client,
    ):
        tmp_path.mkdir(exist_ok=True)
        store = CheckpointStore(tmp_path / "state.db")
        try:
            for fmt in FORMATS:
                for stream in STREAMS:
                    out = tmp_path / f"{fmt}-{stream}.jsonl"
                    job = Job(
                        name=f"{fmt}-{stream}",
                        streams=[stream],
                        format=fmt,
                        sink_url=f"jsonl:{out}",
                        page_size=9,
                        readers=readers,
                    )
                    run_job(client, job, store)
                    data = out.read_bytes()
                    rows = [orjson.loads(line) for line in data.splitlines()]
                    summary[f"{fmt}/{stream}"] = {
                        "records": len(rows),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "keys": sorted({k for r in rows for k in r}),
                        "recordIds": [r["recordId"] for r in rows],
                        "lines": data.splitlines(),
                    }
        finally:
            store.close()
    return summary


def test_every_stream_in_every_format_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gta.sync._enrich.utc_now", lambda: INDEX_TIME)
    actual = _export(tmp_path)
    for entry in actual.values():
        del entry["lines"]
    if os.environ.get("REGEN_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(actual) == set(expected)
    for key in sorted(expected):
        assert actual[key]["records"] > 0, key
        assert actual[key]["recordIds"] == expected[key]["recordIds"], key
        assert actual[key]["keys"] == expected[key]["keys"], key
        assert actual[key]["sha256"] == expected[key]["sha256"], key


def test_partitioned_exports_write_exactly_the_one_cursor_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With gta choosing its readers, the events backlog is split (the log says so) and every
    stream in every format writes the same lines as through one cursor, in another order."""
    monkeypatch.setattr("gta.sync._enrich.utc_now", lambda: INDEX_TIME)
    one = _export(tmp_path / "one")
    caplog.set_level("INFO", logger="gta.sync")
    split = _export(tmp_path / "split", readers=None)
    planned = {
        r.getMessage().split(":")[0] for r in caplog.records if "readers over" in r.getMessage()
    }
    assert "events" in planned  # the others are too small to split here
    for key in sorted(one):
        assert sorted(split[key]["lines"]) == sorted(one[key]["lines"]), key
