"""``python -m benchmarks run|report|profile|startup|freshness``: measure, then write
docs/benchmarks.md (and its chart)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks._harness import BenchConfig, run_benchmarks
from benchmarks._report import write_report
from benchmarks._results import DEFAULT_SCENARIOS, SCENARIOS, BenchResults
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


def parse_latencies(text: str) -> tuple[int, ...]:
    """``50,100`` -> (50, 100): milliseconds added to every response, one pass each (0: none)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of latencies in ms (use e.g. 50,100, or 0 for none)"
        )
    return tuple(dict.fromkeys(int(part) for part in parts if int(part) > 0))


def parse_scenarios(text: str) -> tuple[str, ...]:
    """``gta,limit`` -> ("limit", "gta"): known names only, in the order they run."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(SCENARIOS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown client {', '.join(unknown) or text!r}; choose from {', '.join(SCENARIOS)}"
        )
    return tuple(s for s in SCENARIOS if s in names)


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
        type=parse_latencies,
        default=DEFAULT.added_latencies_ms,
        help="latencies added to every response, one pass each after loopback "
        "(comma-separated ms, default 50,100; 0: loopback only)",
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
        "--scenarios",
        type=parse_scenarios,
        default=DEFAULT.scenarios,
        help=f"clients to run, comma-separated (default {','.join(DEFAULT_SCENARIOS)}; "
        f"known: {','.join(SCENARIOS)})",
    )
    run.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT.repeat,
        help="run each client this many times and keep the fastest (default 1)",
    )
    run.add_argument(
        "--keep-output",
        action="store_true",
        help="keep the rows gta and the vendor scripts wrote (deleted after comparing)",
    )
    profile = commands.add_parser(
        "profile", help="run gta export under py-spy; print where time goes"
    )
    profile.add_argument("--events", type=int, default=10_000, help="backlog size (default 10000)")
    profile.add_argument("--latency-ms", type=int, default=0, help="latency added (default 0)")
    profile.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    profile.add_argument(
        "--cpu",
        action="store_true",
        help="on-CPU samples of all threads (default: main thread, idle included)",
    )
    profile.add_argument("--out-dir", type=Path, default=DEFAULT.out_dir, help="work files")
    profile.add_argument("--data-dir", type=Path, default=DEFAULT.data_dir, help="databases")
    startup = commands.add_parser(
        "startup", help="time gta --version, --help and alerts list against python3 -c pass"
    )
    startup.add_argument("--rounds", type=int, default=10, help="paired rounds (default 10)")
    startup.add_argument(
        "--report",
        type=Path,
        default=DEFAULT.report_path,
        help="the page whose start-up section is rewritten (default docs/benchmarks.md)",
    )
    fresh = commands.add_parser(
        "freshness",
        help="delay from a new event to its record under gta sync --every, and the idle cost",
    )
    fresh.add_argument("--every", type=float, default=2.0, help="pass interval, s (default 2)")
    fresh.add_argument(
        "--activity", type=float, default=20.0, help="seconds of new events (default 20)"
    )
    fresh.add_argument("--idle", type=float, default=20.0, help="seconds idle (default 20)")
    fresh.add_argument("--backlog", type=int, default=500, help="events at start (default 500)")
    fresh.add_argument(
        "--slow-ms",
        type=int,
        default=500,
        help="latency of the second tenant's API, ms (default 500; 0: one tenant only)",
    )
    fresh.add_argument(
        "--report",
        type=Path,
        default=DEFAULT.report_path,
        help="the page whose freshness section is rewritten (default docs/benchmarks.md)",
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


def _profile(args: argparse.Namespace) -> int:
    from benchmarks._profile import ProfilerMissingError, profile_gta

    if args.events < 1 or args.latency_ms < 0 or args.top < 1:
        _log("error: --events and --top must be positive, --latency-ms not negative")
        return 2
    config = BenchConfig(sizes=(args.events,), out_dir=args.out_dir, data_dir=args.data_dir)
    try:
        print(profile_gta(config, args.events, args.latency_ms, args.top, _log, cpu_only=args.cpu))
    except (ProfilerMissingError, ServerError, RuntimeError, OSError) as exc:
        _log(f"error: {exc}")
        return 1
    return 0


def _startup(args: argparse.Namespace) -> int:
    from benchmarks._startup import measure, render, write_section

    if args.rounds < 1:
        _log("error: --rounds must be positive")
        return 2
    try:
        rows = measure(args.rounds, _log)
    except (RuntimeError, OSError) as exc:
        _log(f"error: {exc}")
        return 1
    section = render(rows, args.rounds)
    write_section(args.report, section)
    print(section, end="")
    _log(f"wrote the start-up section of {args.report}")
    return 0 if all(row.within for row in rows) else 1


def _freshness(args: argparse.Namespace) -> int:
    from benchmarks._freshness import measure, render, write_section

    if not (args.every > 0 and args.activity > 0 and args.idle > 0 and args.backlog > 0) or (
        args.slow_ms < 0
    ):
        _log(
            "error: --every, --activity, --idle and --backlog must be positive, "
            "--slow-ms not negative"
        )
        return 2
    try:
        result = measure(
            _log, every=args.every, activity_s=args.activity, idle_s=args.idle,
            backlog=args.backlog, slow_ms=args.slow_ms,
        )  # fmt: skip
    except (RuntimeError, OSError) as exc:
        _log(f"error: {exc}")
        return 1
    section = render(result)
    write_section(args.report, section)
    print(section, end="")
    _log(f"wrote the freshness section of {args.report}")
    return 0 if result.delays_s else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "freshness":
        return _freshness(args)
    if args.command == "profile":
        return _profile(args)
    if args.command == "startup":
        return _startup(args)
    if args.command == "report":
        results_path = args.out_dir / "results.json"
        if not results_path.exists():
            _log(f"error: no results at {results_path}; run `python -m benchmarks run` first")
            return 1
        try:
            results = BenchResults.load(results_path)
        except (ValueError, TypeError, KeyError) as exc:
            _log(f"error: {results_path} is not a results file of this harness ({exc})")
            return 1
    else:
        for name in ("latency_samples", "concurrency", "timeout", "repeat"):
            if getattr(args, name) < 1:
                _log(f"error: --{name.replace('_', '-')} must be positive")
                return 2
        config = BenchConfig(
            sizes=args.events,
            added_latencies_ms=args.latency_ms,
            data_dir=args.data_dir,
            out_dir=args.out_dir,
            report_path=args.report,
            chart_path=args.chart,
            latency_samples=args.latency_samples,
            concurrency=args.concurrency,
            child_timeout_s=args.timeout,
            startup_timeout_s=args.timeout,
            keep_output=args.keep_output,
            repeat=args.repeat,
            scenarios=args.scenarios,
        )
        try:
            results = run_benchmarks(config, _log)
        except (ServerError, OSError) as exc:
            _log(f"error: {exc}")
            return 1
    write_report(results, args.report, args.chart)
    _log(f"wrote {args.report} and {args.chart}")
    return 1 if results.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
