"""``python -m benchmarks.workers``: does ``gta sync --worker`` scale? The time to drain a backlog
of 20 tenants with 1, 2 and 4 workers, in the same run, against an emulator answering every
request 100 ms late (a far region).

Each worker runs one unit at a time (``--concurrency 1``), so the figure is the scaling of
processes sharing the units, not of threads inside one. Every round starts from an empty state
file and empty output files; the clock runs from the first claim a worker logs to the moment
every unit's checkpoint (read from the state file with sqlite3) is at its stream's last cursor
(read from the API over plain httpx). Not from the process start: the interpreters' start-up is
the same for every worker, and four of them importing side by side on a loaded machine would
measure the machine, not the workers. The emulator's data does not move between rounds.

The table goes into a marked section of docs/benchmarks.md (``<!-- workers:begin -->`` ...
``<!-- workers:end -->``); the machine is shared, so the load average is reported with it.

    python -m benchmarks.workers [--tenants 20] [--events 200] [--page-size 20]
        [--latency-ms 100] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks._sections import MarkedSection
from benchmarks._server import gta_command

BEGIN = "<!-- workers:begin -->"
END = "<!-- workers:end -->"
GOAL = 3.0
"""Issue #16: 4 workers drain the backlog at least this many times faster than 1."""
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_SECTION = MarkedSection(BEGIN, END)
keep_section = _SECTION.keep
"""*new* page text with this benchmark's section of *old* kept (or *new*'s own, if it has one)."""


@dataclass
class Tenant:
    customer_id: str
    client_id: str
    password: str


