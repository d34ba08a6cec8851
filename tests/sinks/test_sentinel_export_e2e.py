"""``gta export --to sentinel+https://...`` end to end: emulator -> sync engine -> Sentinel sink
-> the strict HTTPS stand-in (token endpoint + Logs Ingestion API), with the shipped DCR's
stream declarations. Every record arrives once, faults lose nothing, a SIGKILL and a resume
deliver only the page in flight twice, and ``gta sinks check`` probes without ingesting."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sentinel_standin import CLIENT_SECRET, StandinState, run_standin
from tests.sync.sync_raw_api import RawApi

from gta.cli import main
from gta.emulator import RunningEmulator


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_export_of_ten_thousand_events_arrives_whole_despite_503s_and_429s(
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = make_emulator(events=10_000)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GTA_SENTINEL_CLIENT_SECRET", CLIENT_SECRET)
    state = StandinState(fail_next=[503, 503, 503, 429, 429, 429], retry_after="0")
    with run_standin(state, tmp=tmp_path) as s:
        url = s.url(backoff_base="0.01")
        code, _, err = _cli(capsys, "export", "all", "--to", url, "-q")
        assert code == 0, err
        ids = s.state.record_ids()
        per_stream = {name: len(rows) for name, rows in s.state.rows.items()}
        assert len(ids) == len(set(ids))  # every recordId once, the six faults notwithstanding
        assert s.state.fail_next == []  # the faults were all met
        # Whole: the event rows are exactly those an independent traversal of the API expects.
        raw = RawApi(emu)
        expected = raw.expected_rows()
        raw.close()
        events = s.state.rows["Custom-GtaEvents"]
        keys = Counter((r["eventId"], r.get("threatDetectionId"), r.get("alertId")) for r in events)
        assert set(keys) == set(expected) and len(events) == sum(expected.values()) >= 10_000
        assert set(per_stream) == {
            "Custom-GtaEvents", "Custom-GtaAlerts", "Custom-GtaThreatDetections",
            "Custom-GtaFlows"}  # fmt: skip
        assert s.state.undeclared == set()  # every column the rows carry is declared
        assert s.state.gzip_uploads == s.state.uploads
        assert CLIENT_SECRET not in err
        # From the checkpoint: nothing new, nothing sent again.
        code, _, err = _cli(capsys, "export", "all", "--to", url, "-q")
        assert code == 0, err
        assert s.state.record_ids() == ids


def test_a_refused_record_is_reported_and_the_export_says_so(
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = make_emulator(events=300)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GTA_SENTINEL_CLIENT_SECRET", CLIENT_SECRET)
    # Find a real record id first (a dry run to another stand-in), then refuse it.
    with run_standin(tmp=tmp_path / "a") as s:
        assert _cli(capsys, "export", "events", "--to", s.url(), "-q")[0] == 0
        every = s.state.record_ids()
    bad = every[len(every) // 2]
    with run_standin(StandinState(reject_record_ids={bad}), tmp=tmp_path / "b") as s:
        code, _, err = _cli(capsys, "export", "events", "--to", s.url(), "-q")
        got = s.state.record_ids()
    assert code == 1 and "1 record(s) rejected" in err
    assert f"sentinel rejected record {bad}" in caplog.text
    assert Counter(got) == Counter(i for i in every if i != bad)


def _committed(state: Path) -> int:
    if not state.exists():
        return 0
    with sqlite3.connect(state) as conn:
        row = conn.execute("SELECT records FROM checkpoints WHERE stream='events'").fetchone()
    return int(row[0]) if row else 0


def _settled(standin: Any, quiet_s: float = 0.5, limit_s: float = 10.0) -> None:
    """Wait until the stand-in has received nothing new for ``quiet_s`` (at most ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    seen, since = len(standin.state.record_ids()), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.05)
        now = len(standin.state.record_ids())
        if now != seen:
            seen, since = now, time.monotonic()


