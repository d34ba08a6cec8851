"""docs/benchmarks.md, written from a run's results (never edited by hand).

The targets are reported, not asserted: a miss is written down as one, with the figure, so the
report stays true whatever the machine did.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks._clients import CLIENTS
from benchmarks._freshness import keep_section as keep_freshness
from benchmarks._results import SCENARIOS, BenchResults, SizeResult
from benchmarks._startup import keep_section
from benchmarks._tables import (
    _cpu_budget,
    _details,
    _network,
    _num,
    _page_latency,
    _ratio,
    _table,
)

MIB = 2**20


@dataclass(frozen=True)
class Target:
    """One stated target, and what this run measured of it."""

    text: str
    measured: str
    status: str  # "met", "not met" or "not measured"


def _size(results: BenchResults, events: int) -> SizeResult | None:
    return next((s for s in results.sizes if s.requested_events == events), None)


def _size_label(events: int) -> str:
    if events >= 1_000_000 and events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events >= 1000 and events % 1000 == 0:
        return f"{events // 1000}k"
    return str(events)


def _rss(size: SizeResult, scenario: str, latency: int) -> float | None:
    run = size.run(scenario, latency)
    return run.peak_rss_bytes / MIB if run and run.ok else None


def _judge(value: float | None, bound: float, at_least: bool) -> str:
    if value is None:
        return "not measured"
    ok = value >= bound if at_least else value <= bound
    return "met" if ok else "not met"


def _target_ratio(
    results: BenchResults, events: int, latency: int, scenario: str, baseline: str
) -> float | None:
    size = _size(results, events)
    if size is None or latency not in results.latencies:
        return None
    return _ratio(size.rate(scenario, latency), size.rate(baseline, latency))


def targets(results: BenchResults) -> list[Target]:
    """The targets of issue #18, judged on this run's figures."""
    out: list[Target] = []
    for events, latency, baseline, bound in (
        (100_000, 100, "limit", 3.0),
        (1_000_000, 100, "limit", 3.0),
        (100_000, 100, "vendor-chunked", 4.0),
        (1_000_000, 50, "limit", 2.0),
        (100_000, 0, "limit", 0.7),
    ):
        r = _target_ratio(results, events, latency, "gta", baseline)
        where = _network(latency)
        out.append(
            Target(
                f"{where}, {_size_label(events)}: gta / {baseline} >= {bound:g}",
                _num(r, 2),
                _judge(r, bound, at_least=True),
            )
        )
    s10, s1m = _size(results, 10_000), _size(results, 1_000_000)
    largest = max(
        (s for s in results.sizes if s.requested_events > 10_000),
        default=None,
        key=lambda s: s.requested_events,
    )
    for text, value_of, bound in (
        ("gta peak RSS at 1M <= 1.3x at 10k", lambda s: _rss(s, "gta", 0), 1.3),
        (
            "emulator page latency at 1M <= 1.3x at 10k",
            lambda s: s.page_latency.median_ms if s.page_latency else None,
            1.3,
        ),
    ):
        r = _ratio(value_of(s1m), value_of(s10)) if s1m and s10 else None
        measured = _num(r, 2)
        if r is None and s10 and largest:
            hint = _ratio(value_of(largest), value_of(s10))
            label = _size_label(largest.requested_events)
            measured = f"1M not in this run; {label} / 10k = {_num(hint, 2)}"
        out.append(Target(text, measured, _judge(r, bound, at_least=False)))
    same, compared = _rows_agree(results)
    out.append(
        Target(
            "rows of gta = gta-1 = vendor-chunked, exactly, every size",
            f"{len(same)} of {compared} comparisons differ" if compared else "n/a",
            "not measured" if not compared else ("met" if not same else "not met"),
        )
    )
    return out


def _present(results: BenchResults) -> list[str]:
    """The clients this run measured, in the harness's order."""
    ran = {run.scenario for size in results.sizes for run in size.runs}
    return [s for s in SCENARIOS if s in ran]


def _latencies(results: BenchResults) -> list[int]:
    return results.latencies


RATIOS = (("gta", "limit"), ("gta", "gta-1"), ("gta", "vendor-chunked"))


