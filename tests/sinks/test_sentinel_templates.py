"""The shipped Sentinel artefacts (integrations/sentinel/) fit the rows gta really sends: every
key of real annotation records of each stream is a declared column of a compatible type, the
ARM template is what its generator writes, and the ASIM function names only declared columns."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from sentinel_standin import declared_streams, fits

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.sinks._sentinel import sentinel_row
from gta.sinks._sentinel_config import DEFAULT_STREAMS

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = ROOT / "integrations" / "sentinel"


@pytest.fixture(scope="module")
def real_rows(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Rows the sink would send for an annotation export of the session emulator, by stream."""
    out = tmp_path_factory.mktemp("rows") / "all.jsonl"
    state = out.with_suffix(".db")
    mp = pytest.MonkeyPatch()
    for name, value in emulator.env().items():
        mp.setenv(name, value)
    try:
        main(["export", "all", "-o", str(out), "--state", str(state), "-q"])
    except SystemExit as exc:
        assert not exc.code
    finally:
        mp.undo()
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in out.read_bytes().splitlines():
        record = orjson.loads(line)
        rows[record["stream"]].append(sentinel_row(record))
    return rows


def test_template_is_what_the_generator_writes() -> None:
    done = subprocess.run(
        [sys.executable, str(SENTINEL / "build_templates.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_key_of_real_records_is_a_declared_column_of_a_fitting_type(
    real_rows: dict[str, list[dict[str, Any]]],
) -> None:
    declared = declared_streams()
    assert set(declared) == set(DEFAULT_STREAMS.values())  # the sink routes to these names
    assert set(real_rows) == set(DEFAULT_STREAMS)  # every stream had records to check
    problems = []
    for gta_stream, rows in real_rows.items():
        columns = declared[DEFAULT_STREAMS[gta_stream]]
        for row in rows:
            for key, value in row.items():
                if key not in columns:
                    problems.append(f"{gta_stream}: {key} is not declared")
                elif not fits(value, columns[key]):
                    problems.append(f"{gta_stream}: {key}={value!r:.40} is not {columns[key]}")
    assert sorted(set(problems)) == []


def test_fits_is_strict() -> None:
    assert fits("2026-11-27T10:00:00Z", "datetime") and not fits("yesterday", "datetime")
    assert fits(3, "long") and not fits("3", "long") and not fits(True, "long")
    assert fits(None, "string") and fits({"a": 1}, "dynamic") and not fits(1, "string")


# Words of KQL (operators, functions, keywords) and the function's own let names.
_KQL = {
    *("let", "summarize", "arg_max", "by", "where", "isnotempty", "join", "kind", "leftouter"),
    *("on", "extend", "case", "iff", "in", "has", "has_any", "coalesce", "strcat", "toint"),
    *("tostring", "bag_pack", "project", "away", "alerts", "context"),
}


def test_asim_function_uses_declared_columns_and_asim_fields() -> None:
    text = (SENTINEL / "ASimAlertEventCiscoGlobalThreatAlerts.kql").read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in text.splitlines())
    code = re.sub(r'"[^"]*"', '""', code)  # string literals are not names
    declared = declared_streams()
    known = set(declared["Custom-GtaAlerts"]) | set(declared["Custom-GtaEvents"])
    names = set(re.findall(r"\b([a-z][A-Za-z0-9_]*)\*?", code)) - _KQL
    assert names - known == set()  # every lower-case name is a column of the two tables
    for field in ("EventType", "EventSchema", "EventSchemaVersion", "EventUid", "EventCount",
                  "EventStartTime", "EventEndTime", "EventVendor", "EventProduct",
                  "EventSeverity", "AlertId", "AlertName", "AlertStatus"):  # fmt: skip
        assert re.search(rf"\b{field} =", code), field  # the schema's mandatory/recommended
