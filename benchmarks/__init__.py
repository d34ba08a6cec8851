"""Benchmarks of ``gta``: throughput and memory of ``gta export`` against a ceiling and the
vendor's recipe, over emulator backlogs of growing size. Run ``python -m benchmarks run``;
the report is docs/benchmarks.md.

Only the harness is re-exported here; ``limit.py`` and ``recipe.py`` run as scripts (their own
processes, so their memory is their own) and import nothing from this package.
"""

from benchmarks._harness import BenchConfig, run_benchmarks
from benchmarks._report import write_report
from benchmarks._results import BenchResults, PageLatency, RunResult, SizeResult

__all__ = [
    "BenchConfig",
    "BenchResults",
    "PageLatency",
    "RunResult",
    "SizeResult",
    "run_benchmarks",
    "write_report",
]
