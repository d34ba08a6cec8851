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
    for line in raw_lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread, frames = frames[0], [_where(f, root) for f in frames[1:]]
        own, incl, total = threads.setdefault(thread, (Counter(), Counter(), [0]))
        total[0] += count
        if frames:
            own[frames[-1]] += count
        for name in set(frames):
            incl[name] += count
    return {
        thread: Profile(samples=total[0], self_counts=own, inclusive_counts=incl)
        for thread, (own, incl, total) in threads.items()
    }


def main_thread(profiles: dict[str, Profile]) -> Profile:
    """The thread whose stacks start at the ``gta`` script: the one that bounds wall time."""
    for thread, profile in profiles.items():
        if "MainThread" in thread:
            return profile
    return max(profiles.values(), key=lambda p: p.samples)


def render_profile(profile: Profile, top: int) -> str:
    """Two tables: the most self time, and the most inclusive time, as % of samples."""
    total = profile.samples or 1
    lines = [f"{profile.samples} samples of the main thread (idle time included)", ""]
    for title, counts in (("self", profile.self_counts), ("inclusive", profile.inclusive_counts)):
        lines.append(f"  {title:>9} %  function")
        for name, count in counts.most_common(top):
            lines.append(f"  {100.0 * count / total:>11.1f}  {name}")
        lines.append("")
    return "\n".join(lines)


def profile_gta(config: BenchConfig, size: int, latency: int, top: int, log: Log) -> str:
    """Run ``gta export`` under py-spy against an emulator of ``size`` events; the summary."""
    py_spy = shutil.which("py-spy")
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
        spy = [py_spy, "record", "--idle", "--threads", "--rate", "250", "--format", "raw"]
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
    profiles = summarise(raw.read_text().splitlines(), ROOT)
    where = "loopback" if latency == 0 else f"+{latency} ms"
    head = f"gta export events, {size:,} events, {where}: {child.wall_s:.1f} s under py-spy"
    return head + "\n" + render_profile(main_thread(profiles), top) + f"raw stacks: {raw}\n"
