"""Where ``gta export`` spends its wall time: py-spy sampling of the export child process.

py-spy samples the real process from outside (no instrumentation overhead, unlike cProfile,
which inflates call-heavy code), with ``--idle`` so time spent waiting on the network counts too,
and ``--threads`` so the main thread (which bounds the wall time) is read on its own. The raw
stacks are summarised as the share of the main thread's samples spent *in* each function (self)
and *under* it (inclusive).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks._child import run_child
from benchmarks._harness import ROOT, BenchConfig, Log, SizeRun
from benchmarks._server import EmulatorServer

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


class ProfilerMissingError(RuntimeError):
    """py-spy is not installed."""


@dataclass(frozen=True)
class Profile:
    """Sample counts of one thread: per stack, and what each function accounts for."""

    samples: int
    self_counts: Counter[str]
    inclusive_counts: Counter[str]


def _where(frame: str, root: Path) -> str:
    """``func (path:line)`` -> ``func (short/path.py)``: a function, not one of its lines."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for prefix in (str(root / "src") + os.sep, "site-packages" + os.sep, "lib/python3"):
        index = path.find(prefix)
        if index >= 0:
            path = path[index + len(prefix) :]
            break
    return f"{match.group('func')} ({path})"


def summarise(raw_lines: Iterable[str], root: Path) -> dict[str, Profile]:
    """Per-thread profiles from py-spy's raw (collapsed) output: ``frame;frame;... count``."""
    threads: dict[str, tuple[Counter[str], Counter[str], list[int]]] = {}
    names: dict[str, str] = {}
    for line in raw_lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        # "thread (123)" at first, "thread (123): MainThread" once named: one thread
        thread = frames[0].split(":", 1)[0].strip()
        names[thread] = max(names.get(thread, ""), frames[0].strip(), key=len)
        frames = [_where(f, root) for f in frames[1:]]
        own, incl, total = threads.setdefault(thread, (Counter(), Counter(), [0]))
        total[0] += count
        if frames:
            own[frames[-1]] += count
        for name in set(frames):
            incl[name] += count
    return {
        names[thread]: Profile(samples=total[0], self_counts=own, inclusive_counts=incl)
        for thread, (own, incl, total) in threads.items()
    }


def main_thread(profiles: dict[str, Profile]) -> Profile:
    """The thread whose stacks start at the ``gta`` script: the one that bounds wall time."""
    for thread, profile in profiles.items():
        if "MainThread" in thread:
            return profile
    return max(profiles.values(), key=lambda p: p.samples)


def render_profile(
    profile: Profile, top: int, thread: str = "the main thread, idle included,"
) -> str:
    """Two tables: the most self time, and the most inclusive time, as % of samples."""
    total = profile.samples or 1
    lines = [f"{profile.samples} samples of {thread} at 250 Hz", ""]
    for title, counts in (("self", profile.self_counts), ("inclusive", profile.inclusive_counts)):
        lines.append(f"  {title:>9} %  function")
        for name, count in counts.most_common(top):
            lines.append(f"  {100.0 * count / total:>11.1f}  {name}")
        lines.append("")
    return "\n".join(lines)


WAITING = re.compile(
    r"^(Condition\.wait|Event\.wait|Thread\.join|_worker|SyncStream\.read|Queue\.get|sleep|select) "
)
"""Leaf frames that stand for a thread blocked (lock, queue, socket), not computing. py-spy's own
idle detection does not see these as idle here, so the CPU view drops them by name."""


def all_threads(raw_lines: Iterable[str], root: Path) -> Profile:
    """Every thread's samples together, minus those blocked in a wait: where the CPU goes."""
    busy = []
    for line in raw_lines:
        stack = line.rstrip("\n").rpartition(" ")[0]
        leaf = _where(stack.rpartition(";")[2], root)
        if ";" in stack and not WAITING.match(leaf):
            busy.append("all threads;" + line.split(";", 1)[1])
    (profile,) = summarise(busy, root).values() or (Profile(0, Counter(), Counter()),)
    return profile


def profile_gta(
    config: BenchConfig, size: int, latency: int, top: int, log: Log, *, cpu_only: bool = False
) -> str:
    """Run ``gta export`` under py-spy against an emulator of ``size`` events; the summary.

    By default the main thread's samples, idle included (where the wall time goes); with
    ``cpu_only``, the on-CPU samples of every thread (where the CPU time goes).
    """
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        raise ProfilerMissingError("py-spy is not installed: pip install 'py-spy>=0.4'")
    work = config.out_dir / f"profile-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = config.data_dir / f"emulator-seed{config.seed}-events{size}.sqlite"
    with EmulatorServer(
        events=size,
        seed=config.seed,
        db_path=db_path,
        log_dir=work,
        startup_timeout_s=config.startup_timeout_s,
    ) as server:
        server.set_latency(latency)
        size_run = SizeRun(config, server, work, log)
        cmd, output = size_run.command("gta", f"gta-{latency}ms")
        raw = work / f"gta-{latency}ms.pyspy.txt"
        spy = [
            py_spy,
            "record",
            "--nonblocking",
            "--threads",
            "--subprocesses",
            "--rate",
            "250",
            "--format",
            "raw",
        ]
        if not cpu_only:
            spy.append("--idle")
        child = run_child(
            [*spy, "--output", str(raw), "--", *cmd],
            env=size_run.env,
            cwd=work,
            log_prefix=work / "py-spy",
            timeout_s=config.child_timeout_s,
            server_pid=server.pid,
        )
        server.set_latency(0)
    output.unlink(missing_ok=True)
    if child.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed (exit {child.returncode}): {child.stderr_tail[-300:]}")
    lines = raw.read_text().splitlines()
    where = "loopback" if latency == 0 else f"+{latency} ms"
    head = f"gta export events, {size:,} events, {where}: {child.wall_s:.1f} s under py-spy"
    if cpu_only:
        body = render_profile(all_threads(lines, ROOT), top, "all threads, waits left out,")
    else:
        body = render_profile(main_thread(summarise(lines, ROOT)), top)
    return f"{head}\n{body}raw stacks: {raw}\n"
