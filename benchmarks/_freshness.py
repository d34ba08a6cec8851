"""``python -m benchmarks freshness``: how long a new event takes to reach the SIEM under
``gta sync --every``, and what an idle service costs the API.

An emulator (in a thread, seeded, small backlog) and ``gta sync --every 2s`` (a process, all four
streams, ``nested`` records to a JSON lines file, metrics on a loopback port) run side by side.
After the backlog is delivered:

- *activity*: every second the benchmark asks the emulator for new events
  (``POST /_emulator/activity``) and notes the wall time at which it asked (the emulator's clock
  is its own, so its ``detectedAt`` is not a wall time); a reader polls the file every 20 ms and
  notes when each new event's record appears. The delay is the difference: p50 and p99.
- *idle*: no activity; the service's API requests per minute, from the difference of
  ``gta_api_requests_total`` on its metrics endpoint (every answer, tokens included).

The figures go into a marked section of docs/benchmarks.md (between ``<!-- freshness:begin -->``
and ``<!-- freshness:end -->``); the rest of the page is left as it is, and ``python -m benchmarks
run`` keeps the section (see :func:`keep_section`).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson

from benchmarks._sections import MarkedSection
from benchmarks._server import gta_command

if TYPE_CHECKING:
    from gta.emulator import RunningEmulator

BEGIN = "<!-- freshness:begin -->"
END = "<!-- freshness:end -->"
_METRICS_LINE = re.compile(r"metrics on (http://\S+)/metrics")
_REQUESTS = re.compile(r"^gta_api_requests_total\{[^}]*\} (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$", re.M)


@dataclass(frozen=True)
class FreshnessResult:
    every_s: float
    events: int
    """New events created during the activity phase."""
    delays_s: list[float]
    """Creation (asked) to delivery (record in the file), one per delivered new event."""
    idle_s: float
    idle_requests: float
    slow_ms: int = 0
    """Latency of the second tenant's API (0: not measured)."""
    fast_delays_s: list[float] = field(default_factory=list)
    """The first tenant's delays while the slow one is synced too."""
    slow_delays_s: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.delays_s, 50)

    @property
    def p99(self) -> float:
        return percentile(self.delays_s, 99)

    @property
    def idle_per_minute(self) -> float:
        return self.idle_requests * 60.0 / self.idle_s if self.idle_s > 0 else 0.0


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank, so p99 of few samples is the largest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


