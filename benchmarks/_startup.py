"""``python -m benchmarks startup``: how long ``gta`` takes to start, against ``python3 -c pass``.

Each round runs the baseline and then every case once, as fresh processes, so the baseline and
the cases see the same load; the figure kept is the median of the rounds. ``gta alerts list
--limit 10`` runs against an emulator this module starts in a thread (seeded, small), so the
case includes a real token request and one page.

The table goes into a marked section of docs/benchmarks.md (between ``<!-- startup:begin -->`` and
``<!-- startup:end -->``), so the rest of that page, written by ``python -m benchmarks run``, is
left as it is, and a later ``run`` keeps this section (see :func:`keep_section`).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._sections import MarkedSection
from benchmarks._server import gta_command

BEGIN = "<!-- startup:begin -->"
END = "<!-- startup:end -->"
# case -> (arguments of gta, the most it may take as a multiple of the baseline)
CASES: dict[str, tuple[tuple[str, ...], float]] = {
    "gta --version": (("--version",), 1.5),
    "gta --help": (("--help",), 1.5),
    "gta alerts list --limit 10": (("alerts", "list", "--limit", "10"), 3.0),
}


@dataclass(frozen=True)
class StartupRow:
    case: str
    median_s: float
    baseline_s: float
    interpreter_s: float
    budget: float

    @property
    def ratio(self) -> float:
        return self.median_s / self.baseline_s

    @property
    def within(self) -> bool:
        return self.ratio <= self.budget


def baseline_command() -> list[str]:
    """``python3 -c pass`` as a user's shell resolves ``python3`` (the issue's yardstick)."""
    found = shutil.which("python3")
    return [found or sys.executable, "-c", "pass"]


def _time(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {completed.returncode}: "
            f"{completed.stderr.decode(errors='replace').strip()[:200]}"
        )
    return elapsed


def compile_bytecode(env: dict[str, str]) -> None:
    """Give ``gta`` the ``.pyc`` files a user's install has.

    ``pip install`` compiles a package's bytecode when it installs it, and an editable install
    writes it on first use; but with ``PYTHONDONTWRITEBYTECODE`` set (some sandboxes and CI
    images set it) nothing is written, and every start would compile gta's modules anew (about
    35 ms for ``gta alerts list`` here), a cost no installed ``gta`` pays. So the package is
    compiled here, and the timed processes may write what else they import during the untimed
    round. Python reads ``.pyc`` files whatever that variable says."""
    import compileall

    import gta

    compileall.compile_dir(Path(gta.__file__).parent, quiet=1)
    env.pop("PYTHONDONTWRITEBYTECODE", None)


@contextmanager
def _emulator() -> Iterator[dict[str, str]]:
    from gta.emulator import EmulatorSettings, run_in_thread

    with run_in_thread(EmulatorSettings(seed=1, events=1000)) as running:
        yield running.env()


def measure(rounds: int, log: Callable[[str], None]) -> list[StartupRow]:
    """Median wall time of each case and of the baselines over *rounds* paired rounds."""
    gta = gta_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    env["COLUMNS"] = "100"
    compile_bytecode(env)
    baseline, interpreter = baseline_command(), [sys.executable, "-c", "pass"]
    with _emulator() as emulator_env:
        env.update(emulator_env)
        # One untimed round: the page cache and .pyc files are warm, as they are for a user.
        for args, _budget in CASES.values():
            _time([*gta, *args], env)
        times: dict[str, list[float]] = {name: [] for name in (*CASES, "baseline", "python")}
        for index in range(rounds):
            times["baseline"].append(_time(baseline, env))
            times["python"].append(_time(interpreter, env))
            for name, (args, _budget) in CASES.items():
                times[name].append(_time([*gta, *args], env))
            log(f"round {index + 1}/{rounds}: " + ", ".join(
                f"{name} {values[-1] * 1000:.0f} ms" for name, values in times.items()
            ))  # fmt: skip
    base = statistics.median(times["baseline"])
    python = statistics.median(times["python"])
    return [
        StartupRow(name, statistics.median(times[name]), base, python, budget)
        for name, (_args, budget) in CASES.items()
    ]


def render(rows: Sequence[StartupRow], rounds: int) -> str:
    """The marked section of docs/benchmarks.md."""
    base = rows[0].baseline_s
    python = rows[0].interpreter_s
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        BEGIN,
        "## Start-up",
        "",
        "Generated by `python -m benchmarks startup`; do not edit by hand.",
        "",
        f"Median wall time of {rounds} rounds; each round runs `python3 -c pass` (the "
        "baseline, as the shell finds `python3`) and then each command once, as fresh "
        "processes. `gta alerts list --limit 10` runs against an emulator started by the "
        "benchmark (a token request and one page of alerts). The budget is the most a command "
        "may take, as a multiple of the baseline. gta's bytecode is compiled first, as "
        "`pip install` leaves it (with `PYTHONDONTWRITEBYTECODE` set, nothing would write it "
        "and each start would compile gta anew).",
        "",
        f"- Baseline `{' '.join(baseline_command())}`: {base * 1000:.0f} ms; this "
        f"interpreter alone (`{Path(sys.executable).name} -c pass`): {python * 1000:.0f} ms",
        f"- Python {platform.python_version()}, {os.cpu_count()} logical cores, load average "
        f"at the end {load}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| command | median | x baseline | budget | |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        mark = "within" if row.within else "**over**"
        lines.append(
            f"| `{row.case}` | {row.median_s * 1000:.0f} ms | {row.ratio:.2f} | "
            f"{row.budget:g} | {mark} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


_SECTION = MarkedSection(BEGIN, END)
keep_section = _SECTION.keep
"""*new* page text with this benchmark's section of *old* kept (or *new*'s own, if it has one)."""
write_section = _SECTION.write
"""Put a section into the report, replacing the old one; the rest of the page is untouched."""
