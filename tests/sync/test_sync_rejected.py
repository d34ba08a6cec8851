"""Records Splunk HEC refuses one by one (400 ``invalid-event-number``) are dropped by the sink;
the run must say how many, per stream, and ``gta export`` must exit 1 after committing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from tests._support.clients import emulator_client
from tests._support.hec_receiver import HecState, run_receiver

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.sinks import Record
from gta.sync import CheckpointStore, Job, run_job


def _main(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_export_reports_rejected_records_and_exits_1_after_committing(
    make_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = make_emulator(events=150)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GTA_SPLUNK_HEC_TOKEN", "good-token")
    # Record ids are deterministic: learn two from a file export of the same stream and format.
    probe = tmp_path / "probe.jsonl"
    assert _main(["export", "flows", "--schema", "nested", "-o", str(probe), "-q"]) == 0
    ids = [orjson.loads(line)["recordId"] for line in probe.read_bytes().splitlines()]
    bad = {ids[3], ids[-1]}
    state = str(tmp_path / "hec.db")
    with run_receiver(HecState(reject_record_ids=bad)) as rx:
        url = rx.url + "?backoff_base=0.01"
        capsys.readouterr()
        argv = ["export", "flows", "--schema", "nested", "--to", url, "--state", state]
        code = _main(argv)
        err = capsys.readouterr().err
        assert code == 1
        flat = " ".join(err.split())  # the summary may be wrapped to the terminal width
        assert "flows: done" in flat
        assert flat.count("2 rejected by the sink") == 1  # the done line; no second summary
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: 2 record(s) rejected by") and "recordId" in last
        assert "good-token" not in err
        indexed = rx.state.indexed_record_ids()
        assert sorted(indexed) == sorted(set(ids) - bad)
        assert _main([*argv, "-q"]) == 0  # committed: nothing is sent again
        assert rx.state.indexed_record_ids() == indexed
    with CheckpointStore(state) as store:
        assert sum(cp.records for cp in store.list()) == len(ids)


class _RefusingSink:
    """Drops every third record, counting it like the HEC sink does."""

    name = "refusing"

    def __init__(self) -> None:
        self.rejected = 0
        self.kept: list[Record] = []

    def write(self, records: list[Record]) -> None:
        for i, record in enumerate(records):
            if i % 3 == 0:
                self.rejected += 1
            else:
                self.kept.append(record)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_each_stream_result_counts_only_its_own_rejections(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:

    emu = make_emulator(events=100)
    sink = _RefusingSink()
    sink.rejected = 5  # from before this job: not ours to report
    job = Job(name="r", streams=["flows", "alerts"], format="nested", sink_url="x", page_size=40)
    client = emulator_client(emu)
    with client, CheckpointStore(tmp_path / "s.db") as store:
        results = run_job(client, job, store, sink=sink, stop=threading.Event())  # type: ignore[arg-type]
    assert [r.stream for r in results] == ["flows", "alerts"]
    assert all(r.rejected > 0 for r in results)
    assert sum(r.rejected for r in results) == sink.rejected - 5
    assert sum(r.records - r.rejected for r in results) == len(sink.kept)
