"""With the emulator's faults on (5xx, 429, resets, 2 s tokens) the export delivers exactly the
records of a fault-free run: nothing skipped, nothing doubled (retries live in the SDK)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gta.cli import main
from gta.emulator import RunningEmulator

FAULTS = {
    "error_rate": 0.15,
    "rate_limit_rate": 0.1,
    "reset_rate": 0.05,
    "token_ttl": 2,
    "retry_after": 1,
    "latency_ms": 20,
}


def export_all(folder: Path) -> dict[str, dict[str, Any]]:
    folder.mkdir()
    out = folder / "all.jsonl"
    args = ["export", "all", "--schema", "nested", "--output", str(out), "--page-size", "500"]
    try:
        main([*args, "--state", str(folder / "state.db"), "--quiet"])
    except SystemExit as exc:
        pytest.fail(f"gta export exited with {exc.code}")
    records: dict[str, dict[str, Any]] = {}
    for line in out.read_bytes().splitlines():
        record = orjson.loads(line)
        record.pop("indexTime")
        assert record["recordId"] not in records, "a record was delivered twice"
        records[record["recordId"]] = record
    return records


@pytest.mark.slow
@pytest.mark.reliability
def test_faults_change_nothing_in_what_is_delivered(
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu: RunningEmulator = make_emulator(seed=5, events=1500)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    clean = export_all(tmp_path / "clean")
    httpx.put(f"{emu.url}/_emulator/faults", json=FAULTS).raise_for_status()
    caplog.set_level(logging.DEBUG, logger="gta.client")
    faulty = export_all(tmp_path / "faulty")
    causes = [getattr(r, "gta_cause", "") for r in caplog.records]
    tokens = sum("fetched an access token" in r.getMessage() for r in caplog.records)
    # The faults really happened: server errors, rate limits, and tokens renewed mid-run.
    assert any("429" in c for c in causes) and any("50" in c for c in causes), causes
    assert tokens >= 2
    print(f"\nretries by cause: {Counter(causes) - Counter({'': len(causes)})}; tokens: {tokens}")
    httpx.put(f"{emu.url}/_emulator/faults", json={}).raise_for_status()
    assert set(faulty) == set(clean)
    assert faulty == clean  # same content too, parents included
    assert {r["stream"] for r in clean.values()} == {
        "events",
        "alerts",
        "threat-detections",
        "flows",
    }