class _Sink:
    """Follows the JSON lines file: when each event id's record first appeared (wall time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, float] = {}
        self._offset = 0
        self._rest = b""

    def poll(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        now = time.time()
        self._offset += len(data)
        *lines, self._rest = (self._rest + data).split(b"\n")
        for line in lines:
            record = orjson.loads(line)
            if record.get("stream") == "events" and isinstance(record.get("id"), str):
                self.seen.setdefault(record["id"], now)


def _config(tmp: Path, tenants: dict[str, RunningEmulator]) -> Path:
    """One tenant and one job (named alike, ``nested`` to ``NAME.jsonl``) per emulator."""
    text = f'state = "{tmp / "state.db"}"\n'
    for name, emu in tenants.items():
        url = emu.url
        text += (
            f'[tenants.{name}]\nclient_id = "{emu.client_id}"\n'
            f'client_password = "{emu.client_password}"\nvisibility_host = "{url}"\n'
            f'api_url = "{url}"\napp_url = "{url}"\n[jobs.{name}]\ntenant = "{name}"\n'
            f'format = "nested"\nsink = "{tmp / (name + ".jsonl")}"\n'
        )
    config = tmp / "gta.toml"
    config.write_text(text)
    return config


def _requests_total(metrics_url: str) -> float:
    text = httpx.get(f"{metrics_url}/metrics", timeout=10).text
    return sum(float(v) for v in _REQUESTS.findall(text))


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def _service(config: Path, every: str, log: Path) -> Iterator[str]:
    """``gta sync --every`` running; yields its metrics URL; SIGTERM at the end."""
    cmd = [*gta_command(), "sync", "-c", str(config), "--every", every, "-q"]
    cmd += ["--metrics-address", "127.0.0.1:0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREX_", "GTA_"))}
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stderr=err, stdout=subprocess.DEVNULL)
    try:

        def url() -> str | None:
            if proc.poll() is not None:
                raise RuntimeError(f"gta sync exited {proc.returncode}: {log.read_text()[-300:]}")
            match = _METRICS_LINE.search(log.read_text())
            return match.group(1) if match else None

        _wait(lambda: url() is not None, 60, "the metrics endpoint")
        yield str(url())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Activity:
    """New events every second on some emulators, each followed in its job's file."""

    def __init__(self, tenants: dict[str, tuple[str, _Sink]], per_second: int) -> None:
        self.tenants = tenants  # name -> (emulator URL, its sink)
        self.per_second = per_second
        self.asked: dict[str, dict[str, float]] = {name: {} for name in tenants}

    def run(self, seconds: float, every: float, slack: float) -> dict[str, list[float]]:
        """``seconds`` of activity; the delay of each new event, per tenant."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(0.02):
                for _url, sink in self.tenants.values():
                    sink.poll()

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        try:
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                tick = time.monotonic()
                for name, (url, _sink) in self.tenants.items():
                    when = time.time()
                    body = {"new_events": self.per_second}
                    reply = httpx.post(f"{url}/_emulator/activity", json=body, timeout=10)
                    reply.raise_for_status()
                    for event_id in reply.json()["newEventIds"]:
                        self.asked[name][event_id] = when
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
            # The last events are delivered within a pass or two.
            with contextlib.suppress(RuntimeError):
                _wait(self._all_seen, every * 3 + slack, "delivery")
        finally:
            stop.set()
            follower.join()
        return {
            name: [sink.seen[e] - t for e, t in self.asked[name].items() if e in sink.seen]
            for name, (_url, sink) in self.tenants.items()
        }

    def _all_seen(self) -> bool:
        return all(
            e in sink.seen for name, (_u, sink) in self.tenants.items() for e in self.asked[name]
        )


def _caught_up(sinks: list[_Sink], counts: list[int]) -> Callable[[], bool]:
    def check() -> bool:
        for sink in sinks:
            sink.poll()
        return all(len(s.seen) >= n for s, n in zip(sinks, counts, strict=True))

    return check


def measure(
    log: Callable[[str], None],
    *,
    every: float = 2.0,
    activity_s: float = 20.0,
    idle_s: float = 20.0,
    per_second: int = 2,
    backlog: int = 500,
    slow_ms: int = 500,
) -> FreshnessResult:
    """One tenant (delay, idle cost), then the same tenant next to one whose API answers after
    ``slow_ms`` (0: skip that part)."""
    from gta.emulator import EmulatorSettings, run_in_thread

    with (
        run_in_thread(EmulatorSettings(seed=7, events=backlog)) as emu,
        tempfile.TemporaryDirectory(prefix="gta-freshness-") as work,
    ):
        tmp = Path(work) / "one"
        tmp.mkdir()
        sink = _Sink(tmp / "fast.jsonl")
        config = _config(tmp, {"fast": emu})
        with _service(config, f"{every:g}s", tmp / "sync.log") as metrics_url:
            _wait(_caught_up([sink], [backlog]), 300, "the backlog")
            log(f"backlog of {backlog} events delivered; {activity_s:g}s of activity")
            activity = _Activity({"fast": (emu.url, sink)}, per_second)
            delays = activity.run(activity_s, every, 10)["fast"]
            created = len(activity.asked["fast"])
            log(f"{len(delays)} of {created} new events delivered; {idle_s:g}s idle")
            before, idle_started = _requests_total(metrics_url), time.monotonic()
            time.sleep(idle_s)
            idle_requests = _requests_total(metrics_url) - before
            idle_took = time.monotonic() - idle_started
        result = FreshnessResult(every, created, delays, idle_took, idle_requests)
        if slow_ms <= 0:
            return result
        slow_settings = EmulatorSettings(seed=8, events=backlog, latency_ms=slow_ms)
        with run_in_thread(slow_settings) as slow_emu:
            tmp = Path(work) / "two"
            tmp.mkdir()
            sinks = {"fast": _Sink(tmp / "fast.jsonl"), "slow": _Sink(tmp / "slow.jsonl")}
            config = _config(tmp, {"fast": emu, "slow": slow_emu})
            with _service(config, f"{every:g}s", tmp / "sync.log"):
                counts = [backlog + created, backlog]
                _wait(_caught_up(list(sinks.values()), counts), 600, "both backlogs")
                log(f"both backlogs delivered; {activity_s:g}s of activity on both tenants")
                urls = {"fast": emu.url, "slow": slow_emu.url}
                both = _Activity({n: (urls[n], sinks[n]) for n in sinks}, per_second)
                pair = both.run(activity_s, every, 10 + slow_ms / 100)
    return FreshnessResult(
        every, created, delays, idle_took, idle_requests,
        slow_ms=slow_ms, fast_delays_s=pair["fast"], slow_delays_s=pair["slow"],
    )  # fmt: skip


def _row(case: str, every: float, delays: list[float], idle: str) -> str:
    return (
        f"| {case} | {every:g} s | {len(delays)} | {percentile(delays, 50):.2f} s | "
        f"{percentile(delays, 99):.2f} s | {max(delays, default=float('nan')):.2f} s | {idle} |"
    )


def render(result: FreshnessResult) -> str:
    """The marked section of docs/benchmarks.md."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lost = result.events - len(result.delays_s)
    rows = [_row("one tenant", result.every_s, result.delays_s, f"{result.idle_per_minute:.0f}")]
    if result.slow_ms:
        rows += [
            _row(f"the same, next to a {result.slow_ms} ms tenant", result.every_s,
                 result.fast_delays_s, ""),
            _row(f"the {result.slow_ms} ms tenant", result.every_s, result.slow_delays_s, ""),
        ]  # fmt: skip
    return "\n".join([
        BEGIN,
        "## Freshness",
        "",
        "Generated by `python -m benchmarks freshness`; do not edit by hand.",
        "",
        f"`gta sync --every {result.every_s:g}s` (all four streams, `nested` records to a JSON "
        "lines file) against an emulator that gets new events every second. The delay runs "
        "from the moment the benchmark asked the emulator for an event to the moment its record "
        "was in the file (polled every 20 ms). The idle cost is the service's API requests "
        "(`gta_api_requests_total`, tokens included) while nothing happens."
        + (
            " Then the same tenant is synced next to a second one whose API answers every "
            f"request after {result.slow_ms} ms (two emulators, one job each, activity on "
            "both): tenants run side by side, each job on its own schedule, so the fast "
            "tenant's delay should not move."
            if result.slow_ms
            else ""
        ),
        "",
        "| case | every | new events | delay p50 | delay p99 | max | idle requests/min |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"- Python {platform.python_version()}, {os.cpu_count()} logical cores, load average "
        f"at the end {load}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        + (f"; {lost} event(s) not delivered in time" if lost else ""),
        END,
    ]) + "\n"  # fmt: skip


_SECTION = MarkedSection(BEGIN, END)
keep_section = _SECTION.keep
"""*new* page text with this benchmark's section of *old* kept (or *new*'s own, if it has one)."""
write_section = _SECTION.write
"""Put a section into the report, replacing the old one; the rest of the page is untouched."""
