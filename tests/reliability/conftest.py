"""Fixtures and hooks of the reliability suite (see docs/reliability.md).

It records the
outcome and duration of every test run here in ``.results/outcomes.json``, which
``make_report.py`` turns into the report's tables together with the figures the tests wrote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

_OUTCOMES: dict[str, dict[str, Any]] = {}
_STARTED = time.time()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # by node id (relative to the rootdir): a test may have changed the working directory
    if not report.nodeid.startswith(f"{HERE.parent.name}/{HERE.name}/"):
        return
    entry = _OUTCOMES.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0})
    entry["seconds"] = round(entry["seconds"] + report.duration, 2)
    if report.failed:
        entry["outcome"] = "failed"
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)
        entry["message"] = " ".join(text.split())[:300]
    elif report.skipped and entry["outcome"] != "failed":
        entry["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _OUTCOMES:
        return
    results = HERE / ".results"
    results.mkdir(exist_ok=True)
    target = results / "outcomes.json"
    previous: dict[str, Any] = {}
    stored: dict[str, Any] = json.loads(target.read_text()) if target.exists() else {}
    if stored:  # a partial run updates the tests it ran, keeps the others
        previous = stored.get("tests", {})
        root = HERE.parent.parent
        previous = {  # forget tests whose file is gone (renamed or removed)
            k: v for k, v in previous.items() if (root / k.split("::")[0]).exists()
        }
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    session = {"finished_at": now, "wall_seconds": round(time.time() - _STARTED, 1)}
    files_run = {k.split("::")[0].rsplit("/", 1)[-1] for k in _OUTCOMES}
    every_file = {p.name for p in HERE.glob("test_*.py")}
    is_full = files_run >= every_file
    if is_full:  # a full run is the whole truth: forget test ids that no longer exist
        previous = {}
    previous.update(_OUTCOMES)
    full_run = session if is_full else stored.get("full_run")
    target.write_text(
        json.dumps(
            {"last_session": session, "full_run": full_run, "tests": previous},
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
