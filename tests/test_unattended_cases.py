"""Acceptance of issue #12 ("Unattended for months"): its 11 cases, as an operator meets them.

Each test reproduces one case of the issue through the real ``gta`` command line in a
subprocess, against the emulator (or a tiny loopback server where the case needs a misbehaving
one), and checks the behaviour that docs/sync.md, docs/sdk.md and docs/emulator.md promise.
The detailed tests of each mechanism live elsewhere (tests/sync/test_unattended_state.py,
tests/sync/test_unattended_run.py, tests/sync/test_alert_time_and_tombstones.py,
tests/client/test_deadline_and_limits.py, tests/emulator/test_emulator_body_limit.py); these
stand on their own and read like the issue.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import pytest

from gta.emulator import RunningEmulator

GTA = [sys.executable, "-c", "from gta.cli import main; main()"]
# The same command line, with the SDK's backoff between retries set to zero: only case 4 uses
# it, so that "retried, then one line and exit 1" costs the deadlines alone, not minutes.
GTA_NO_BACKOFF = [
    sys.executable,
    "-c",
    "import gta.client._transport as t; t.retry_delay = lambda *a, **k: 0.0\n"
    "from gta.cli import main; main()",
]
CLEAN = ("Traceback", "cannot rollback", "database is locked", "not a gta state file")


def gta(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GTA, *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(*args: str, env: dict[str, str] | None = None, cmd: list[str] = GTA) -> Any:
    return subprocess.Popen(
        [*cmd, *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def committed(state: Path) -> int:
    """Records committed in the state file (0 while it does not exist or is being created)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT sum(records) FROM checkpoints").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def assert_clean(stderr: str) -> None:
    for bad in CLEAN:
        assert bad not in stderr, stderr


def sync_config(tmp_path: Path, emu: RunningEmulator, state: Path, sink: Path) -> Path:
    config = tmp_path / "gta.toml"
    config.write_text(
        f'state = "{state}"\n[tenants.emu]\nclient_id = "env:SECUREX_CLIENT_ID"\n'
        'client_password = "env:SECUREX_CLIENT_PASSWORD"\n'
        f'visibility_host = "{emu.url}"\napi_url = "{emu.url}"\napp_url = "{emu.url}"\n'
        f'[jobs.ev]\ntenant = "emu"\nstreams = ["events"]\nsink = "{sink}"\n'
    )
    return config


