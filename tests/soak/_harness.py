"""Tools of the soak test: the sync service in its own PID namespace, small tmpfs disks that can
be filled, a driver that makes activity and note changes, and pass outcomes read from the
service's log (the judgement of the end state is in ``_compare``).

Like ``tests/reliability/rel_support.py`` (whose emulator process and readers are reused),
nothing here goes through ``gta.client`` or ``gta.sync``: the emulator is driven over httpx.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.reliability.rel_support import GTA

_SUMMARY = re.compile(r"^(events|alerts|threat-detections): (?:done, )?([\d,]+) records from")
_PASS = re.compile(r"^\S+ pass \d+: ([\d,]+) records in ([\d.]+)s(, \d+ job\(s\) failed)?")
_PROGRESS = re.compile(r"^(events|alerts|threat-detections): (starting|\+\d)")
_FAILED = re.compile(r"^\S+ (job \S+: error.*)$")


def namespaces_permitted() -> str | None:
    """None when ``unshare -fp --mount-proc`` works here, else the reason it does not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    try:
        done = subprocess.run(
            ["unshare", "-fp", "--mount-proc", "true"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if done.returncode != 0:
        return (
            f"unshare -fp --mount-proc is not permitted: {done.stderr.strip() or done.returncode}"
        )
    return None


# -- small disks ---------------------------------------------------------------------------------


class Tmpfs:
    """A tmpfs of ``size_mb`` at ``path`` (as root), which ``fill()`` makes full."""

    def __init__(self, path: Path, size_mb: int) -> None:
        self.path = path
        self.size_mb = size_mb
        self.filler = path / ".filler"
        self.mounted = False

    def mount(self) -> str | None:
        """Mount it; None on success, else why it cannot be (the episode is then skipped)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return "mounting a tmpfs needs root"
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size_mb}m", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return f"mount -t tmpfs is not permitted: {done.stderr.strip()}"
        self.mounted = True
        return None

    def fill(self) -> int:
        """Write a filler file until the disk refuses a single byte more; its size."""
        written = 0
        with self.filler.open("wb", buffering=0) as out:
            for chunk in (1 << 20, 1 << 12, 1):
                block = b"\0" * chunk
                while True:
                    try:
                        n = out.write(block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
                    written += n or 0
                    if not n:
                        break
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounted = False


# -- the service ---------------------------------------------------------------------------------


@dataclass
class Pass:
    """One pass of ``gta sync --every`` as its log shows it."""

    service: int
    ended: float
    ok: bool
    line: str
    records: dict[str, int] = field(default_factory=dict)
    started: float = 0.0


class PassLog:
    """Pass outcomes of every service started in the test, in order, with monotonic times."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.passes: list[Pass] = []
        self.lines = 0
        self.tail: deque[str] = deque(maxlen=5)
        self.in_pass: dict[int, bool] = {}  # service -> a pass has begun and not ended
        self.errors: Counter[str] = Counter()
        self.lock = threading.Lock()

    def follow(self, service: int, started: float, stream: Any) -> None:
        """Read one service's stderr to its end (runs in a thread).

        ``gta sync --every 1s -v`` writes per-stream totals, ``TIME job NAME: error: ...`` for
        a failed job, then one ``TIME pass N: R records in Ss[, K job(s) failed]`` line.
        """
        records: dict[str, int] = {}
        error = ""
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            now = time.monotonic()
            with self.lock:
                self.lines += 1
                self.tail.append(line)
                if _PROGRESS.match(line):
                    self.in_pass[service] = True
                    continue
                summary = _SUMMARY.match(line)
                if summary:
                    records[summary.group(1)] = int(summary.group(2).replace(",", ""))
                    continue
                failed = _FAILED.match(line)
                if failed:
                    error = failed.group(1)
                    self.errors[re.sub(r"\d+", "N", error)[:240]] += 1
                    continue
                done = _PASS.match(line)
                if not done:
                    continue
                self.in_pass[service] = False
                seconds = float(done.group(2))
                shown = f"{line} ({error})" if done.group(3) else line
                entry = Pass(service, now, done.group(3) is None, shown, records)
                entry.started = max(started, now - seconds)
                self.passes.append(entry)
                records, error = {}, ""

    def wait_in_pass(self, service: int, timeout: float) -> bool:
        """Wait until ``service`` is in the middle of a pass (it holds its leases)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_pass.get(service):
                return True
            time.sleep(0.01)
        return False

    def snapshot(self) -> list[Pass]:
        with self.lock:
            return list(self.passes)

    def first_pass_started_after(self, instant: float, timeout: float) -> Pass | None:
        """The first pass that began at least 0.5 s after ``instant`` (log latency), when done."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.snapshot():
                if p.started >= instant + 0.5:
                    return p
            time.sleep(0.1)
        return None

    def quiet_passes(self) -> int:
        """How many successful passes in a row, at the end, delivered nothing."""
        count = 0
        for p in reversed(self.snapshot()):
            if not p.ok or any(p.records.values()) or len(p.records) < 3:
                break
            count += 1
        return count


class SyncService:
    """``gta sync --every`` in a subprocess, in its own PID namespace when ``isolate``."""

    def __init__(
        self, args: list[str], env: dict[str, str], log: PassLog, number: int, isolate: bool
    ) -> None:
        self.isolate = isolate
        self.number = number
        cmd = [*GTA, *args]
        if isolate:
            cmd = ["unshare", "-fp", "--mount-proc", *cmd]
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
        full.update(env)
        full["COLUMNS"] = "400"  # one log line per message: no wrapping at 80 columns
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        assert self.proc.stderr is not None
        self.reader = threading.Thread(
            target=log.follow, args=(number, self.started, self.proc.stderr), daemon=True
        )
        self.reader.start()

    def gta_pid(self) -> int:
        """The pid (in our namespace) of the gta process: PID 1 of its namespace if isolated."""
        if not self.isolate:
            return self.proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(psutil.NoSuchProcess):
                children = psutil.Process(self.proc.pid).children()
                if children:
                    return children[0].pid
            time.sleep(0.05)
        raise RuntimeError("the namespaced gta process did not appear")

    def kill(self) -> None:
        """SIGKILL the gta process (the whole namespace dies with its PID 1)."""
        os.kill(self.gta_pid(), signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        self.reader.join(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM: finish the page in flight, commit, exit; the exit code."""
        os.kill(self.gta_pid(), signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._close()
        return code

    def ensure_stopped(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, RuntimeError):
                os.kill(self.gta_pid(), signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close()


# -- activity ------------------------------------------------------------------------------------


class Driver:
    """Activity every second and a note change every few seconds, through the faulty API.

    Note changes go through the public API (token, PATCH) like any client's, retried on the
    emulator's injected faults; a faulted request never reaches the handler, so a failed PATCH
    changed nothing. Each change's resulting version (alert id, modifiedAt) is kept.
    """

    def __init__(self, url: str, env: dict[str, str], seed: int) -> None:
        self.url = url
        self.env = env
        self.rng = random.Random(seed)
        self.http = httpx.Client(timeout=30)
        self.notes: list[tuple[str, str]] = []
        self.activity_calls = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._noted: set[str] = set()

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        """No more activity or note changes (the admin calls still work)."""
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=120)

    def admin(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(
            method, f"{self.url}/_emulator/{path}", json=body, params=params or None
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def _run(self) -> None:
        tick = 0
        while not self.stop.wait(1.0):
            tick += 1
            self.admin("POST", "activity", {"new_events": 2, "updated_events": 1})
            self.activity_calls += 1
            if tick % 3 == 0:
                self.change_note()

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """One API call with a fresh token, retried through injected faults (bounded)."""
        for _ in range(30):
            try:
                grant = self.http.post(
                    f"{self.url}/iroh/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.env["SECUREX_CLIENT_ID"], self.env["SECUREX_CLIENT_PASSWORD"]),
                )
                if grant.status_code != 200:
                    continue
                token = grant.json()["access_token"]
                response = self.http.request(
                    method,
                    f"{self.url}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                    **kwargs,
                )
            except httpx.TransportError:
                continue
            if response.status_code in (429, 500, 502, 503):
                time.sleep(0.05)
                continue
            return response
        return None

    def change_note(self) -> None:
        """A note on an alert not noted before; keep the version the change made."""
        base = f"/alert-management/customer/{self.env['GTA_CUSTOMER_ID']}/alerts"
        listing = self.api("GET", base, params={"size": 200})
        if listing is None or listing.status_code != 200:
            return
        fresh = [a["id"] for a in listing.json()["items"] if a["id"] not in self._noted]
        if not fresh:
            return
        alert_id = self.rng.choice(fresh)
        note = f"soak note {len(self.notes) + 1}"
        changed = self.api("PATCH", f"{base}/{alert_id}/note", json={"note": note})
        if changed is not None and changed.status_code == 200:
            self._noted.add(alert_id)
            self.notes.append((alert_id, changed.json()["modifiedAt"]))

    def history(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.admin("GET", "history", after=after, size=10_000)
            rows += page["items"]
            if page["nextAfter"] is None:
                return rows
            after = page["nextAfter"]


@contextlib.contextmanager
def started(driver: Driver) -> Iterator[Driver]:
    driver.start()
    try:
        yield driver
    finally:
        driver.finish()
        driver.http.close()
