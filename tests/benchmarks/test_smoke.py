"""The benchmark harness, run end to end at a tiny size so it cannot rot.

Everything goes through ``python -m benchmarks`` in a child process (as a user runs it), writing
into a temporary directory: the repository's docs/benchmarks.md is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _bench(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _paths(tmp_path: Path) -> list[str]:
    return [
        "--out-dir", str(tmp_path / "out"),
        "--report", str(tmp_path / "docs" / "benchmarks.md"),
        "--chart", str(tmp_path / "docs" / "benchmarks-chart.png"),
    ]  # fmt: skip


@pytest.mark.slow
def test_tiny_run_measures_every_client_and_writes_the_report(tmp_path: Path) -> None:
    repo_report = ROOT / "docs" / "benchmarks.md"
    before = repo_report.stat().st_mtime_ns if repo_report.exists() else None

    done = _bench(
        "run", "--events", "300", "--latency-samples", "5", "--latency-ms", "50",
        "--scenarios", "limit,gta,gta-1,vendor,vendor-chunked,recipe",
        "--data-dir", str(tmp_path / "data"), *_paths(tmp_path),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    (size,) = results["sizes"]
    assert size["events"] == 300
    runs = {(r["scenario"], r["added_latency_ms"]): r for r in size["runs"]}
    clients = ("limit", "gta", "gta-1", "vendor", "vendor-chunked", "recipe")
    assert set(runs) == {(s, lat) for s in clients for lat in (0, 50)}
    for key, run in runs.items():
        assert run["ok"], (key, run["error"])
        assert run["wall_s"] > 0 and run["peak_rss_bytes"] > 10 * 2**20, key
    for lat in (0, 50):
        assert runs[("limit", lat)]["events"] == 300
        for name in ("vendor", "vendor-chunked", "recipe"):
            assert runs[(name, lat)]["events"] == 300
        # every client emits the same rows by design, at least one per event: compared exactly
        gta = runs[("gta", lat)]
        assert gta["rows"] >= 300 and gta["row_digest"]
        for name in ("gta-1", "vendor", "vendor-chunked", "recipe"):
            assert (runs[(name, lat)]["rows"], runs[(name, lat)]["row_digest"]) == (
                gta["rows"],
                gta["row_digest"],
            ), name
    # 50 ms on every response: the vendor's sequential requests take longer than on loopback
    assert runs[("vendor", 50)]["wall_s"] > runs[("vendor", 0)]["wall_s"]
    assert len(size["page_latency"]["samples_ms"]) == 5
    assert len(size["page_latency_8"]["samples_ms"]) == 40

    report = (tmp_path / "docs" / "benchmarks.md").read_text()
    assert "| 300 | loopback |" in report and "| 300 | +50 ms |" in report
    assert "exactly the rows of `gta-1` and of `vendor-chunked`" in report
    assert "](benchmarks-chart.png)" in report
    assert (tmp_path / "docs" / "benchmarks-chart.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "data").is_dir() and any((tmp_path / "data").iterdir())
    after = repo_report.stat().st_mtime_ns if repo_report.exists() else None
    assert after == before


def _run(
    scenario: str, latency: int, wall_s: float, rss_mib: float, digest: str = "d1"
) -> dict[str, Any]:
    return {
        "scenario": scenario, "added_latency_ms": latency, "ok": True, "wall_s": wall_s,
        "peak_rss_bytes": int(rss_mib * 2**20), "cpu_s": 1.0, "server_cpu_s": 1.0,
        "other_cpu_s": 0.0, "events": None, "rows": 10, "requests": None, "error": None,
        "row_digest": digest,
    }  # fmt: skip


def _size(
    events: int, gta_s: float, gta_rss: float, page_ms: float, vendor_digest: str = "d1"
) -> dict[str, Any]:
    runs = [
        run
        for lat, gta_wall in ((0, gta_s), (50, 10.0), (100, 4.0))
        for run in (
            _run("limit", lat, 10.0, 50), _run("gta", lat, gta_wall, gta_rss),
            _run("gta-1", lat, 10.0, gta_rss),
            _run("vendor-chunked", lat, 20.0, 500, vendor_digest),
        )
    ]  # fmt: skip
    return {
        "requested_events": events, "events": events, "emulator_startup_s": 1.0,
        "db_reused": True, "runs": runs, "load_average": [0.5, 0.5],
        "page_latency": {"samples_ms": [page_ms] * 3, "page_items": 1000},
    }  # fmt: skip


def test_report_judges_the_targets_from_saved_results(tmp_path: Path) -> None:
    results = {
        "started": "2026-01-01 00:00:00 UTC", "finished": "2026-01-01 00:10:00 UTC",
        "machine": {"cpu": "test"}, "added_latency_ms": 50, "added_latencies": [50, 100],
        "seed": 1, "concurrency": 8,
        "sizes": [
            _size(10_000, 10.0, 100, 10.0),
            # loopback gta/limit = 10/20 = 0.5 (not met); +100 ms gta/limit = 10/4 = 2.5 (not
            # met), gta/vendor-chunked = 20/4 = 5 (met); rows differ from vendor-chunked's
            _size(100_000, 20.0, 110, 11.0, vendor_digest="d2"),
            # RSS 1M/10k = 1.1 (met); page latency 1M/10k = 1.5 (not met); +50 ms: 10/10 = 1
            _size(1_000_000, 30.0, 110, 15.0),
        ],
    }  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(results))

    done = _bench("report", *_paths(tmp_path))

    assert done.returncode == 0, done.stderr
    report = (tmp_path / "docs" / "benchmarks.md").read_text()
    assert "| loopback, 100k: gta / limit >= 0.7 | 0.50 | not met |" in report
    assert "| +100 ms, 100k: gta / limit >= 3 | 2.50 | not met |" in report
    assert "| +100 ms, 100k: gta / vendor-chunked >= 4 | 5.00 | met |" in report
    assert "| +50 ms, 1M: gta / limit >= 2 | 1.00 | not met |" in report
    assert "| gta peak RSS at 1M <= 1.3x at 10k | 1.10 | met |" in report
    assert "| emulator page latency at 1M <= 1.3x at 10k | 1.50 | not met |" in report
    assert "| rows of gta = gta-1 = vendor-chunked, exactly, every size | 3 of 18" in report
    assert "100,000 events, loopback: gta wrote 10 rows, vendor-chunked 10" in report
    row = "| 100,000 | loopback | 10,000 | 5,000 | 10,000 | 5,000 | 0.50 | 0.50 | 1.00 |"
    assert row in report


def test_a_bad_size_is_one_clear_line(tmp_path: Path) -> None:
    done = _bench("run", "--events", "10000,lots", *_paths(tmp_path))

    assert done.returncode == 2
    assert "'lots' is not a backlog size" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "docs").exists()


def test_profile_summary_reads_py_spy_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks._profile import all_threads, main_thread, render_profile, summarise

    src = ROOT / "src" / "gta"
    raw = [
        # the main thread before and after it is named: one thread
        f"thread (7);<module> ({src}/cli/x.py:1);fmt ({src}/formats/_a.py:9) 30",
        f"thread (7): MainThread;<module> ({src}/cli/x.py:1);write ({src}/sinks/_j.py:3) 10",
        "thread (8): gta-fetch;run (engine.py:5);Condition.wait (threading.py:320) 60",
    ]
    profiles = summarise(raw, ROOT)

    main = main_thread(profiles)
    assert main.samples == 40
    assert main.self_counts["fmt (gta/formats/_a.py)"] == 30
    assert main.inclusive_counts["<module> (gta/cli/x.py)"] == 40
    assert "75.0  fmt (gta/formats/_a.py)" in render_profile(main, 5)
    busy = all_threads(raw, ROOT)  # the fetch thread only waits: left out
    assert busy.samples == 40 and "Condition.wait (threading.py)" not in busy.self_counts