def _throughput(results: BenchResults) -> Iterator[str]:
    clients = _present(results)
    ratios = [(a, b) for a, b in RATIOS if a in clients and b in clients]
    rows = []
    for size in results.sizes:
        for lat in _latencies(results):
            rates = {s: size.rate(s, lat) for s in clients}
            cells = [_num(rates[s]) if size.run(s, lat) else "" for s in clients]
            for s in clients:
                run = size.run(s, lat)
                if run is not None and not run.ok:
                    cells[clients.index(s)] = "failed"
            rows.append(
                [
                    f"{size.events:,}",
                    _network(lat),
                    *cells,
                    *(_num(_ratio(rates[a], rates[b]), 2) for a, b in ratios),
                ]
            )
    header = ["events", "network", *clients, *(f"{a} / {b}" for a, b in ratios)]
    yield from _table(header, rows, text_columns=2)


def _memory(results: BenchResults) -> Iterator[str]:
    clients = _present(results)
    rows = [
        [f"{size.events:,}", _network(lat), *(_num(_rss(size, s, lat)) for s in clients)]
        for size in results.sizes
        for lat in _latencies(results)
    ]
    yield from _table(["events", "network", *clients], rows, text_columns=2)


def _section(title: str, body: list[str]) -> list[str]:
    """A heading and its body with a blank line after, or nothing when there is no body."""
    return [f"## {title}", "", *body, ""] if body else []


def _rows_agree(results: BenchResults) -> tuple[list[str], int]:
    """(differences, comparisons) of gta's rows against gta-1's and vendor-chunked's, by the
    order-free digest of their content (``benchmarks/_rows.py``)."""
    problems, compared = [], 0
    for size in results.sizes:
        for lat in _latencies(results):
            gta = size.run("gta", lat)
            for other in ("gta-1", "vendor-chunked"):
                run = size.run(other, lat)
                if not (gta and run and gta.ok and run.ok and gta.row_digest and run.row_digest):
                    continue
                compared += 1
                if (gta.rows, gta.row_digest) != (run.rows, run.row_digest):
                    problems.append(
                        f"{size.events:,} events, {_network(lat)}: gta wrote {gta.rows:,} rows, "
                        f"{other} {run.rows:,}, and their contents differ"
                        if gta.rows == run.rows
                        else f"{size.events:,} events, {_network(lat)}: gta wrote "
                        f"{gta.rows:,} rows, {other} {run.rows:,}"
                    )
    return problems, compared


def _row_check(results: BenchResults) -> str:
    """Whether gta, one-cursor gta and vendor-chunked wrote exactly the same rows."""
    problems, compared = _rows_agree(results)
    if problems:
        return "Rows differ: " + "; ".join(problems) + "."
    if not compared:
        return (
            "No pair of `gta` and `gta-1` or `vendor-chunked` runs both succeeded, so rows were "
            "not compared."
        )
    return (
        f"`gta` wrote exactly the rows of `gta-1` and of `vendor-chunked` (the same multiset of "
        f"row contents, compared by digest; `benchmarks/_rows.py`) in each of the {compared} "
        "comparisons of runs that both succeeded."
    )


def _repeat_note(repeat: int) -> str:
    return (
        "Each figure is from one run." if repeat == 1 else f"Each is the fastest of {repeat} runs."
    )


def _busy_note(results: BenchResults) -> str:
    """One line on how much else ran while clients were measured (the machine may be shared)."""
    runs = [run for size in results.sizes for run in size.runs]
    wall = sum(run.wall_s for run in runs)
    other = sum(run.other_cpu_s for run in runs) / wall if wall > 0 else 0.0
    cores = results.machine.get("logical_cores") or 1
    verdict = (
        "the machine was busy: wall times, hence events/s, are pessimistic"
        if other > 0.25 * cores
        else "the machine was quiet"
    )
    return (
        f"While clients ran, other processes used {other:.2f} of {cores} cores on average: "
        f"{verdict}."
    )


