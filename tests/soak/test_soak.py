"""Soak: `gta sync --every 1s` left unattended through everything a few months bring.

One service syncs events, alerts and threat detections from a faulty emulator with activity
every second, through: a fault storm (5xx, 429, resets, latency), a full disk under the state
file, a full disk under the output, a skewed and a future-stamped alert, alerts removed by the
45-day timeout (tombstones), and five SIGKILLs of the service running as PID 1 of its own PID
namespace (its lease names a pid that is alive from every other namespace, so only the lease
TTL can free it). After each episode the first pass that starts after it ends must succeed
(after a kill: the first pass that starts once the TTL has run out).

At the end, activity stops, the service drains and is stopped with SIGTERM, and the delivered
JSON lines are compared with the emulator's truth (its collections and `/_emulator/history`):
no latest version lost, every removed alert tombstoned, every note change this test made
delivered (or superseded by a newer version), duplicates no more than the pages in flight at
the kills and failed passes. The figures are printed and written to
``tests/soak/.results/soak.json`` (see docs/reliability.md, section Soak).

Length: ``GTA_SOAK_SECONDS`` or ``--soak-minutes N`` (default 180 s, about 3 minutes in all
when every episode recovers; a failing one waits up to 30 s more); the time beyond what the
episodes need is spread between them as steady syncing.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _compare import compare, problems_of, truth
from tests.reliability.rel_support import RawApi, emulator_process, read_records

from _harness import Driver, PassLog, SyncService, Tmpfs, namespaces_permitted, started

HERE = Path(__file__).resolve().parent
pytestmark = [pytest.mark.soak, pytest.mark.slow]

EVERY = 1.0
LEASE_TTL = 3.0
PAGE_SIZE = 100
RECONCILE_EVERY = 10
KILLS = 5
FAULTS = {"error_rate": 0.03, "rate_limit_rate": 0.03, "reset_rate": 0.02, "latency_ms": 10}
STORM = {"error_rate": 0.5, "rate_limit_rate": 0.2, "reset_rate": 0.2, "latency_ms": 200}
TOKEN_TTL = 5
_FIXED_SECONDS = 90  # what the episodes took without steady time (healthy run, 2 cores)


def soak_seconds(config: pytest.Config) -> float:
    minutes = config.getoption("--soak-minutes")
    if minutes:
        return float(minutes) * 60
    return float(os.environ.get("GTA_SOAK_SECONDS", "180"))


class Soak:
    """The running scenario: service, disks, driver, and what each episode measured."""

    def __init__(self, tmp: Path, emu: Any, driver: Driver, isolate: bool, gap: float) -> None:
        self.tmp = tmp
        self.emu = emu
        self.driver = driver
        self.isolate = isolate
        self.gap = gap
        self.log = PassLog(EVERY)
        self.services: list[SyncService] = []
        self.episodes: list[dict[str, Any]] = []
        self.kill_records: list[dict[str, Any]] = []
        self.kills = 0
        self.in_flight_failures = 0

    def config(self, state_dir: Path, out_dir: Path) -> Path:
        url = self.emu.url
        path = self.tmp / "gta.toml"
        path.write_text(
            f'state = "{state_dir / "state.db"}"\n\n'
            "[tenants.main]\n"
            'client_id = "env:SECUREX_CLIENT_ID"\n'
            'client_password = "env:SECUREX_CLIENT_PASSWORD"\n'
            f'visibility_host = "{url}"\napi_url = "{url}"\napp_url = "{url}"\n\n'
            "[jobs.soak]\n"
            'tenant = "main"\n'
            'streams = ["events", "alerts", "threat-detections"]\n'
            'format = "annotation"\n'
            f'sink = "jsonl:{out_dir / "soak.jsonl"}"\n'
            f"page_size = {PAGE_SIZE}\n"
            f'reconcile_every = "{RECONCILE_EVERY}s"\n'
        )
        self.config_path = path
        return path

    def start(self, log: PassLog | None = None) -> SyncService:
        args = ["sync", "--config", str(self.config_path), "--every", "1s", "--verbose"]
        args += ["--lease-ttl", f"{LEASE_TTL:g}s"]
        number = len(self.services)
        service = SyncService(args, self.emu.env, log or self.log, number, self.isolate)
        self.services.append(service)
        return service

    def rival(self, seconds: float) -> None:
        """A second service in another PID namespace while the first runs: both leases name
        pid 1, alive from everywhere. Leases may pass between them from one pass to the next,
        but two passes must never sync at the same time (a 0.2 s margin for log timing)."""
        log = PassLog(EVERY)
        first = self.service
        began = time.monotonic()
        rival = self.start(log)
        self.services.remove(rival)
        self.services.insert(len(self.services) - 1, rival)  # ``service`` stays the first
        try:
            time.sleep(seconds)
        finally:
            rival.terminate()
        assert self.service is first
        theirs = [p for p in log.snapshot() if p.ok]
        ours = [p for p in self.log.snapshot() if p.ended >= began]
        overlapping = sum(
            1
            for a in theirs
            for b in ours
            if b.ok and min(a.ended, b.ended) - max(a.started, b.started) > 0.2
        )
        self.episodes.append(
            {
                "episode": "a second service in another PID namespace (never two at once)",
                "recovered_within_one_pass": overlapping == 0,
                "seconds_to_first_good_pass": None,
                "failed_passes_after_it": sum(not p.ok for p in ours),
                "first_pass_after": (
                    f"rival synced {len(theirs)} of {len(log.snapshot())} passes, first service "
                    f"{sum(p.ok for p in ours)} of {len(ours)}; passes syncing at the same "
                    f"time: {overlapping}"
                ),
                "overlapping_passes": overlapping,
            }
        )

    @property
    def service(self) -> SyncService:
        return self.services[-1]

    def steady(self, seconds: float | None = None) -> None:
        """Let the service run; it must not have exited."""
        time.sleep(self.gap if seconds is None else seconds)
        code = self.service.proc.poll()
        assert code is None, f"gta sync exited with {code}: {list(self.log.tail)}"

    def recovered(self, name: str, ended: float, extra: float = 0.0, **facts: Any) -> None:
        """Record whether the first pass that started after ``ended + extra`` succeeded."""
        first = self.log.first_pass_started_after(ended + extra, timeout=30 + extra)
        until = first.ended if first else time.monotonic()
        failed = sum(1 for p in self.log.snapshot() if not p.ok and ended <= p.ended <= until)
        self.episodes.append(
            {
                "episode": name,
                "recovered_within_one_pass": bool(first and first.ok),
                "seconds_to_first_good_pass": self._first_ok(ended),
                "failed_passes_after_it": failed,
                "first_pass_after": first.line[:200] if first else "no pass within 30 s",
                **facts,
            }
        )

    def _first_ok(self, after: float) -> float | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for p in self.log.snapshot():
                if p.ok and p.ended > after:
                    return round(p.ended - after, 2)
            time.sleep(0.1)
        return None


@pytest.fixture
def soak_dirs(tmp_path: Path) -> Iterator[tuple[Tmpfs, Tmpfs]]:
    state = Tmpfs(tmp_path / "state-disk", 16)
    out = Tmpfs(tmp_path / "out-disk", 32)
    try:
        yield state, out
    finally:
        state.free()
        out.free()
        state.unmount()
        out.unmount()


def test_soak_unattended(
    tmp_path: Path, soak_dirs: tuple[Tmpfs, Tmpfs], pytestconfig: pytest.Config
) -> None:
    began = time.monotonic()
    budget = soak_seconds(pytestconfig)
    gap = max(3.0, (budget - _FIXED_SECONDS) / 9)
    skipped: dict[str, str] = {}
    ns_reason = namespaces_permitted()
    if ns_reason:
        skipped["kills and a second service (PID namespaces)"] = ns_reason
    state_disk, out_disk = soak_dirs
    for disk, episode in ((state_disk, "state disk full"), (out_disk, "output disk full")):
        reason = disk.mount()
        if reason:
            skipped[episode] = reason
    # The emulated clock starts 45 days back, so moving it 40 days times out old detections
    # (alerts disappear) while it stays behind the real time the server's Date header shows.
    start = (datetime.now(UTC) - timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = ["--token-ttl", str(TOKEN_TTL), "--clock-start", start]
    with emulator_process(seed=11, events=2000, db=tmp_path / "emu.db", extra=extra) as emu:
        driver = Driver(emu.url, emu.env, seed=11)
        soak = Soak(tmp_path, emu, driver, isolate=ns_reason is None, gap=gap)
        soak.config(state_disk.path, out_disk.path)
        try:
            with started(driver):
                figures = _episodes(soak, state_disk, out_disk, skipped)
                notes = figures.pop("_notes")
                figures.update(_final_check(soak, out_disk.path / "soak.jsonl", notes))
        finally:
            for service in soak.services:
                service.ensure_stopped()
    figures["wall_seconds"] = round(time.monotonic() - began, 1)
    figures["skipped_episodes"] = skipped
    figures["problems"] = problems_of(figures)
    _report(figures)
    assert not figures["problems"], "\n".join(figures["problems"])


def _episodes(
    soak: Soak, state_disk: Tmpfs, out_disk: Tmpfs, skipped: dict[str, str]
) -> dict[str, Any]:
    driver = soak.driver
    driver.admin("PUT", "faults", {**FAULTS, "token_ttl": TOKEN_TTL})
    soak.start()
    soak.steady(soak.gap + 10)  # the first pass drains the 2,000 generated events

    driver.admin("PUT", "faults", {**STORM, "token_ttl": TOKEN_TTL})
    soak.steady(8)
    driver.admin("PUT", "faults", {**FAULTS, "token_ttl": TOKEN_TTL})
    soak.recovered("fault storm (50% 5xx, 20% 429, 20% resets, 200 ms)", time.monotonic())
    soak.steady()

    for disk, name in ((state_disk, "state disk full"), (out_disk, "output disk full")):
        if name in skipped:
            continue
        filled_at = time.monotonic()
        filled = disk.fill()
        soak.steady(6)
        disk.free()
        soak.recovered(name, time.monotonic(), filler_bytes=filled)
        # A pass that failed here may have written its page and not committed it.
        soak.in_flight_failures += sum(
            1 for p in soak.log.snapshot() if not p.ok and p.ended >= filled_at
        )
        soak.steady()

    now = datetime.now(UTC)
    skewed = (now + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    picked = _two_alerts(driver)
    for alert_id, stamp in zip(picked, (skewed, "2099-01-01T00:00:00.000Z"), strict=True):
        driver.admin("POST", f"alerts/{alert_id}/modified-at", {"modified_at": stamp})
    soak.recovered("skewed (+15 min) and future (2099) alerts", time.monotonic(), alerts=picked)
    soak.steady()

    moved = driver.admin("POST", "clock", {"advance_days": 40})
    soak.recovered(
        "clock +40 days (alerts removed)",
        time.monotonic(),
        removed_alerts=len(moved["removedAlertIds"]),
    )
    soak.steady()

    if "kills and a second service (PID namespaces)" not in skipped:
        soak.rival(8)
        soak.steady()
        # Slower answers make passes last long enough for a kill to land inside one, while
        # the service holds its leases (between passes it holds none).
        driver.admin("PUT", "faults", {**FAULTS, "latency_ms": 300, "token_ttl": TOKEN_TTL})
        rng = random.Random(11)
        for number in range(KILLS):
            soak.steady(rng.uniform(0.5, 2.0))
            service = soak.service
            soak.log.wait_in_pass(service.number, timeout=15)
            time.sleep(rng.uniform(0.0, 0.1))
            in_pass = soak.log.in_pass.get(service.number, False)
            service.kill()
            killed = time.monotonic()
            soak.start()
            soak.recovered(
                f"SIGKILL {number + 1} of PID 1 (lease TTL {LEASE_TTL:g} s)",
                killed,
                extra=LEASE_TTL,
                killed_in_a_pass=in_pass,
            )
            soak.kill_records.append({"kill": number + 1, "in_pass": in_pass})
        driver.admin("PUT", "faults", {**FAULTS, "token_ttl": TOKEN_TTL})
        soak.steady()

    driver.finish()  # no more activity or note changes from here
    driver.admin("PUT", "faults", {"token_ttl": TOKEN_TTL})
    deadline = time.monotonic() + 60 + RECONCILE_EVERY
    while time.monotonic() < deadline and soak.log.quiet_passes() < 3:
        time.sleep(0.5)
    time.sleep(RECONCILE_EVERY + 2 * EVERY)  # one reconciliation after the last removal
    stopped_with = soak.service.terminate()
    passes = soak.log.snapshot()
    soak.kills = len(soak.kill_records)
    return {
        "episodes": soak.episodes,
        "kills": len(soak.kill_records),
        "kills_in_a_pass": sum(k["in_pass"] for k in soak.kill_records),
        "passes": len(passes),
        "failed_passes": sum(not p.ok for p in passes),
        "failed_passes_in_disk_episodes": soak.in_flight_failures,
        "pass_errors": dict(soak.log.errors.most_common(8)),
        "quiet_passes_at_end": soak.log.quiet_passes(),
        "sigterm_exit_code": stopped_with,
        "activity_calls": driver.activity_calls,
        "note_changes": len(driver.notes),
        "page_size": PAGE_SIZE,
        "lease_ttl_seconds": LEASE_TTL,
        "every_seconds": EVERY,
        "steady_gap_seconds": round(soak.gap, 1),
        "_notes": driver.notes,
    }


def _two_alerts(driver: Driver) -> list[str]:
    cid = driver.env["GTA_CUSTOMER_ID"]
    listing = driver.api("GET", f"/alert-management/customer/{cid}/alerts", params={"size": 50})
    assert listing is not None and listing.status_code == 200
    ids = [a["id"] for a in listing.json()["items"]]
    return ids[-2:]


def _final_check(soak: Soak, output: Path, notes: list[tuple[str, str]]) -> dict[str, Any]:
    emu = soak.emu
    api = RawApi(emu.url, emu.client_id, emu.client_password, emu.customer_id)
    try:
        latest = truth(api)
    finally:
        api.close()
    history = soak.driver.history()
    rows, torn = read_records(output)
    figures = {"torn_lines": torn, **compare(rows, latest, history, notes)}
    # A kill, or a pass failed by a full disk, may deliver again the page it had in flight.
    # (Other failures come before a page is written: fetching, enriching, taking the lease.)
    figures["duplicate_bound"] = (
        (soak.kills + soak.in_flight_failures) * PAGE_SIZE * figures["max_rows_per_event"]
    )
    return figures


def _report(figures: dict[str, Any]) -> None:
    text = json.dumps(figures, indent=2, sort_keys=True)
    print(text)
    results = HERE / ".results"
    results.mkdir(exist_ok=True)
    stored = dict(figures)
    stored["recorded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    stored["command"] = " ".join(["python", "-m", "pytest", *sys.argv[1:]])
    (results / "soak.json").write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
