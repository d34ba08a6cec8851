"""Tools of the worker tests: an emulator of many customers in its own process, a config of one
file per unit, ``gta sync --worker`` processes whose JSON logs go to files (a SIGKILL leaves at
most a torn last line), and the judgement of the claim log.

Nothing here imports ``gta.client`` or ``gta.sync``: the truth comes over plain httpx.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

GTA = [sys.executable, "-c", "from gta.cli import main; main()"]
STREAMS = ("events", "threat-detections")
_VERSION_KEYS = {
    "events": ("eventId", "eventModifiedAt"),
    "threat-detections": ("threatDetectionId", "modifiedAt"),
}


def state_urls() -> list[str]:
    """The state backends the worker tests run on (see the ``state_url`` fixture): several
    processes sharing one SQLite file, and a PostgreSQL database (the ``postgres_url`` fixture of
    tests/conftest.py; skipped without server binaries, failed in CI where they are required)."""
    return ["sqlite", "postgresql"]


@dataclass
class Customer:
    customer_id: str
    client_id: str
    password: str


@dataclass
class Emulator:
    proc: subprocess.Popen[bytes]
    url: str
    customers: list[Customer]

    def truth(self, customer: Customer) -> dict[str, dict[str, str]]:
        """Latest version (id -> modifiedAt) of every event and threat detection, now."""
        token = httpx.post(
            f"{self.url}/iroh/oauth2/token",
            auth=(customer.client_id, customer.password),
            data={"grant_type": "client_credentials"},
            timeout=30,
        ).json()["access_token"]
        cid = customer.customer_id
        paths = {
            "events": f"/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids",
            "threat-detections": f"/threat-detection/customer/{cid}/threat-detections",
        }
        out: dict[str, dict[str, str]] = {}
        with httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            for stream, path in paths.items():
                found: dict[str, str] = {}
                after: str | None = None
                while True:
                    params: dict[str, Any] = {"sort": "modificationSequenceNumber", "size": 1000}
                    if after:
                        params["after"] = after
                    body = http.get(path, params=params).raise_for_status().json()
                    found.update({o["id"]: o["modifiedAt"] for o in body["items"]})
                    if not body["items"] or not body["pageInfo"]["hasNextPage"]:
                        break
                    after = body["pageInfo"]["endCursor"]
                out[stream] = found
        return out

    def pause_activity(self) -> None:
        httpx.put(
            f"{self.url}/_emulator/faults", json={"activity_per_minute": 0}, timeout=10
        ).raise_for_status()


@contextlib.contextmanager
def emulator(
    tmp: Path, *, customers: int, events: int, activity: float = 0, latency_ms: int = 0
) -> Iterator[Emulator]:
    cmd = [
        *GTA, "emulator", "serve", "--host", "127.0.0.1", "--port", "0", "--seed", "3",
        "--customers", str(customers), "--events", str(events), "--db", str(tmp / "emu.db"),
        "--activity-per-minute", str(activity), "--latency-ms", str(latency_ms),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    found: list[dict[str, str]] = [{}]
    deadline = time.monotonic() + 300
    try:
        while len(found) <= customers:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the emulator did not start")
            line = proc.stdout.readline().decode().strip()
            if line.startswith("# customer "):
                found.append({})
            match = re.match(r"^#?\s*export (\w+)=(.*)$", line)
            if match:
                found[-1][match.group(1)] = match.group(2).strip("'")
            if len(found) == customers and "GTA_CUSTOMER_ID" in found[-1]:
                break
        url = found[0]["GTA_API_URL"]
        yield Emulator(
            proc,
            url,
            [
                Customer(f["GTA_CUSTOMER_ID"], f["SECUREX_CLIENT_ID"], f["SECUREX_CLIENT_PASSWORD"])
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


def write_config(path: Path, emu: Emulator, out: Path, *, page_size: int = 100) -> dict[str, str]:
    """A config of one tenant per customer and one job per (tenant, stream), each job writing
    its own file; returns the environment holding the credentials it references."""
    env: dict[str, str] = {}
    parts: list[str] = []
    for i, c in enumerate(emu.customers):
        env[f"WK_ID_{i}"], env[f"WK_PW_{i}"] = c.client_id, c.password
        parts.append(
            f'[tenants.t{i}]\nclient_id = "env:WK_ID_{i}"\nclient_password = "env:WK_PW_{i}"\n'
            f'visibility_host = "{emu.url}"\napi_url = "{emu.url}"\napp_url = "{emu.url}"\n'
            f'customer_id = "{c.customer_id}"\n'
        )
        for stream in STREAMS:
            parts.append(
                f'[jobs.t{i}-{stream}]\ntenant = "t{i}"\nstreams = ["{stream}"]\n'
                f'format = "annotation"\nsink = "{out / f"t{i}-{stream}.jsonl"}"\n'
                f"page_size = {page_size}\n"
            )
    path.write_text("\n".join(parts))
    return env


class WorkerProcess:
    """``gta sync --worker`` in a subprocess; its stderr (JSON lines) appended to a file."""

    def __init__(
        self, worker_id: str, config: Path, state: str | Path, env: dict[str, str], logs: Path,
        *, every: str = "1s", ttl: str = "6s", concurrency: int = 4, extra: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.worker_id = worker_id
        self.log_path = logs / f"{worker_id}.log"
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
        full.update(env)
        cmd = [
            *GTA, "sync", "--config", str(config), "--state", str(state), "--every", every,
            "--worker", "--worker-id", worker_id, "--lease-ttl", ttl,
            "--concurrency", str(concurrency), "--log-format", "json", "--log-level", "debug",
            *(extra or []),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=full, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )

    def kill(self) -> float:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return time.time()

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def ensure_stopped(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def read_events(logs: Path) -> list[dict[str, Any]]:
    """The workers' claim, commit, release and loss records, in time order."""
    events: list[dict[str, Any]] = []
    for path in sorted(logs.glob("*.log")):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                record = orjson.loads(line)
                if isinstance(record, dict) and "event" in record and "worker" in record:
                    events.append(record)
    events.sort(key=lambda e: float(e["at"]))
    return events