# -- a small disk and a PID namespace (root only) -------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, so the disk really fills up (root only, else skipped)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; delete it to free the space."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * size)
    with pytest.raises(OSError) as full:
        (folder / "probe").write_bytes(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    return filler


def state_file_error(line: str, state: Path) -> bool:
    """docs/sync.md: one line naming the state file and the cause (SQLite's words vary with
    the call that meets the full disk first)."""
    return line in (
        f"state file {state}: database or disk is full",
        f"state file {state}: disk I/O error (no space left on the disk holding it)",
    )


# -- loopback servers -------------------------------------------------------------------------


@dataclass
class Loopback:
    """A tiny HTTP server on 127.0.0.1: the token endpoint answers; every other request goes to
    ``api(handler)``. ``requests`` records (start, end) of each API request as the server saw
    it (end: when it finished or found the client gone)."""

    api: Callable[[BaseHTTPRequestHandler], None]
    url: str = ""
    requests: list[list[float]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "SECUREX_CLIENT_ID": "loopback-client",
            "SECUREX_CLIENT_PASSWORD": "loopback-password",
            "SECUREX_VISIBILITY_HOST_NAME": self.url,
            "GTA_API_URL": self.url,
            "GTA_APP_URL": self.url,
            "GTA_CUSTOMER_ID": "CTA000000012",
        }


@contextlib.contextmanager
def loopback(api: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[Loopback]:
    spec = Loopback(api)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            if self.path.startswith("/iroh/oauth2/token"):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                body = orjson.dumps(
                    {"access_token": "t", "token_type": "bearer", "expires_in": 600}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.do_GET()

        def do_GET(self) -> None:
            times = [time.monotonic(), 0.0]
            spec.requests.append(times)
            try:
                spec.api(self)
            except OSError:
                pass  # the client went away
            finally:
                times[1] = time.monotonic()
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    spec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield spec
    finally:
        server.shutdown()
        server.server_close()


def drip(handler: BaseHTTPRequestHandler) -> None:
    """A 200 that promises 1,000 bytes and sends one every 0.25 s (bounded at 30 s)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(120):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.25)


# -- the cases --------------------------------------------------------------------------------


def test_case_01_a_failed_state_commit_does_not_wedge_the_service(
    small_disk: Path, tmp_path: Path, make_emulator: Any
) -> None:
    """`gta sync --every` with its state on a disk that fills up: one line per failed pass
    naming the state file and the cause, never 'cannot rollback' nor 'being synced by pid
    <its own pid>'; after space is freed, the next pass syncs again."""
    emu: RunningEmulator = make_emulator(seed=11, events=300, flows_per_event=0.0)
    state, out = small_disk / "state.db", tmp_path / "ev.jsonl"
    config = sync_config(tmp_path, emu, state, out)
    service = start("sync", "--config", str(config), "--every", "1s", "-v", env=emu.env())
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(service.stderr.readline, "")))
    reader.start()
    try:
        wait_for(lambda: committed(state) > 0, what="a first pass")
        filler = fill(small_disk)
        httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 20}).raise_for_status()
        wait_for(lambda: sum("job ev: error" in x for x in lines) >= 2, what="failed passes")
        filler.unlink()
        freed = time.monotonic()
        mark = len(lines)
        wait_for(
            lambda: any(
                " pass " in x and " records in " in x and "failed" not in x for x in lines[mark:]
            ),
            what="a clean pass after space was freed",
        )
        # "within a pass": the interval is 1 s; allow for a loaded machine.
        assert time.monotonic() - freed < 15
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
        reader.join(timeout=10)
        service.stderr.close()
    errors = [x.rstrip("\n").split(": error: ", 1)[1] for x in lines if "job ev: error" in x]
    assert errors and all(state_file_error(e, state) for e in errors), errors
    text = "".join(lines)
    assert "being synced by pid" not in text, text
    assert_clean(text)
    assert service.returncode == 0, text
    delivered = {r["eventId"] for r in jsonl(out)}
    assert len(delivered) == 320  # the 20 new events arrived once space was back


def _unshare() -> str:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("a new PID namespace needs root and unshare(1)")
    probe = subprocess.run([unshare, "-fp", "--mount-proc", "true"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"unshare -fp is not permitted here: {probe.stderr.strip()}")
    return unshare


def _held_by_pid_1(state: Path) -> bool:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT pid FROM leases WHERE owner IS NOT NULL").fetchall()
    except sqlite3.Error:
        return False
    return bool(rows) and all(r[0] == 1 for r in rows)


def _kill_a_container(unshare: str, export: list[str], env: dict[str, str], state: Path) -> None:
    """Run ``gta export`` as PID 1 of a new PID namespace, SIGKILL it while it holds its lease."""
    holder = subprocess.Popen(
        [unshare, "-fp", "--mount-proc", "--kill-child", *GTA, *export],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _held_by_pid_1(state), what="the container's lease")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)


def test_case_02_a_lease_of_pid_1_in_a_killed_container_is_taken_over(
    make_emulator: Any, tmp_path: Path
) -> None:
    """`unshare -fp --mount-proc gta export`, SIGKILL: with `--lease-ttl 2s` the next run and
    `gta state reset --yes` are refused only until the TTL has passed."""
    unshare = _unshare()
    emu: RunningEmulator = make_emulator(seed=12, events=400, flows_per_event=0.0,
                                         latency_ms=200)  # fmt: skip
    state, out = tmp_path / "state.db", tmp_path / "events.jsonl"
    export = ["export", "events", "-o", str(out), "--state", str(state), "-q",
              "--page-size", "20", "--lease-ttl", "2s"]  # fmt: skip

    def until_accepted(args: list[str], limit: float = 30.0) -> list[Any]:
        tries = []
        started = time.monotonic()
        while time.monotonic() - started < limit:
            tries.append(gta(*args, env=emu.env()))
            if tries[-1].returncode == 0:
                break
            time.sleep(0.3)
        return tries

    # A new run takes over once the TTL has passed.
    _kill_a_container(unshare, export, emu.env(), state)
    killed = time.monotonic()
    tries = until_accepted(export)
    refused, last = tries[:-1], tries[-1]
    assert last.returncode == 0, last.stderr
    assert time.monotonic() - killed < 30
    for run in refused:
        assert run.returncode == 1 and re.search(
            r"being (synced|written) by pid 1 on \S+ \(heartbeat", run.stderr
        ), run.stderr
    # So does `gta state reset --yes`.
    _kill_a_container(unshare, [*export, "--from-start"], emu.env(), state)
    reset = ["state", "reset", "--state", str(state), "--yes"]
    tries = until_accepted(reset)
    assert tries[-1].returncode == 0, tries[-1].stderr
    for run in tries[:-1]:
        assert run.returncode == 1 and "being synced by pid 1 on" in run.stderr, run.stderr
    show = gta("state", "show", "--state", str(state), "--format", "json")
    assert orjson.loads(show.stdout)["checkpoints"] == [], show.stdout


