"""Shared tools of the reliability suite: a file-db emulator in its own process, an
independent traversal of the API over plain httpx, CLI runs in subprocesses, output readers and
the figures each test records for docs/reliability.md.

Nothing here imports ``gta.client`` or ``gta.sync``: the expected data must come from a path
that shares no code with what is under test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

HERE = Path(__file__).resolve().parent
RESULTS = HERE / ".results"
CACHE = RESULTS / "cache"
GTA = [sys.executable, "-c", "from gta.cli import main; main()"]

Key = tuple[str, str | None, str | None]  # (eventId, threatDetectionId, alertId)


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Write one test's measured figures to ``.results/NAME.json`` (read by make_report.py)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"test": name, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    data.update(figures)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass
class EmulatorProcess:
    """A ``gta emulator serve`` child process on a loopback port."""

    proc: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]

    def faults(self, **values: Any) -> None:
        httpx.put(f"{self.url}/_emulator/faults", json=values, timeout=10).raise_for_status()

    @property
    def client_id(self) -> str:
        return self.env["SECUREX_CLIENT_ID"]

    @property
    def client_password(self) -> str:
        return self.env["SECUREX_CLIENT_PASSWORD"]

    @property
    def customer_id(self) -> str:
        return self.env["GTA_CUSTOMER_ID"]


@contextmanager
def emulator_process(
    *, seed: int, events: int, db: Path, extra: list[str] | None = None, timeout: float = 120
) -> Iterator[EmulatorProcess]:
    """Serve a file-db emulator in a separate process; the db is reused when seed and scale
    match, so later runs of the suite skip the generation."""
    cmd = [
        *GTA,
        *("emulator", "serve", "--host", "127.0.0.1", "--port", "0"),
        *("--seed", str(seed), "--events", str(events), "--db", str(db)),
        *(extra or []),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    try:
        while "GTA_CUSTOMER_ID" not in found:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("emulator did not start")
            line = proc.stdout.readline().decode()
            match = re.match(r"export (\w+)=(.*)$", line.strip())
            if match:
                found[match.group(1)] = match.group(2).strip("'")
        url = found["GTA_API_URL"]
        yield EmulatorProcess(proc, url, found)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class RawApi:
    """Just enough of the API by hand (token, cursor paging, bulk searches) to know what a
    sync must deliver, independently of gta.client."""

    def __init__(self, url: str, client_id: str, password: str, customer_id: str) -> None:
        token = httpx.post(
            f"{url}/iroh/oauth2/token",
            auth=(client_id, password),
            data={"grant_type": "client_credentials"},
            timeout=30,
        ).json()["access_token"]
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.cid = customer_id

    def close(self) -> None:
        self.http.close()

    def event_pages(self, size: int) -> list[tuple[str, list[dict[str, Any]]]]:
        """Enriched events by MSN in pages of ``size``: (endCursor, items) per page."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        after: str | None = None
        path = f"/threat-detection/customer/{self.cid}/enriched-events-with-threat-detection-ids"
        while True:
            params: dict[str, Any] = {"sort": "modificationSequenceNumber", "size": size}
            if after:
                params["after"] = after
            body = self.http.get(path, params=params).raise_for_status().json()
            if not body["items"]:
                return out
            out.append((body["pageInfo"]["endCursor"], body["items"]))
            if not body["pageInfo"]["hasNextPage"]:
                return out
            after = body["pageInfo"]["endCursor"]

    def objects(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every object of a GET collection (size 1000, after=endCursor)."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            query = dict(params or {}, size=1000) | ({"after": after} if after else {})
            body = self.http.get(path, params=query).raise_for_status().json()
            found += body["items"]
            if not body["items"] or not body["pageInfo"]["hasNextPage"]:
                return found
            after = body["pageInfo"]["endCursor"]

    def detections(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        path = (
            f"/alert-management/customer/{self.cid}"
            "/enriched-threat-detections-with-alert-ids/search"
        )
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            body = (
                self.http.post(
                    path, json={"filter": {"threatDetectionIds": ids[start : start + 1000]}}
                )
                .raise_for_status()
                .json()
            )
            found.update({o["id"]: o for o in body["items"]})
        return found

    def expected_rows(self, pages: list[tuple[str, list[dict[str, Any]]]]) -> list[list[Key]]:
        """Annotation row keys per page: one per (event x detection x alert), one for a
        contextual event, one per detection whose alerts (or itself) cannot be found."""
        td_ids = sorted({t for _, items in pages for e in items for t in e["threatDetectionIds"]})
        tds = self.detections(td_ids)
        result: list[list[Key]] = []
        for _, items in pages:
            keys: list[Key] = []
            for e in items:
                if not e["threatDetectionIds"]:
                    keys.append((e["id"], None, None))
                for t in dict.fromkeys(e["threatDetectionIds"]):
                    alert_ids = list(dict.fromkeys(tds[t]["alertIds"] or [])) if t in tds else []
                    keys.extend((e["id"], t, a) for a in alert_ids or [None])
            result.append(keys)
        return result


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines of a file, and how many torn lines (left by a kill) were skipped."""
    if not path.exists():
        return [], 0
    rows: list[dict[str, Any]] = []
    torn = 0
    for line in path.read_bytes().splitlines():
        if not line:
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            torn += 1
    return rows, torn


def row_key(row: dict[str, Any]) -> Key:
    return (row["eventId"], row.get("threatDetectionId"), row.get("alertId"))


def gta_in_process(args: list[str]) -> int:
    """Run ``gta ARGS`` in this process (stdout/stderr go to pytest's capture); exit code."""
    from gta.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def run_gta(
    args: list[str], env: dict[str, str], *, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``gta ARGS`` in a subprocess with exactly ``env`` (plus PATH/HOME)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    full.update(env)
    return subprocess.run(
        [*GTA, *args], env=full, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def sync_config(
    path: Path,
    *,
    url: str,
    sink: str,
    streams: list[str],
    page_size: int = 1000,
    sink_options: str = "",
    customer_id: str | None = None,
    readers: int | None = None,
) -> Path:
    """A ``gta sync`` TOML config whose secrets are ``env:`` references (``readers``: the
    job's partitioned backfill; unset, gta chooses)."""
    cid = f'customer_id = "{customer_id}"\n' if customer_id else ""
    opts = f"sink_options = {{ {sink_options} }}\n" if sink_options else ""
    opts += f"readers = {readers}\n" if readers is not None else ""
    path.write_text(
        "[tenants.main]\n"
        'client_id = "env:SECUREX_CLIENT_ID"\n'
        'client_password = "env:SECUREX_CLIENT_PASSWORD"\n'
        f'visibility_host = "{url}"\n'
        f'api_url = "{url}"\n'
        f'app_url = "{url}"\n'
        f"{cid}"
        "\n[jobs.rel]\n"
        'tenant = "main"\n'
        f"streams = {json.dumps(streams)}\n"
        'format = "annotation"\n'
        f"sink = {json.dumps(sink)}\n"
        f"page_size = {page_size}\n"
        f"{opts}"
    )
    return path


@dataclass
class Tally:
    """Counters a test fills and records."""

    values: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.values[name] += n
