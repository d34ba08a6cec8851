"""``gta export --to elasticsearch+http://...`` end to end: emulator -> sync engine -> bulk sink ->
strict stand-in. A 10,000-event dataset arrives whole; a SIGKILL mid-export and a resume deliver
nothing twice (the replayed batch comes back as 409 conflicts, reported as already delivered);
``gta sinks check`` works for the URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from es_standin import API_KEY, EsState, run_standin

from gta.cli import main
from gta.emulator import RunningEmulator


def _gta(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.slow
def test_export_of_10k_events_arrives_whole(
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emu = make_emulator(events=10_000, flows_per_event=0.0)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GTA_ELASTICSEARCH_API_KEY", API_KEY)
    with run_standin(EsState(busy_next=2, throttle_next=1)) as es:
        url = es.url + "?index=gta-events&backoff_base=0.01"
        state = str(tmp_path / "state.db")
        assert _gta("export", "events", "--to", url, "--state", state, "-f", "ecs", "-q") == 0
        ids = es.state.record_ids()
        assert len(ids) == len(set(ids)) >= 10_000
        assert Counter(d["stream"] for d in es.state.docs.values()) == {"events": len(ids)}
        assert es.state.conflicts == 0 and es.state.bad_actions == []
        doc = next(iter(es.state.docs.values()))
        assert doc["organization"]["id"] and doc["ecs"]["version"]  # the customer id reached it
        assert _gta("export", "events", "--to", url, "--state", state, "-f", "ecs", "-q") == 0
        assert es.state.record_ids() == ids  # from the checkpoint: nothing new


@pytest.mark.slow
@pytest.mark.reliability
def test_sigkill_mid_export_then_resume_delivers_nothing_twice(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = make_emulator(seed=5, events=10_000, flows_per_event=0.0)
    env = {**os.environ, **emu.env(), "GTA_ELASTICSEARCH_API_KEY": API_KEY}
    state = tmp_path / "state.db"
    with run_standin() as es:
        url = es.url + "?index=gta-events"
        cmd = [sys.executable, "-c", "from gta.cli import main; main()", "export", "events",
               "--to", url, "--state", str(state), "--page-size", "200"]  # fmt: skip
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if len(es.state.order) >= 1000:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the export finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        delivered_at_kill = len(es.state.record_ids())
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        ids = es.state.record_ids()
        assert len(ids) == len(set(ids)) >= 10_000  # every record once: nothing twice
        assert 1000 <= delivered_at_kill < len(ids)
        if es.state.conflicts:  # the batch in flight at the kill was sent again and refused
            assert "already delivered" in final.stderr
        print(f"\nkilled after {delivered_at_kill} records; replayed as conflicts: "
              f"{es.state.conflicts}")  # fmt: skip


def test_sinks_check_against_the_standin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_ES_KEY", API_KEY)
    with run_standin() as es:
        url = es.url + "?index=gta-events"
        assert _gta("sinks", "check", url, "--token", "env:MY_ES_KEY") == 0
        out = capsys.readouterr().out
        assert "ok   credentials" in out and "8.15.0" in out and "does not exist yet" in out
        monkeypatch.setenv("GTA_ELASTICSEARCH_API_KEY", "wrong")
        assert _gta("sinks", "check", url) == 1
        out = capsys.readouterr().out
        assert "FAIL credentials" in out and "wrong" not in out
        assert es.state.docs == {}
