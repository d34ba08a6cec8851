"""Process tuning for long syncs: one malloc arena, and a cyclic collector that stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import gc, json
from gta.sync._memory import GC_THRESHOLD, tune_process
before = gc.get_freeze_count()
tune_process()
tune_process()  # a second call changes nothing and does not fail
print(json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "before": before, "expected": GC_THRESHOLD}))
"""


def test_tune_process_freezes_imports_and_raises_the_young_threshold() -> None:
    # In a child process: the settings are process-wide and must not leak into the test run.
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["before"] == 0
    assert seen["frozen"] > 1000  # the imported modules' objects are out of the collector's way
    assert seen["threshold"] == [seen["expected"], 10, 10]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_allocator_tuning_applies_once_on_glibc() -> None:
    probe = "from gta.sync._memory import tune_allocator; print(tune_allocator(), tune_allocator())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