def _machine(results: BenchResults) -> Iterator[str]:
    m = results.machine
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    start = m.get("load_average_at_start", [])
    end = m.get("load_average_at_end", [])
    cores = f"{m.get('logical_cores')} logical cores"
    yield f"- CPU: {m.get('cpu')} ({cores}); memory {m.get('memory_gib')} GiB"
    yield f"- OS: {m.get('os')}; Python {m.get('python')}"
    yield f"- Libraries: {versions}"
    yield f"- Commit: {m.get('commit')}; run from {results.started} to {results.finished}"
    startup = m.get("gta_startup")
    if startup:
        wall, cpu = startup["wall_s"], startup["cpu_s"]
        yield (
            f"- Start-up: `gta --version` takes {wall:.2f} s ({cpu:.2f} s CPU), a fixed cost "
            "inside every `gta` figure below"
        )
    yield (
        f"- Load average (1, 5, 15 min) at start {start}, at end {end}. The emulator and each "
        "client share these cores; 'other load' below is the CPU used by everything else while "
        "a client ran (a busy machine shows here)."
    )


def render(results: BenchResults, chart_name: str) -> str:
    """The whole Markdown report."""
    added = ", ".join(f"+{lat} ms" for lat in results.latencies[1:]) or "no latency"
    clients = _present(results)
    sizes = ",".join(str(s.requested_events) for s in results.sizes)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python -m benchmarks run --events {sizes}`; do not edit by hand.",
        "",
        f"{len(clients)} clients fetch the same backlog of enriched events from the emulator "
        "(`gta emulator serve`, a separate process on loopback, seed "
        f"{results.seed}, a file database generated once and reused):",
        "",
        *(f"- {CLIENTS[c].format(concurrency=results.concurrency)}" for c in clients),
        "",
        "Each client is a fresh child process. **events/s** is the backlog divided by the wall "
        "time of that process, start-up and imports included; **peak RSS** is its high-water "
        f"mark (`wait4`). {_repeat_note(results.repeat)} "
        "Each client runs on loopback as it is, and again with "
        f"each of **{added}** added to every emulator response (its latency fault), as for a "
        "client far from the vendor's EU host.",
        "",
        "Reproduce with `python -m benchmarks run [--events 10000,100000,1000000]` (emulator "
        "databases are kept under `benchmarks/.data/` and reused; work files and `results.json` "
        "go to `benchmarks/.out/`); `python -m benchmarks report` redraws this page from the "
        "saved results; `python -m benchmarks profile --events 100000 [--latency-ms 50]` runs "
        "`gta export` under py-spy and prints where its wall time goes.",
        "",
        "## Machine",
        "",
        *_machine(results),
        "",
        "## Throughput (events/s)",
        "",
        _busy_note(results),
        "",
        *(f"**Not measured**: {failure}" for failure in results.failures),
        *([""] if results.failures else []),
        *_throughput(results),
        "",
        f"![Throughput and peak memory against backlog size]({chart_name})",
        "",
        "## Peak memory of the client (RSS, MiB)",
        "",
        *_memory(results),
        "",
        "## Emulator page latency",
        "",
        "`GET`s of a page of enriched events at cursors spread over the backlog, measured by "
        "the client on loopback with no fault: one at a time, then from 8 threads at once (as "
        "8 partitioned readers ask).",
        "",
        *_page_latency(results),
        "",
        "## Targets",
        "",
        *_table(
            ["target", "measured", "status"],
            [[t.text, t.measured, t.status] for t in targets(results)],
            text_columns=3,
        ),
        "",
        *_section("CPU budget", list(_cpu_budget(results))),
        "## Details",
        "",
        *_details(results),
        "",
        _row_check(results),
        "",
    ]
    return "\n".join(lines)


def write_report(results: BenchResults, report_path: Path, chart_path: Path) -> None:
    """Write the Markdown report and its chart (the chart linked relative to the report)."""
    from benchmarks._chart import draw_chart  # matplotlib loads only when a report is written
    from benchmarks.workers import keep_section as keep_workers  # runs as `-m benchmarks.workers`

    draw_chart(results, chart_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    chart_name = os.path.relpath(chart_path, report_path.parent)
    old = report_path.read_text(encoding="utf-8") if report_path.exists() else ""
    # The start-up, freshness and workers sections belong to their own commands: keep them.
    page = keep_section(old, render(results, chart_name))
    report_path.write_text(keep_workers(old, keep_freshness(old, page)))