def test_sigkill_mid_export_then_resume_sends_only_the_page_in_flight_twice(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = make_emulator(seed=5, events=6000, flows_per_event=0.0)
    page = 200
    state_db = tmp_path / "state.db"
    with run_standin(tmp=tmp_path / "standin") as s:
        env = {**os.environ, **emu.env(), "GTA_SENTINEL_CLIENT_SECRET": CLIENT_SECRET}
        # Small batches: several uploads per page, so a kill can land between a page's uploads.
        url = s.url(batch_records="50")
        cmd = [sys.executable, "-c", "from gta.cli import main; main()", "export", "events",
               "--to", url, "--state", str(state_db), "-q", "--page-size", str(page),
               "--readers", "1"]  # one cursor: one page in flight  # fmt: skip
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if len(s.state.record_ids()) >= 1500:  # well into the export, not at its end
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the export finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
        _settled(s)  # an upload sent just before the kill may still be landing
        in_flight = len(s.state.record_ids()) - _committed(state_db)
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        ids = Counter(s.state.record_ids())
        keys = {(r["eventId"], r.get("threatDetectionId"), r.get("alertId"))
                for r in s.state.rows["Custom-GtaEvents"]}  # fmt: skip
    raw = RawApi(emu)
    expected = raw.expected_rows()
    raw.close()
    assert keys == set(expected) and len(ids) == sum(expected.values())  # every record arrived
    duplicates = sum(ids.values()) - len(ids)
    print(f"in flight at the kill: {in_flight}; rows {sum(ids.values())}, distinct {len(ids)}")
    assert 0 <= in_flight <= page * 3  # a page of events fans out to at most a few rows each
    assert duplicates == in_flight  # only what was sent after the last commit came twice
    assert len(ids) == _committed(state_db)  # everything, and the final run committed it all


def test_sinks_check_probes_without_ingesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_APP_SECRET", CLIENT_SECRET)
    with run_standin(tmp=tmp_path) as s:
        url = s.url(client_secret="env:MY_APP_SECRET")
        code, out, err = _cli(capsys, "sinks", "check", url)
        assert code == 0, out + err
        assert "ok   token" in out and "ok   tls" in out and out.count("ok   stream") == 4
        assert s.state.record_ids() == [] and s.state.uploads == 4  # empty arrays only
        code, out, _ = _cli(capsys, "sinks", "check", url.replace(s.state.dcr, "dcr-" + "1" * 32))
        assert code == 1 and "FAIL stream" in out and "not found" in out
        s.state.forbidden = True
        code, out, _ = _cli(capsys, "sinks", "check", url + "&stream=Custom-GtaAlerts")
        assert code == 1 and "Monitoring Metrics Publisher" in out
    monkeypatch.setenv("MY_APP_SECRET", "a-wrong-secret")
    with run_standin(tmp=tmp_path / "b") as s:
        code, out, err = _cli(capsys, "sinks", "check", s.url(client_secret="env:MY_APP_SECRET"))
    assert code == 1 and "FAIL token" in out and "AADSTS7000215" in out
    assert "a-wrong-secret" not in out + err


def test_sinks_check_secret_in_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = "sentinel+https://dce.example?dcr=dcr-" + "0" * 32 + "&client_secret=s3cr3t-value"
    code, _, err = _cli(capsys, "sinks", "check", url)
    assert code == 2 and err.startswith("error: ") and "s3cr3t-value" not in err


def test_sync_job_from_a_config_file_with_env_secret(
    emulator: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_PW", emulator.client_password)
    monkeypatch.setenv("SENTINEL_APP_SECRET", CLIENT_SECRET)
    with run_standin(tmp=tmp_path / "standin") as s:
        host = s.base_url.removeprefix("https://")
        config = tmp_path / "gta.toml"
        config.write_text(
            f"""
state = "{tmp_path / "state.db"}"
[tenants.emu]
client_id = "{emulator.client_id}"
client_password = "env:DEMO_PW"
visibility_host = "{emulator.url}"
api_url = "{emulator.url}"
app_url = "{emulator.url}"
[jobs.sentinel]
tenant = "emu"
streams = ["alerts", "threat-detections"]
sink = "sentinel+https://{host}?dcr={s.state.dcr}"
sink_options = {{ tenant_id = "{s.state.tenant}", client_id = "{s.state.client_id}", client_secret = "env:SENTINEL_APP_SECRET", authority_host = "{s.base_url}", ca_bundle = "{s.ca_file}" }}
"""  # noqa: E501
        )
        code, _, err = _cli(capsys, "sync", "--config", str(config), "--once", "--quiet")
        assert code == 0, err
        assert set(s.state.rows) == {"Custom-GtaAlerts", "Custom-GtaThreatDetections"}
        assert s.state.undeclared == set()
    assert CLIENT_SECRET not in (tmp_path / "state.db").read_bytes().decode("latin-1")