@dataclass
class Round:
    workers: int
    seconds: float
    load: float


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def emulator(
    work: Path, tenants: int, events: int, latency_ms: int
) -> Iterator[tuple[str, list[Tenant]]]:
    cmd = [
        *gta_command(), "emulator", "serve", "--host", "127.0.0.1", "--port", "0", "--seed", "5",
        "--customers", str(tenants), "--events", str(events), "--db", str(work / "emu.db"),
        "--latency-ms", str(latency_ms),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    found: list[dict[str, str]] = [{}]
    deadline = time.monotonic() + 600
    try:
        while not (len(found) == tenants and "GTA_CUSTOMER_ID" in found[-1]):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the emulator did not start")
            line = proc.stdout.readline().decode().strip()
            if line.startswith("# customer "):
                found.append({})
            match = re.match(r"^#?\s*export (\w+)=(.*)$", line)
            if match:
                found[-1][match.group(1)] = match.group(2).strip("'")
        yield (
            found[0]["GTA_API_URL"],
            [
                Tenant(f["GTA_CUSTOMER_ID"], f["SECUREX_CLIENT_ID"], f["SECUREX_CLIENT_PASSWORD"])
                for f in found
            ],
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def last_cursor(url: str, tenant: Tenant) -> str:
    """The end cursor of the tenant's enriched events, sorted by MSN (plain httpx)."""
    token = httpx.post(
        f"{url}/iroh/oauth2/token",
        auth=(tenant.client_id, tenant.password),
        data={"grant_type": "client_credentials"},
        timeout=60,
    ).json()["access_token"]
    path = (
        f"{url}/threat-detection/customer/{tenant.customer_id}"
        "/enriched-events-with-threat-detection-ids"
    )
    cursor, after = "", None
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while True:
            params = {"sort": "modificationSequenceNumber", "size": 1000}
            body = http.get(path, params=params | ({"after": after} if after else {})).json()
            if not body["items"]:
                return cursor
            cursor = after = body["pageInfo"]["endCursor"]
            if not body["pageInfo"]["hasNextPage"]:
                return cursor


def write_config(
    path: Path, url: str, tenants: list[Tenant], out: Path, page: int
) -> dict[str, str]:
    env: dict[str, str] = {}
    parts = []
    for i, t in enumerate(tenants):
        env[f"BW_ID_{i}"], env[f"BW_PW_{i}"] = t.client_id, t.password
        parts.append(
            f'[tenants.t{i}]\nclient_id = "env:BW_ID_{i}"\nclient_password = "env:BW_PW_{i}"\n'
            f'visibility_host = "{url}"\napi_url = "{url}"\napp_url = "{url}"\n'
            f'customer_id = "{t.customer_id}"\n'
            f'[jobs.t{i}]\ntenant = "t{i}"\nstreams = ["events"]\nformat = "annotation"\n'
            f'sink = "{out / f"t{i}.jsonl"}"\npage_size = {page}\n'
        )
    path.write_text("\n".join(parts))
    return env


def drained(state: Path, expected: dict[str, str]) -> bool:
    if not state.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            rows = dict(db.execute("SELECT job, cursor FROM checkpoints").fetchall())
    except sqlite3.Error:
        return False  # being created
    return all(rows.get(job) == cursor for job, cursor in expected.items())


def first_claim(logs: list[Path]) -> float:
    """When the first worker claimed its first unit (its ``at``, wall clock): the clock starts
    there, so the interpreter's start-up is not counted (it is the same for every worker and
    runs side by side on a loaded machine)."""
    times = []
    for path in logs:
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == "claim":
                    times.append(float(record["at"]))
    if not times:
        raise RuntimeError("no worker logged a claim")
    return min(times)


def drain(
    work: Path, config: Path, env: dict[str, str], workers: int, expected: dict[str, str],
    timeout: float,
) -> float:  # fmt: skip
    """Seconds for ``workers`` fresh workers to bring every checkpoint to its last cursor."""
    state, out = work / f"state-{workers}.db", work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    full.update(env)
    procs = []
    logs = [work / f"worker-{workers}-{i}.log" for i in range(workers)]
    launched = time.monotonic()
    try:
        for i in range(workers):
            cmd = [
                *gta_command(), "sync", "--config", str(config), "--state", str(state),
                "--every", "1s", "--worker", "--worker-id", f"bench-{i}", "--concurrency", "1",
                "--lease-ttl", "10s", "--log-format", "json",
            ]  # fmt: skip
            with logs[i].open("wb") as err:
                procs.append(subprocess.Popen(cmd, env=full, stdout=subprocess.DEVNULL, stderr=err))
        while not drained(state, expected):
            if time.monotonic() - launched > timeout:
                raise RuntimeError(f"{workers} worker(s) did not drain in {timeout:.0f} s")
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited")
            time.sleep(0.1)
        return time.time() - first_claim(logs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def measure(
    tenants: int, events: int, latency_ms: int, counts: list[int], page: int
) -> list[Round]:
    with tempfile.TemporaryDirectory(prefix="gta-bench-workers-") as tmp:
        work = Path(tmp)
        log(f"emulator: {tenants} customers x {events} events, {latency_ms} ms latency")
        with emulator(work, tenants, events, latency_ms) as (url, found):
            expected = {f"t{i}": last_cursor(url, t) for i, t in enumerate(found)}
            env = write_config(work / "gta.toml", url, found, work / "out", page)
            rounds = []
            for n in counts:
                seconds = drain(work, work / "gta.toml", env, n, expected, timeout=1800)
                rounds.append(Round(n, seconds, os.getloadavg()[0]))
                log(f"{n} worker(s): {seconds:.1f} s (load {rounds[-1].load:.2f})")
    return rounds


def render(rounds: list[Round], tenants: int, events: int, latency_ms: int, page: int) -> str:
    base = rounds[0].seconds
    lines = [
        BEGIN,
        "## Workers: draining a backlog with 1, 2 and 4 workers",
        "",
        "Generated by `python -m benchmarks.workers`; do not edit by hand.",
        "",
        f"{tenants} tenants of {events:,} events each (one job per tenant: events to a file, "
        f"{page} per page), the emulator answering every request {latency_ms} ms late. Each "
        "round starts `gta sync --worker --every 1s --concurrency 1` processes on a fresh state "
        "file and times them from the first unit claimed (the interpreters' start-up left "
        "out) until every checkpoint is at its stream's last cursor. Each "
        "worker runs one unit at a time, so this is the scaling of workers, not of threads. "
        "Small pages keep a page's time dominated by the API's latency, as with a far "
        "region; with big pages on a small shared machine the CPU becomes the limit instead "
        "(the emulator runs on the same cores).",
        "",
        f"- {os.cpu_count()} logical cores shared with other work; load average (1 min) after "
        "each round in the table; Python "
        f"{sys.version.split()[0]}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| workers | drain time | speed-up vs 1 | load after |",
        "|---:|---:|---:|---:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.workers} | {r.seconds:.1f} s | {base / r.seconds:.2f}x | {r.load:.2f} |"
        )
    by_count = {r.workers: r.seconds for r in rounds}
    if 1 in by_count and 4 in by_count:
        ratio = by_count[1] / by_count[4]
        verdict = "met" if ratio >= GOAL else "**not met**"
        lines += ["", f"Goal (issue #16): 4 workers at least {GOAL:g}x faster than 1: "
                  f"{ratio:.2f}x, {verdict}."]  # fmt: skip
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--events", type=int, default=200, help="events per tenant")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1 or args.tenants < 1 or args.events < 1:
        log("error: --tenants, --events and --workers (e.g. 1,2,4) must be positive")
        return 2
    try:
        rounds = measure(args.tenants, args.events, args.latency_ms, counts, args.page_size)
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        log(f"error: {exc}")
        return 1
    section = render(rounds, args.tenants, args.events, args.latency_ms, args.page_size)
    _SECTION.write(args.report, section)
    print(section, end="")
    seconds = {r.workers: r.seconds for r in rounds}
    return 1 if 1 in seconds and 4 in seconds and seconds[1] / seconds[4] < GOAL else 0


if __name__ == "__main__":
    sys.exit(main())
