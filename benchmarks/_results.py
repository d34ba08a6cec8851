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

SCENARIOS = ("limit", "gta", "gta-1", "vendor", "vendor-chunked", "recipe")
"""Every client the harness knows, in the order they run (see docs/benchmarks.md)."""
DEFAULT_SCENARIOS = ("limit", "gta", "gta-1", "vendor", "vendor-chunked")
"""What ``run`` measures unless told: the per-page recipe is slow and no longer the baseline."""


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
    row_digest: str | None = None
    """Order-free digest of the rows' content (see ``_rows``): equal digests, equal rows."""

    def events_per_s(self, backlog: int) -> float | None:
        if not self.ok or self.wall_s <= 0:
            return None
        return backlog / self.wall_s


@dataclass
class PageLatency:
    """Client-side time of single ``GET`` requests for a page of enriched events, no fault."""

    samples_ms: list[float]
    page_items: int
    readers: int = 1

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
    page_latency_8: PageLatency | None = None
    """The same pages requested by 8 readers at once (partitioned backfill)."""
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
    added_latencies: list[int] = field(default_factory=list)
    """Every latency measured besides loopback (older results: only ``added_latency_ms``)."""
    sizes: list[SizeResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Backlog sizes that could not be measured at all (the emulator did not start...)."""

    @property
    def latencies(self) -> list[int]:
        """Loopback (0), then every added latency, in the order they were measured."""
        added = self.added_latencies or ([self.added_latency_ms] if self.added_latency_ms else [])
        return [0, *added]

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
            latency_8 = size.pop("page_latency_8", None)
            sizes.append(
                SizeResult(
                    runs=runs,
                    page_latency=PageLatency(**latency) if latency else None,
                    page_latency_8=PageLatency(**latency_8) if latency_8 else None,
                    **size,
                )
            )
        return cls(sizes=sizes, **data)
