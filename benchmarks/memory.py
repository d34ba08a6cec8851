"""Peak memory of ``gta export`` at two backlog sizes: it must not grow with the backlog.

For each size an emulator runs as a separate process (``gta emulator serve`` with a file
database, generated once and reused), and ``gta export events`` runs as another subprocess into
a scratch file. The export's peak RSS is taken from the kernel when it exits (``wait4``
rusage: exact, covers every moment) and cross-checked by psutil polling. Prints both sizes, the
ratio of the peaks (target: at most 1.2) and the throughput.

    python benchmarks/memory.py                       # 10k and 1M events
    python benchmarks/memory.py --sizes 2000 20000    # quick check

Generating the 1M-event database takes a few minutes the first time (``--db-dir`` keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

SEED = 1
FLOWS_PER_EVENT = 0.2  # flows are not exported here; fewer of them make generation faster
TARGET_RATIO = 1.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def emulator(events: int, db_dir: Path) -> Iterator[dict[str, str]]:
    """An emulator process on a free port; yields the environment that points gta at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        *(sys.executable, "-c", "from gta.cli import main; main()", "emulator", "serve"),
        *("--port", str(port), "--seed", str(SEED), "--events", str(events)),
        *("--flows-per-event", str(FLOWS_PER_EVENT), "--db", str(db_dir / f"events-{events}.db")),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"emulator exited: {proc.stderr.read() if proc.stderr else ''}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/_emulator/stats", timeout=2).raise_for_status()
                break
            time.sleep(0.5)
        print(f"  emulator with {events:,} events ready in {time.monotonic() - started:.0f}s")
        yield {
            "SECUREX_CLIENT_ID": "client-00000000-0000-4000-8000-00000000demo",
            "SECUREX_CLIENT_PASSWORD": "gta-emulator-demo-password",
            "SECUREX_VISIBILITY_HOST_NAME": url,
            "GTA_API_URL": url,
            "GTA_APP_URL": url,
            "GTA_CUSTOMER_ID": "CTA000000001",
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure_export(env: dict[str, str], scratch: Path, fmt: str) -> tuple[int, int, float, int]:
    """Run one export; returns (peak RSS by wait4, peak RSS by polling, seconds, lines)."""
    out, state = scratch / "out.jsonl", scratch / "state.db"
    for path in (out, state):
        path.unlink(missing_ok=True)
    cmd = [
        *(sys.executable, "-c", "from gta.cli import main; main()", "export", "events"),
        *("--output", str(out), "--state", str(state), "--schema", fmt, "--quiet"),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    polled = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal polled
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(proc.pid)
            while not done.is_set():
                polled = max(polled, process.memory_info().rss)
                time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    poller.join()
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"export failed with exit code {proc.returncode}")
    lines = 0
    with out.open("rb") as fh:
        for _ in fh:
            lines += 1
    out.unlink()
    return usage.ru_maxrss * 1024, polled, seconds, lines  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 1_000_000], metavar="N")
    parser.add_argument("--db-dir", type=Path, default=Path(tempfile.gettempdir()) / "gta-bench")
    parser.add_argument("--format", default="annotation", choices=["annotation", "nested"])
    args = parser.parse_args()
    args.db_dir.mkdir(parents=True, exist_ok=True)
    peaks: list[int] = []
    for events in args.sizes:
        print(f"{events:,} events:")
        with emulator(events, args.db_dir) as env, tempfile.TemporaryDirectory() as tmp:
            peak, polled, seconds, lines = measure_export(env, Path(tmp), args.format)
        peaks.append(peak)
        print(
            f"  export: {lines:,} records in {seconds:.1f}s ({events / seconds:,.0f} events/s), "
            f"peak RSS {peak / 2**20:.1f} MiB (polled {polled / 2**20:.1f} MiB)"
        )
    ratio = peaks[1] / peaks[0]
    verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(
        f"peak RSS {args.sizes[0]:,}: {peaks[0] / 2**20:.1f} MiB, {args.sizes[1]:,}: "
        f"{peaks[1] / 2**20:.1f} MiB, ratio {ratio:.3f} (target <= {TARGET_RATIO}): {verdict}"
    )


if __name__ == "__main__":
    main()