def test_case_03_a_future_modified_at_does_not_break_the_alerts_checkpoint(
    make_emulator: Any, tmp_path: Path
) -> None:
    """An alert on the first page stamped 2099: later runs still deliver new alerts and a
    changed note; the 2099 alert is delivered once and logged as suspicious."""
    emu: RunningEmulator = make_emulator(seed=13, events=300, flows_per_event=0.0)
    out, state = tmp_path / "alerts.jsonl", tmp_path / "state.db"
    export = ["export", "alerts", "-o", str(out), "--state", str(state), "--schema", "nested",
              "--page-size", "7", "-q"]  # fmt: skip
    assert gta(*export, env=emu.env()).returncode == 0
    ids = [r["id"] for r in jsonl(out)]
    first_page = ids[0]
    stamped = (
        httpx.post(
            f"{emu.url}/_emulator/alerts/{first_page}/modified-at",
            json={"modified_at": "2099-01-01T00:00:00.000Z"},
        )
        .raise_for_status()
        .json()
    )
    done = gta(*export, env=emu.env())
    assert done.returncode == 0, done.stderr
    warned = re.findall(rf"alerts: alert '?{first_page}'? has modifiedAt '?2099-01-01[^\n]*"
                        r"after the server's time", done.stderr)  # fmt: skip
    assert len(warned) == 1, done.stderr
    # Time passes on the server: new alerts, and a note changed on another alert.
    httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 0.01}).raise_for_status()
    made = httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 40}).json()
    assert made["newAlertIds"], "the seed must raise new alerts"
    noted = gta("alerts", "note", ids[1], "checked after the 2099 stamp", "--open", env=emu.env())
    assert noted.returncode == 0, noted.stderr
    later = gta(*export, env=emu.env())
    assert later.returncode == 0, later.stderr
    rows = jsonl(out)
    assert set(made["newAlertIds"]) <= {r["id"] for r in rows}
    assert (ids[1], "checked after the 2099 stamp") in {(r["id"], r.get("note")) for r in rows}
    assert sum(r["modifiedAt"] == stamped["modifiedAt"] for r in rows) == 1
    show = gta("state", "show", "--state", str(state), "--format", "json")
    (checkpoint,) = orjson.loads(show.stdout)["checkpoints"]
    cursor = checkpoint["cursor"]
    since = cursor["since"] if isinstance(cursor, dict) else orjson.loads(cursor)["since"]
    assert since < "2027", cursor  # the server's present (early 2026), not 2099


def test_case_04_a_dripping_server_cannot_hold_a_run(tmp_path: Path) -> None:
    """One byte at a time: each attempt of `gta export --timeout 2s` is abandoned at its
    deadline and retried; SIGTERM during the slow answer stops the run within 2 s; when the
    retries run out the run ends with one line naming the deadline, exit 1."""
    with loopback(drip) as server:
        run = start("export", "alerts", "-o", str(tmp_path / "a.jsonl"), "--state",
                    str(tmp_path / "s.db"), "-q", "--timeout", "2s", env=server.env())  # fmt: skip
        try:
            # The stand-in notes an answer's end only when a write after the client left fails
            # (up to two 0.25 s drips later), which can come after the retry has arrived.
            wait_for(lambda: len(server.requests) >= 2 and server.requests[0][1] > 0,
                     timeout=30, what="a retry")  # fmt: skip
            first = server.requests[0]
            assert first[1] and 1.5 < first[1] - first[0] < 5.0, first  # cut at the deadline
            time.sleep(0.7)  # inside the second slow answer
            signalled = time.monotonic()
            run.send_signal(signal.SIGTERM)
            _, err = run.communicate(timeout=30)
            assert time.monotonic() - signalled < 2.0, err
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        assert run.returncode == 143, err
        assert re.search(r"^interrupted \(SIGTERM\) after 0 records; run the same command",
                         err, re.M), err  # fmt: skip
        assert_clean(err)

    with loopback(drip) as server:
        started = time.monotonic()
        run = start("export", "alerts", "-o", "-", "-q", "--timeout", "1s",
                    env=server.env(), cmd=GTA_NO_BACKOFF)  # fmt: skip
        _, err = run.communicate(timeout=60)
        elapsed = time.monotonic() - started
    assert run.returncode == 1, err
    *retries, last = err.strip().splitlines()
    assert last.startswith("error: ") and "deadline 1 s per attempt" in last, err
    # The only other lines are the documented warnings of each retry.
    assert len(retries) == 8 and all(" WARNING gta.client: retrying GET " in x for x in retries)
    assert len(server.requests) == 9  # 1 + the SDK's 8 retries
    assert elapsed < 30, elapsed


