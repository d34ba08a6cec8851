"""The measurements of one benchmark run, as plain dataclasses saved to and read from JSON.

Keeping the raw numbers in a file lets ``python -m benchmarks report`` redraw the report and chart
without measuring again, and lets the smoke test check what was measured, not only the prose.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCENARIOS = ("limit", "gta", "recipe")


@dataclass
class RunResult:
    """One client run against one backlog, on loopback (``added_latency_ms`` 0) or with latency."""

    scenario: str
    added_latency_ms: int
    ok: bool
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float
    server_cpu_s: float
    other_cpu_s: float
    events: int | None = None
    rows: int | None = None
    requests: int | None = None
    error: str | None = None

    def events_per_s(self, backlog: int) -> float | None:
        if not self.ok or self.wall_s <= 0:
            return None
        return backlog / self.wall_s


@dataclass
class PageLatency:
    """Client-side time of single ``GET`` requests for a page of enriched events, no fault."""

    samples_ms: list[float]
    page_items: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


@dataclass
class SizeResult:
    """Everything measured against one emulator backlog."""

    requested_events: int
    events: int
    emulator_startup_s: float
    db_reused: bool
    runs: list[RunResult] = field(default_factory=list)
    page_latency: PageLatency | None = None
    load_average: list[float] = field(default_factory=list)

    def run(self, scenario: str, added_latency_ms: int) -> RunResult | None:
        for run in self.runs:
            if run.scenario == scenario and run.added_latency_ms == added_latency_ms:
                return run
        return None

    def rate(self, scenario: str, added_latency_ms: int) -> float | None:
        run = self.run(scenario, added_latency_ms)
        return run.events_per_s(self.events) if run else None


@dataclass
class BenchResults:
    """A whole run: machine, settings and one ``SizeResult`` per backlog size."""

    started: str
    finished: str
    machine: dict[str, Any]
    added_latency_ms: int
    seed: int
    concurrency: int
    repeat: int = 1
    sizes: list[SizeResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Backlog sizes that could not be measured at all (the emulator did not start...)."""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> BenchResults:
        data = json.loads(path.read_text())
        sizes = []
        for size in data.pop("sizes"):
            runs = [RunResult(**run) for run in size.pop("runs")]
            latency = size.pop("page_latency")
            sizes.append(
                SizeResult(
                    runs=runs,
                    page_latency=PageLatency(**latency) if latency else None,
                    **size,
                )
            )
        return cls(sizes=sizes, **data)
