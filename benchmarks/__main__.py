"""``python -m benchmarks run|report``: measure, then write docs/benchmarks.md and its chart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks._harness import BenchConfig, run_benchmarks
from benchmarks._report import write_report
from benchmarks._results import BenchResults
from benchmarks._server import ServerError

DEFAULT = BenchConfig(sizes=(10_000, 100_000, 1_000_000))
_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_sizes(text: str) -> tuple[int, ...]:
    """``10000,100k,1M`` -> (10000, 100000, 1000000); every size a positive whole number."""
    sizes = []
    for part in text.split(","):
        token = part.strip().lower()
        scale = _SUFFIXES.get(token[-1:], 1)
        digits = token[:-1] if scale > 1 else token
        if not digits.isdigit() or int(digits) * scale < 1:
            raise argparse.ArgumentTypeError(
                f"{part.strip()!r} is not a backlog size (use e.g. 10000,100k,1M)"
            )
        sizes.append(int(digits) * scale)
    return tuple(dict.fromkeys(sizes))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure every size, then write the report")
    run.add_argument(
        "--events",
        type=parse_sizes,
        default=DEFAULT.sizes,
        help="backlog sizes, comma-separated (default 10000,100000,1000000)",
    )
    run.add_argument(
        "--latency-ms",
        type=int,
        default=DEFAULT.added_latency_ms,
        help="latency added to every response in the second pass (0: skip it)",
    )
    run.add_argument(
        "--latency-samples",
        type=int,
        default=DEFAULT.latency_samples,
        help="page requests for the page-latency median (default 50)",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT.concurrency,
        help="requests the ceiling client keeps in flight (default 8)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT.child_timeout_s,
        help="seconds before a client, or the emulator's start, is given up",
    )
    run.add_argument(
        "--keep-output",
        action="store_true",
        help="keep the rows gta and the recipe wrote (deleted after counting)",
    )
    for sub in (run, commands.add_parser("report", help="rewrite the report from saved results")):
        sub.add_argument(
            "--out-dir",
            type=Path,
            default=DEFAULT.out_dir,
            help="work files and results.json (default benchmarks/.out)",
        )
        sub.add_argument(
            "--report",
            type=Path,
            default=DEFAULT.report_path,
            help="the Markdown report to write (default docs/benchmarks.md)",
        )
        sub.add_argument(
            "--chart",
            type=Path,
            default=DEFAULT.chart_path,
            help="the PNG chart to write (default docs/benchmarks-chart.png)",
        )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT.data_dir,
        help="where emulator databases are generated and reused (benchmarks/.data)",
    )
    return parser  # fmt: skip


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        results_path = args.out_dir / "results.json"
        if not results_path.exists():
            _log(f"error: no results at {results_path}; run `python -m benchmarks run` first")
            return 1
        results = BenchResults.load(results_path)
    else:
        for name in ("latency_ms", "latency_samples", "concurrency", "timeout"):
            if getattr(args, name) < (0 if name == "latency_ms" else 1):
                _log(f"error: --{name.replace('_', '-')} must be positive")
                return 2
        config = BenchConfig(
            sizes=args.events,
            added_latency_ms=args.latency_ms,
            data_dir=args.data_dir,
            out_dir=args.out_dir,
            report_path=args.report,
            chart_path=args.chart,
            latency_samples=args.latency_samples,
            concurrency=args.concurrency,
            child_timeout_s=args.timeout,
            startup_timeout_s=args.timeout,
            keep_output=args.keep_output,
        )
        try:
            results = run_benchmarks(config, _log)
        except (ServerError, OSError) as exc:
            _log(f"error: {exc}")
            return 1
    write_report(results, args.report, args.chart)
    _log(f"wrote {args.report} and {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