def test_case_05_a_full_disk_under_the_state_file_is_one_line(
    small_disk: Path, tmp_path: Path, make_emulator: Any
) -> None:
    """`gta export` with its state on a full disk: one line naming the file and the cause, exit
    1, no traceback; once space is freed the same command delivers everything."""
    emu: RunningEmulator = make_emulator(seed=15, events=200, flows_per_event=0.0)
    state, out = small_disk / "state.db", tmp_path / "events.jsonl"
    export = ["export", "events", "-o", str(out), "--state", str(state), "-q"]
    assert gta(*export, env=emu.env()).returncode == 0
    before = len(jsonl(out))
    httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 20}).raise_for_status()
    filler = fill(small_disk)
    failed = gta(*export, env=emu.env())
    assert failed.returncode == 1, failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), failed.stderr
    assert state_file_error(lines[0].removeprefix("error: "), state), lines
    assert_clean(failed.stderr)
    filler.unlink()
    again = gta(*export, env=emu.env())
    assert again.returncode == 0, again.stderr
    rows = jsonl(out)
    assert len(rows) > before and len({r["eventId"] for r in rows}) == 220


def _at_the_same_instant(args: list[list[str]], env: dict[str, str]) -> list[tuple[int, str]]:
    """Start every command, let each import gta, then call main() at one shared instant."""
    at = time.time() + 2.5
    prelude = (
        "import sys, time\nfrom gta.cli import main\n"
        f"time.sleep(max(0.0, {at!r} - time.time()))\nmain()"
    )
    procs = [start(*a, env=env, cmd=[sys.executable, "-c", prelude]) for a in args]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err))
    return results


@pytest.mark.parametrize("same_job", [True, False], ids=["same-job", "different-jobs"])
def test_case_06_runs_creating_a_new_state_file_at_once_all_find_a_whole_file(
    emulator: RunningEmulator, tmp_path: Path, same_job: bool
) -> None:
    """Four `gta export` runs start on one new state file at the same instant: none fails with
    'not a gta state file' or 'database is locked'; with the same job, the ones that meet a
    running holder are refused with the lease line."""
    for trial in range(2):
        state = tmp_path / f"t{trial}" / "state.db"
        state.parent.mkdir()
        outs = [tmp_path / f"t{trial}" / (f"a{i}.jsonl" if not same_job else "a.jsonl")
                for i in range(4)]  # fmt: skip
        runs = _at_the_same_instant(
            [["export", "alerts", "-o", str(o), "--state", str(state), "-q"] for o in outs],
            emulator.env(),
        )
        for code, err in runs:
            assert_clean(err)
            if code != 0:
                assert same_job and code == 1, err
                assert re.search(r"being (synced|written) by pid \d+ on", err), err
        assert any(code == 0 for code, _ in runs)
        show = gta("state", "show", "--state", str(state), "--format", "json")
        jobs = {c["job"] for c in orjson.loads(show.stdout)["checkpoints"]}
        assert len(jobs) == (1 if same_job else 4), show.stdout


DETECTION_SEARCH = "enriched-threat-detections-with-alert-ids/search"


