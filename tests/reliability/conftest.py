"""Fixtures and hooks of the reliability suite (see docs/reliability.md).

Besides putting this folder on ``sys.path`` (the helpers are imported by name), it records the
outcome and duration of every test run here in ``.results/outcomes.json``, which
``make_report.py`` turns into the report's tables together with the figures the tests wrote.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

_OUTCOMES: dict[str, dict[str, Any]] = {}
_STARTED = time.time()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = Path(str(report.fspath)).resolve()
    if HERE not in path.parents:
        return
    entry = _OUTCOMES.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0})
    entry["seconds"] = round(entry["seconds"] + report.duration, 2)
    if report.failed:
        entry["outcome"] = "failed"
        entry["message"] = str(report.longrepr).splitlines()[-1][:300] if report.longrepr else ""
    elif report.skipped and entry["outcome"] != "failed":
        entry["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _OUTCOMES:
        return
    results = HERE / ".results"
    results.mkdir(exist_ok=True)
    target = results / "outcomes.json"
    previous: dict[str, Any] = {}
    if target.exists():  # a partial run updates the tests it ran, keeps the others
        previous = json.loads(target.read_text()).get("tests", {})
    previous.update(_OUTCOMES)
    target.write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "wall_seconds": round(time.time() - _STARTED, 1),
                "args": sys.argv[1:],
                "tests": previous,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
