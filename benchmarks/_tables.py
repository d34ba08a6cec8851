"""The plainer tables of docs/benchmarks.md: page latency, CPU budget, every run's details."""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks._results import BenchResults


def _network(latency: int) -> str:
    return "loopback" if latency == 0 else f"+{latency} ms"


def _num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> Iterator[str]:
    """A Markdown table: the first ``text_columns`` left-aligned, numbers right-aligned."""
    yield "| " + " | ".join(header) + " |"
    yield "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|"
    for row in rows:
        yield "| " + " | ".join(row) + " |"


def _page_latency(results: BenchResults) -> Iterator[str]:
    rows = []
    for size in results.sizes:
        pl, pl8 = size.page_latency, size.page_latency_8
        figures = ["n/a", "n/a", "0", "n/a"]
        if pl is not None:
            median, p90 = _num(pl.median_ms, 1), _num(pl.p90_ms, 1)
            figures = [median, p90, str(len(pl.samples_ms)), str(pl.page_items)]
        eight = ["n/a", "n/a"]
        if pl8 is not None:
            eight = [_num(pl8.median_ms, 1), _num(pl8.p90_ms, 1)]
        database = "reused" if size.db_reused else "generated"
        rows.append(
            [f"{size.events:,}", *figures, *eight, _num(size.emulator_startup_s, 1), database]
        )
    header = ["events", "median ms", "p90 ms", "requests", "events per page"]
    header += ["8 readers: median ms", "8 readers: p90 ms"]
    yield from _table([*header, "emulator start s", "database"], rows)


def _cpu_budget(results: BenchResults) -> Iterator[str]:
    """Why loopback throughput is what it is: CPU per 1000 events, and the bound it sets.

    ``gta export`` runs its stages on threads of one interpreter, so its wall time cannot be
    shorter than the CPU time it spends under the interpreter lock: ``limit wall / gta CPU`` is
    the best gta / limit ratio that process could reach, whatever it overlaps.
    """
    rows = []
    for size in results.sizes:
        limit, gta = size.run("limit", 0), size.run("gta", 0)
        if not (limit and gta and limit.ok and gta.ok and size.events):
            continue
        per_k = 1000 / size.events
        rows.append(
            [
                f"{size.events:,}",
                _num(limit.cpu_s * per_k * 1000, 1),
                _num(gta.cpu_s * per_k * 1000, 1),
                _num(gta.server_cpu_s * per_k * 1000, 1),
                _num(_ratio(limit.wall_s, gta.cpu_s), 2),
                _num(_ratio(limit.wall_s, gta.wall_s), 2),
            ]
        )
    if not rows:
        return
    yield (
        "Client CPU per 1000 events on loopback (start-up included). gta's stages are threads "
        "of one interpreter and share its lock; only system calls run outside it, so gta's wall "
        "time is about its CPU time at best, and `limit wall / gta CPU` is about the best "
        "gta / limit this process can reach, however well it overlaps."
    )
    yield ""
    header = [
        "events", "limit CPU ms", "gta CPU ms", "emulator CPU ms (gta run)",
        "bound: limit wall / gta CPU", "gta / limit",
    ]  # fmt: skip
    yield from _table(header, rows)


def _details(results: BenchResults) -> Iterator[str]:
    rows = []
    for size in results.sizes:
        for run in size.runs:
            busy = run.other_cpu_s / run.wall_s if run.wall_s > 0 else 0.0
            rows.append(
                [
                    f"{size.events:,}",
                    _network(run.added_latency_ms),
                    run.scenario,
                    _num(run.wall_s, 2),
                    _num(run.cpu_s, 2),
                    _num(run.server_cpu_s, 2),
                    _num(busy, 2),
                    _num(run.requests) if run.requests is not None else "",
                    _num(run.rows) if run.rows is not None else "",
                    "ok" if run.ok else f"failed: {run.error}",
                ]
            )
    header = [
        "events", "network", "client", "wall s", "client CPU s", "emulator CPU s",
        "other load (cores)", "requests", "rows written", "result",
    ]  # fmt: skip
    yield from _table(header, rows, text_columns=3)
