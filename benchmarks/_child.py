"""Run one client as a fresh child process and measure it: wall time, peak RSS, CPU.

Peak RSS comes from ``os.wait4``: the kernel's high-water mark of that child (and of any
descendants it waited for), exact and per child, with no sampling gaps. CPU time is measured
for the child, for the emulator (``server_pid``) and for the whole machine over the same
interval, so the report can show what else was running (the machine may be shared).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]


@dataclass(frozen=True)
class ChildResult:
    """What one child run cost. ``returncode`` is negative when killed by a signal."""

    returncode: int
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float
    server_cpu_s: float
    other_cpu_s: float
    timed_out: bool
    stderr_tail: str


def _machine_busy_s() -> float:
    """CPU seconds spent by every core on anything but idling, since boot."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    busy: float = sum(times) - idle
    return busy


def _process_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system + times.children_user + times.children_system)


def _tail(path: Path, limit: int = 2000) -> str:
    data = path.read_bytes() if path.exists() else b""
    return data[-limit:].decode("utf-8", "replace").strip()


def run_child(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_prefix: Path,
    timeout_s: float,
    server_pid: int | None = None,
) -> ChildResult:
    """Run ``cmd`` to completion; its stdout and stderr go to ``log_prefix``.out/.err files."""
    out_path = log_prefix.with_suffix(".out")
    err_path = log_prefix.with_suffix(".err")
    busy0, server0 = _machine_busy_s(), _process_cpu_s(server_pid)
    started = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            list(cmd), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout_s, _kill)
    timer.daemon = True
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; stop Popen waiting again
    busy = _machine_busy_s() - busy0
    server = _process_cpu_s(server_pid) - server0
    cpu = usage.ru_utime + usage.ru_stime
    return ChildResult(
        returncode=proc.returncode,
        wall_s=wall,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # KiB on Linux
        cpu_s=cpu,
        server_cpu_s=server,
        other_cpu_s=max(0.0, busy - cpu - server),
        timed_out=timed_out.is_set(),
        stderr_tail=_tail(err_path),
    )
