"""Latency of one 1000-item page of enriched events at 10k and at 1M events.

Keyset pagination should make a page cost the same however large the collection: this measures
the median time of ``GET .../enriched-events-with-threat-detection-ids?size=1000&after=<random>``
over HTTP on loopback, against ``gta emulator serve`` running in its own process, at two scales,
and prints both and their ratio (the target is at most 1.3).

Databases are files under ``benchmarks/.data/`` (the same names as ``python -m benchmarks``
uses), generated once (the time is printed) and reused afterwards.

Run: ``python benchmarks/emulator_page.py [--requests 60] [--sizes 10000,1000000]``
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

DATA_DIR = Path(__file__).resolve().parent / ".data"
SEED = 1
_URL = re.compile(r"export GTA_API_URL=(\S+)")


def prepare(events: int) -> tuple[Path, float | None]:
    """Generate the database for ``events`` unless it exists; return it and the time taken."""
    from gta.emulator import EmulatorSettings
    from gta.emulator._store import Store

    path = DATA_DIR / f"emulator-seed{SEED}-events{events}.sqlite"
    before = path.stat().st_ino if path.exists() else None
    started = time.monotonic()
    store = Store.open(EmulatorSettings(seed=SEED, events=events, db_path=path))
    elapsed = time.monotonic() - started
    store.close()
    # A generated database replaces the file (a new inode); a reused one is the same file.
    return path, None if path.stat().st_ino == before else elapsed


def _serve(events: int, db: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-c", "from gta.cli import main; main()"]
    command += ["emulator", "serve", "--port", "0", "--seed", str(SEED)]
    command += ["--events", str(events), "--db", str(db)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = _URL.search(line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise RuntimeError("the emulator did not start")


class Target:
    """A running ``gta emulator serve`` for one scale, with a token and its MSN range."""

    def __init__(self, events: int, db: Path) -> None:
        from gta.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_PASSWORD, DEMO_CUSTOMER_ID

        self.events = events
        self.proc, url = _serve(events, db)
        self.http = httpx.Client(base_url=url, timeout=60)
        token = self.http.post(
            "/iroh/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_PASSWORD),
        ).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.max_msn = int(self.http.get("/_emulator/stats").json()["maxMsn"])
        customer = f"/threat-detection/customer/{DEMO_CUSTOMER_ID}"
        self.path = f"{customer}/enriched-events-with-threat-detection-ids"
        self.timings: list[float] = []

    def request(self, rng: random.Random, record: bool) -> None:
        # Cursors from the first 80 % so that every page is a full 1000 items.
        cursor = rng.randint(1, int(self.max_msn * 0.8))
        started = time.perf_counter()
        response = self.http.get(self.path, params={"size": 1000, "after": str(cursor)})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 1000
        if record:
            self.timings.append(elapsed)

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(targets: list[Target], requests: int, rng: random.Random) -> None:
    """Alternate requests between the scales, so a load change on the machine hits both alike."""
    for i in range(requests + 5):
        for target in targets:
            target.request(rng, record=i >= 5)  # the first 5 rounds warm up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="measured requests per scale")
    parser.add_argument("--sizes", default="10000,1000000", help="two event counts")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(2024)
    dbs = {}
    for events in sizes:
        db, generated = prepare(events)
        note = f"generated in {generated:.1f} s" if generated is not None else "reused"
        print(f"{events:>9} events: database {db.name} ({note})", flush=True)
        dbs[events] = db
    targets = [Target(events, dbs[events]) for events in sizes]
    try:
        measure(targets, args.requests, rng)
    finally:
        for target in targets:
            target.close()
    medians = {t.events: statistics.median(t.timings) for t in targets}
    for events, median in medians.items():
        print(f"{events:>9} events: median page latency {median * 1000:.1f} ms", flush=True)
    small, large = medians[sizes[0]], medians[sizes[-1]]
    ratio = large / small
    print(f"ratio {sizes[-1]} / {sizes[0]}: {ratio:.2f} (target <= 1.3)")
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