def test_case_07_enrichment_gaps_are_logged_and_counted(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A proxy drops items from the detection lookup's 200 answers: the run says so, one warning
    per page and the count in the summary; rows lack alertId only where the parent is missing."""
    dropped: set[str] = set()

    def proxy(handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() in ("authorization", "content-type", "accept")}  # fmt: skip
        answer = httpx.request(handler.command, emulator.url + handler.path, content=body,
                               headers=headers, timeout=30)  # fmt: skip
        content = answer.content
        if DETECTION_SEARCH in handler.path and answer.status_code == 200:
            page = orjson.loads(content)
            # About a third of the detections go missing, the same ones each time asked.
            lost = [i for i in page["items"] if zlib.crc32(i["id"].encode()) % 3 == 0]
            dropped.update(i["id"] for i in lost)
            page["items"] = [i for i in page["items"] if i not in lost]
            content = orjson.dumps(page)
        handler.send_response(answer.status_code)
        for key in ("content-type", "date"):
            if key in answer.headers:
                handler.send_header(key, answer.headers[key])
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def export(env: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
        return gta("export", "events", "-o", str(out), "--state", str(tmp_path / "s.db"),
                   "--page-size", "500", env=env)  # fmt: skip

    direct = export(emulator.env(), tmp_path / "direct.jsonl")
    assert direct.returncode == 0, direct.stderr
    with loopback(proxy) as server:
        env = {**emulator.env(), "GTA_API_URL": server.url}
        proxied = export(env, tmp_path / "proxied.jsonl")
    assert dropped
    assert proxied.returncode == 0, proxied.stderr  # delivered with what is known
    warnings = re.findall(
        r"events: page \d+: enrichment incomplete, the API did not return (.*?); "
        r"records delivered with what is known", proxied.stderr)  # fmt: skip
    assert len(warnings) == 4, proxied.stderr  # 2,000 events, 500 a page: one line per page

    def missing_detections(text: str) -> int:
        found = re.search(r"enrichment incomplete: .*?([\d,]+) threat detections", text)
        return int(found.group(1).replace(",", "")) if found else 0

    summary = [x for x in proxied.stderr.splitlines() if x.startswith("events: done")]
    assert len(summary) == 1 and "enrichment incomplete" in summary[0], proxied.stderr
    # The proxy's gaps come on top of the few the seeded data has anyway (the direct run).
    assert missing_detections(summary[0]) > missing_detections(direct.stderr)
    rows = jsonl(tmp_path / "proxied.jsonl")
    full = jsonl(tmp_path / "direct.jsonl")
    assert {r["eventId"] for r in rows} == {r["eventId"] for r in full}  # every event delivered
    whole = {(r["eventId"], r.get("threatDetectionId"), r.get("alertId")) for r in full}
    for row in rows:
        if row.get("threatDetectionId") in dropped:  # the parent is missing, nothing invented
            assert row.get("alertId") is None and row["eventId"]
        else:
            assert (row["eventId"], row.get("threatDetectionId"), row.get("alertId")) in whole


def test_case_08_removed_alerts_reach_the_siem_as_tombstones(
    make_emulator: Any, tmp_path: Path
) -> None:
    """After the 45-day timeout the API removes alerts: the next `gta export alerts` delivers one
    `removed: true` record per removed alert, and the run after it none again."""
    emu: RunningEmulator = make_emulator(seed=18, events=150, flows_per_event=0.0)
    out, state = tmp_path / "alerts.jsonl", tmp_path / "state.db"
    export = ["export", "alerts", "-o", str(out), "--state", str(state)]
    assert gta(*export, env=emu.env()).returncode == 0
    delivered = {r["alertId"] for r in jsonl(out)}
    moved = httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 60})
    removed = set(moved.raise_for_status().json()["removedAlertIds"])
    assert removed and removed <= delivered
    count = len(jsonl(out))
    done = gta(*export, env=emu.env())
    assert done.returncode == 0, done.stderr
    tombstones = [r for r in jsonl(out)[count:] if r.get("removed") is True]
    assert sorted(r["alertId"] for r in tombstones) == sorted(removed)  # one each
    assert all(r["removedAt"] and r["alertStatus"] for r in tombstones)
    assert f"{len(removed)} removed alert" in done.stderr
    count = len(jsonl(out))
    assert gta(*export, env=emu.env()).returncode == 0
    assert not [r for r in jsonl(out)[count:] if r.get("removed")]


def test_case_09_a_second_job_writing_the_same_file_is_refused(
    make_emulator: Any, tmp_path: Path
) -> None:
    """A `gta sync` service runs; a `gta export` to the same file is refused with one line and
    writes nothing, so no row arrives twice (docs/sync.md, Leases: "for as long as it runs")."""
    emu: RunningEmulator = make_emulator(seed=19, events=300, flows_per_event=0.0)
    state, out = tmp_path / "state.db", tmp_path / "siem.jsonl"
    config = sync_config(tmp_path, emu, state, out)
    service = start("sync", "--config", str(config), "--every", "5s", env=emu.env())
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(service.stderr.readline, "")))
    reader.start()
    try:
        wait_for(lambda: any(" pass 1: " in x for x in lines), what="the service's first pass")
        size = out.stat().st_size
        export = gta("export", "events", "-o", str(out), "--state", str(state), env=emu.env())
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
        reader.join(timeout=10)
        service.stderr.close()
    assert service.returncode == 0, lines
    assert export.returncode == 1, export.stderr
    refusal = export.stderr.strip().splitlines()
    assert len(refusal) == 1, export.stderr
    assert re.match(
        rf"error: destination file:{re.escape(str(out.resolve()))} \(job 'ev'\) is being "
        r"written by pid \d+ on \S+ \(heartbeat",
        refusal[0],
    ), refusal[0]
    assert out.stat().st_size == size
    rows = jsonl(out)
    assert len(rows) == len({r["recordId"] for r in rows})


def test_case_10_ctrl_c_during_export_is_not_a_success(make_emulator: Any, tmp_path: Path) -> None:
    """SIGINT in the middle of `gta export`: exit 130 and `interrupted ... run the same command
    to resume`; running it again delivers the rest, nothing lost."""
    emu: RunningEmulator = make_emulator(seed=20, events=3000, flows_per_event=0.0)
    httpx.put(f"{emu.url}/_emulator/faults", json={"latency_ms": 40}).raise_for_status()
    out, state = tmp_path / "events.jsonl", tmp_path / "state.db"
    export = ["export", "events", "-o", str(out), "--state", str(state), "--page-size", "100"]
    run = start(*export, env=emu.env())
    wait_for(lambda: committed(state) > 0, what="a first page")
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 130, err
    found = re.search(
        r"^interrupted \(SIGINT\) after ([\d,]+) records; run the same command to resume", err,
        re.M)  # fmt: skip
    assert found, err
    delivered = int(found.group(1).replace(",", ""))
    assert 0 < delivered == len(jsonl(out)) < 3000
    httpx.put(f"{emu.url}/_emulator/faults", json={}).raise_for_status()
    again = gta(*export, "-q", env=emu.env())
    assert again.returncode == 0, again.stderr
    rows = jsonl(out)
    assert len({r["eventId"] for r in rows}) == 3000
    assert len(rows) - len({r["recordId"] for r in rows}) <= 100  # at most the page in flight


def test_case_11_bodies_have_a_size_limit(make_emulator: Any, tmp_path: Path) -> None:
    """An answer of 200 MiB with no length, streamed fast: `gta export` refuses it at the
    default 64 MiB limit, one line, not retried, and its memory never holds the answer. A
    token-less 194 MB request to the emulator is answered before its body is read."""
    size = 200 * 1024 * 1024
    block = b"x" * 65536

    def stream(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(size // len(block)):
            handler.wfile.write(b"10000\r\n" + block + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    with loopback(stream) as server:
        run = start("export", "alerts", "-o", "-", "-q", env=server.env())
        process = psutil.Process(run.pid)
        peak = 0
        while run.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)
        _, err = run.communicate(timeout=60)
    assert run.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "more than the limit of 67108864 bytes" in lines[0], err  # the default 64 MiB
    assert len(server.requests) == 1  # not retried
    print(f"case 11: peak RSS of gta export {peak / 2**20:.0f} MiB")
    assert 0 < peak < 190 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"

    emu: RunningEmulator = make_emulator(seed=21, events=50, flows_per_event=0.0)
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    path = f"/event-detection/customer/{emu.customer_id}/events/search"
    for length, expected in ((194_000_000, {401, 413}), (1_000_000, {401})):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: emu\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\n\r\n".encode()
            )  # the body is announced, never sent: an answer proves it was not awaited
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                assert chunk, "closed without an answer"
                head += chunk
        assert int(head.split()[1]) in expected, head[:200]
