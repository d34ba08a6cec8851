"""The chart of the report: throughput and peak memory against backlog size (PNG, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt

from benchmarks._results import SCENARIOS, BenchResults

COLOURS = {
    "limit": "#7f7f7f",
    "gta": "#1f77b4",
    "gta-1": "#17becf",
    "vendor": "#ff7f0e",
    "vendor-chunked": "#d62728",
    "recipe": "#9467bd",
}


def _label(scenario: str, latency: int) -> str:
    return f"{scenario} ({'loopback' if latency == 0 else f'+{latency} ms'})"


def draw_chart(results: BenchResults, path: Path) -> None:
    """Two panels: events/s and peak RSS (MiB) of each client, solid on loopback, dashed with
    latency added; the x axis is the backlog size (log scale)."""
    figure, (rate_ax, rss_ax) = plt.subplots(1, 2, figsize=(12, 4.8))
    latencies = results.latencies
    dashes = ["-", "--", ":", "-."]
    all_rss: list[float] = []
    for scenario in SCENARIOS:
        for latency in latencies:
            rates: list[tuple[int, float]] = []
            memory: list[tuple[int, float]] = []
            for size in results.sizes:
                run = size.run(scenario, latency)
                rate = size.rate(scenario, latency)
                if run is None or rate is None:
                    continue
                rates.append((size.events, rate))
                memory.append((size.events, run.peak_rss_bytes / 2**20))
            style = {
                "color": COLOURS[scenario],
                "linestyle": dashes[latencies.index(latency) % len(dashes)],
                "marker": "o" if latency == 0 else "s",
                "label": _label(scenario, latency),
            }
            all_rss.extend(mib for _, mib in memory)
            if rates:
                rate_ax.plot(*zip(*rates, strict=True), **style)
                rss_ax.plot(*zip(*memory, strict=True), **style)
    rate_ax.set_title("Throughput")
    rate_ax.set_ylabel("events / s (higher is better)")
    rss_ax.set_title("Peak memory of the client process")
    rss_ax.set_ylabel("peak RSS, MiB (lower is better)")
    for ax in (rate_ax, rss_ax):
        ax.set_xscale("log")
        ax.set_xlabel("backlog (events)")
        ax.grid(True, which="both", alpha=0.3)
    rate_ax.set_ylim(bottom=0)
    low, high = min(all_rss, default=1.0), max(all_rss, default=1.0)
    if low > 0 and high / low > 10:  # a client that holds the backlog dwarfs the others
        rss_ax.set_yscale("log")
        rss_ax.set_ylabel("peak RSS, MiB, log scale (lower is better)")
    else:
        rss_ax.set_ylim(bottom=0)
    handles, labels = rate_ax.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