def log_errors(logs: Path) -> Counter[str]:
    """Error lines of the workers (first 80 characters of the message, counted)."""
    found: Counter[str] = Counter()
    for path in sorted(logs.glob("*.log")):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                record = orjson.loads(line)
                if isinstance(record, dict) and record.get("level") == "error":
                    found[str(record.get("message"))[:80]] += 1
    return found


@dataclass
class ClaimCheck:
    """What the claim log shows: overlaps are units synced by two workers at once."""

    claims: int = 0
    commits: int = 0
    problems: list[str] = field(default_factory=list)


def check_claims(events: list[dict[str, Any]], kills: dict[str, list[float]]) -> ClaimCheck:
    """No unit synced by two workers at once, from the log alone.

    Per unit: every fencing number is claimed by one worker once; every commit names a claim
    of its worker (worker and fence) made before it and not yet released, lost or ended by a
    kill of that worker; and the commits, in time order, never go back to a smaller fencing
    number (a commit under an older claim after a newer claim committed would be two
    workers feeding one cursor)."""
    check = ClaimCheck()
    owner: dict[tuple[str, int], tuple[str, float]] = {}  # (unit, fence) -> (worker, since)
    ended: dict[tuple[str, int], float] = {}
    highest: dict[str, int] = defaultdict(int)
    unit_of = lambda e: f"{e['job']}/{e['stream']}"  # noqa: E731
    for e in events:
        kind = e["event"]
        if kind not in ("claim", "commit", "release", "lost"):
            continue
        unit, fence, worker, at = unit_of(e), int(e["fence"]), str(e["worker"]), float(e["at"])
        key = (unit, fence)
        if kind == "claim":
            check.claims += 1
            if key in owner:
                check.problems.append(f"{unit}: fence {fence} claimed twice")
            owner[key] = (worker, at)
        elif kind in ("release", "lost"):
            ended.setdefault(key, at)
        else:
            check.commits += 1
            holder = owner.get(key)
            if holder is None or holder[0] != worker:
                check.problems.append(
                    f"{unit}: {worker} committed under fence {fence} it never claimed"
                )
                continue
            death = min((k for k in kills.get(worker, []) if k >= holder[1]), default=None)
            if key in ended or (death is not None and at > death):
                check.problems.append(
                    f"{unit}: {worker} committed under fence {fence} after giving it up"
                )
            if fence < highest[unit]:
                check.problems.append(
                    f"{unit}: {worker} committed fence {fence} after fence {highest[unit]}"
                )
            highest[unit] = max(highest[unit], fence)
    return check


def delivered(out: Path) -> tuple[dict[str, Counter[tuple[str, str]]], int]:
    """Per output file (unit), how many times each version was delivered; torn lines."""
    result: dict[str, Counter[tuple[str, str]]] = {}
    torn = 0
    for path in sorted(out.glob("*.jsonl")):
        stream = next(s for s in STREAMS if path.stem.endswith(s))
        id_key, version_key = _VERSION_KEYS[stream]
        rows: Counter[tuple[Any, ...]] = Counter()
        for line in path.read_bytes().splitlines():
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                torn += 1
                continue
            version = (str(row[id_key]), str(row[version_key]))
            rows[(*version, row.get("threatDetectionId"), row.get("alertId"))] += 1
        # An event is several rows (one per detection and alert): a delivery is its rows once.
        versions: Counter[tuple[str, str]] = Counter()
        for key, count in rows.items():
            version = (key[0], key[1])
            versions[version] = max(versions[version], count)
        result[path.stem] = versions
    return result, torn


def dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
