"""The benchmark run: one emulator process per backlog size, each client a fresh child process.

For each size: start ``gta emulator serve`` with a file database (generated once, reused), then
on loopback as it is, and again with each added latency, run the one-cursor ceiling
(``limit.py``), ``gta export`` (readers chosen by gta, then ``--readers 1``), the vendor's script
(``vendor.py``, as written and chunked) and, when asked, the per-page recipe (``recipe.py``), one
after the other so they never compete; probe page latency on loopback, one reader at a time and
eight at once. Results are saved after every size, so a
run that fails late keeps what it measured.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from benchmarks._child import ChildResult, run_child
from benchmarks._latency import measure_page_latency
from benchmarks._results import (
    DEFAULT_SCENARIOS,
    SCENARIOS,
    BenchResults,
    RunResult,
    SizeResult,
)
from benchmarks._rows import rows_digest
from benchmarks._server import EmulatorServer, ServerError, gta_command
from benchmarks._startup import compile_bytecode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    """What to measure and where to put it. Paths default to the repository's own."""

    sizes: tuple[int, ...]
    added_latencies_ms: tuple[int, ...] = (50, 100)
    seed: int = 1
    data_dir: Path = BENCH_DIR / ".data"
    out_dir: Path = BENCH_DIR / ".out"
    report_path: Path = ROOT / "docs" / "benchmarks.md"
    chart_path: Path = ROOT / "docs" / "benchmarks-chart.png"
    latency_samples: int = 50
    concurrency: int = 8
    child_timeout_s: float = 3600.0
    startup_timeout_s: float = 3600.0
    keep_output: bool = False
    repeat: int = 1
    scenarios: tuple[str, ...] = field(default=DEFAULT_SCENARIOS)

    @property
    def results_path(self) -> Path:
        return self.out_dir / "results.json"

    @property
    def latencies(self) -> tuple[int, ...]:
        return (0, *(lat for lat in self.added_latencies_ms if lat > 0))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: CPU, cores, memory, OS, Python and library versions."""
    return {
        "cpu": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: _version(name)
            for name in ("gta", "httpx", "requests", "orjson", "pydantic", "fastapi", "uvicorn")
        },
        "commit": _git_commit(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def measure_startup(work: Path, attempts: int = 2) -> dict[str, float]:
    """Wall and CPU time of ``gta --version`` (best of ``attempts``): the fixed cost of starting
    the command, paid once per run and large next to a small backlog."""
    work.mkdir(parents=True, exist_ok=True)
    runs = [
        run_child(
            [*gta_command(), "--version"],
            env=os.environ,
            cwd=work,
            log_prefix=work / "gta-version",
            timeout_s=120.0,
        )
        for _ in range(attempts)
    ]
    best = min(runs, key=lambda r: r.wall_s)
    return {"wall_s": round(best.wall_s, 3), "cpu_s": round(best.cpu_s, 3)}


def count_lines(path: Path) -> int:
    """Newlines in ``path`` (0 when it does not exist), read in blocks to stay small."""
    if not path.exists():
        return 0
    lines = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
    return lines


def _error_of(child: ChildResult) -> str | None:
    if child.timed_out:
        return f"timed out after {child.wall_s:.0f} s"
    if child.returncode != 0:
        last = child.stderr_tail.splitlines()[-1] if child.stderr_tail else "no stderr"
        return f"exit code {child.returncode}: {last[:300]}"
    return None


class SizeRun:
    """Runs every scenario against one started emulator."""

    def __init__(self, config: BenchConfig, server: EmulatorServer, work: Path, log: Log) -> None:
        self.config = config
        self.server = server
        self.work = work
        self.log = log
        self.env = {
            **os.environ,
            **server.credentials,
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        # every client reads compiled bytecode, as an installed one does (the scripts' own
        # imports are installed packages, compiled by pip; gta's editable sources are not)
        compile_bytecode(self.env)
        self.limit_summary: dict[str, Any] = {}

    def command(self, scenario: str, tag: str) -> tuple[list[str], Path]:
        """The child's command line and the file it writes (output rows or summary).

        ``tag`` is unique per attempt, so every attempt starts from an empty state and cursor.
        """
        if scenario == "limit":
            summary = self.work / f"{tag}.json"
            cmd = [sys.executable, str(BENCH_DIR / "limit.py"), "--summary", str(summary)]
            return [*cmd, "--concurrency", str(self.config.concurrency)], summary
        output = self.work / f"{tag}.jsonl"
        if scenario in ("gta", "gta-1"):
            state = self.work / f"{tag}.state"
            cmd = [*gta_command(), "export", "events", "--schema", "annotation"]
            cmd += ["--output", str(output), "--state", str(state)]
            return [*cmd, "--readers", "1"] if scenario == "gta-1" else cmd, output
        if scenario in ("vendor", "vendor-chunked", "recipe"):
            script = "recipe.py" if scenario == "recipe" else "vendor.py"
            cursor = self.work / f"{tag}.cursor"
            cmd = [sys.executable, str(BENCH_DIR / script), "--output", str(output)]
            cmd += ["--cursor-file", str(cursor)]
            return [*cmd, "--chunked"] if scenario == "vendor-chunked" else cmd, output
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")

    def run(self, scenario: str, latency: int) -> RunResult:
        """The fastest of ``config.repeat`` attempts, or the first failed one."""
        attempts = [self.attempt(scenario, latency, n) for n in range(self.config.repeat)]
        failed = [a for a in attempts if not a.ok]
        return failed[0] if failed else min(attempts, key=lambda a: a.wall_s)

    def attempt(self, scenario: str, latency: int, n: int) -> RunResult:
        tag = f"{scenario}-{latency}ms-{n + 1}"
        cmd, product = self.command(scenario, tag)
        child = run_child(
            cmd,
            env=self.env,
            cwd=self.work,
            log_prefix=self.work / tag,
            timeout_s=self.config.child_timeout_s,
            server_pid=self.server.pid,
        )
        error = _error_of(child)
        result = RunResult(
            scenario=scenario,
            added_latency_ms=latency,
            ok=error is None,
            wall_s=child.wall_s,
            peak_rss_bytes=child.peak_rss_bytes,
            cpu_s=child.cpu_s,
            server_cpu_s=child.server_cpu_s,
            other_cpu_s=child.other_cpu_s,
            error=error,
        )
        if scenario == "limit" and product.exists():
            summary = json.loads(product.read_bytes())
            result.events, result.requests = summary["events"], summary["requests"]
            if latency == 0:
                self.limit_summary = summary
        elif scenario != "limit":
            if result.ok and product.exists():
                result.rows, result.row_digest = rows_digest(product)
            else:
                result.rows = count_lines(product)
            last = child.stderr_tail.splitlines()[-1] if child.stderr_tail else ""
            if last.startswith(f"{scenario}: "):
                result.events = int(last.split()[1])
            if not self.config.keep_output:
                product.unlink(missing_ok=True)
        return result


def measure_size(config: BenchConfig, size: int, log: Log) -> SizeResult:
    """Start the emulator for ``size`` events and measure every scenario against it."""
    db_path = config.data_dir / f"emulator-seed{config.seed}-events{size}.sqlite"
    work = config.out_dir / f"events-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log(f"[{size}] starting the emulator (database {db_path.name})")
    with EmulatorServer(
        events=size,
        seed=config.seed,
        db_path=db_path,
        log_dir=work,
        startup_timeout_s=config.startup_timeout_s,
    ) as server:
        reused = server.db_existed
        log(f"[{size}] emulator ready in {server.startup_s:.1f} s (database reused: {reused})")
        result = SizeResult(
            requested_events=size,
            events=size,
            emulator_startup_s=server.startup_s,
            db_reused=reused,
        )
        size_run = SizeRun(config, server, work, log)
        for latency in config.latencies:
            server.set_latency(latency)
            result.load_average.append(round(os.getloadavg()[0], 2))
            for scenario in config.scenarios:
                run = size_run.run(scenario, latency)
                result.runs.append(run)
                if scenario == "limit" and latency == 0 and run.events:
                    result.events = run.events
                    cursors = size_run.limit_summary.get("cursors", [None])
                    result.page_latency = measure_page_latency(
                        server.credentials, cursors, config.latency_samples
                    )
                    result.page_latency_8 = measure_page_latency(
                        server.credentials, cursors, config.latency_samples, readers=8
                    )
                    log(
                        f"[{size}] page latency median {result.page_latency.median_ms:.1f} ms, "
                        f"{result.page_latency_8.median_ms:.1f} ms under 8 readers"
                    )
                _log_run(log, size, result.events, run)
        server.set_latency(0)
    return result


def _log_run(log: Log, size: int, events: int, run: RunResult) -> None:
    where = "loopback" if run.added_latency_ms == 0 else f"+{run.added_latency_ms} ms"
    if not run.ok:
        log(f"[{size}] {run.scenario} {where}: FAILED ({run.error})")
        return
    rate = run.events_per_s(events) or 0.0
    rss = run.peak_rss_bytes / 2**20
    log(f"[{size}] {run.scenario} {where}: {run.wall_s:.1f} s, {rate:,.0f} events/s, {rss:.0f} MiB")


def run_benchmarks(config: BenchConfig, log: Log) -> BenchResults:
    """Measure every size, save ``results.json`` as it goes, and return the results."""
    results = BenchResults(
        started=_now(),
        finished="",
        machine=machine_info(),
        added_latency_ms=config.latencies[1] if len(config.latencies) > 1 else 0,
        added_latencies=list(config.latencies[1:]),
        seed=config.seed,
        concurrency=config.concurrency,
        repeat=config.repeat,
    )
    results.machine["gta_startup"] = measure_startup(config.out_dir)
    log(f"gta --version takes {results.machine['gta_startup']['wall_s']:.2f} s")
    for size in config.sizes:
        try:
            results.sizes.append(measure_size(config, size, log))
        except (ServerError, httpx.HTTPError, OSError) as exc:
            # one backlog that cannot be served must not lose the others' figures
            results.failures.append(f"{size:,} events: {exc}")
            log(f"[{size}] not measured: {exc}")
        results.finished = _now()
        results.save(config.results_path)
    results.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results.save(config.results_path)
    return results
