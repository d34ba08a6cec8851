"""The engine runs a stream under a lease the caller holds (a worker's claim) instead of taking
one for the run: its commits are fenced by that claim, and a lease of another stream is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import gta
from gta.emulator import RunningEmulator
from gta.sync import CheckpointStore, Job, run_job


def _client(emu: RunningEmulator) -> gta.Client:
    return gta.Client(
        emu.client_id, emu.client_password, securex_host=emu.url, api_url=emu.url,
        app_url=emu.url, customer_id=emu.customer_id,
    )  # fmt: skip


def test_a_pass_commits_under_the_claim_it_is_given(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    store = CheckpointStore(tmp_path / "state.db")
    job = Job("siem", ["events"], "annotation", str(tmp_path / "out.jsonl"), page_size=500)
    with _client(emulator) as client, store.lease("siem", emulator.customer_id, "events") as claim:
        results = run_job(client, job, store, leases={"events": claim})
        assert results[0].records > 0
        rows = [i for i in store.leases() if i.stream == "events"]
        # Still the claim's row: the pass took no lease of its own (which would have been
        # refused, the claim being alive) and its commits kept the claim's fencing number.
        assert [(r.owner, r.fence) for r in rows] == [(claim.owner, claim.fence)]
        saved = store.get("siem", emulator.customer_id, "events")
        assert saved is not None and saved.cursor == results[0].cursor
    store.close()


def test_a_lease_of_another_stream_is_refused(emulator: RunningEmulator, tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state.db")
    job = Job("siem", ["events"], "annotation", str(tmp_path / "out.jsonl"))
    with (
        _client(emulator) as client,
        store.lease("siem", emulator.customer_id, "flows") as other,
        pytest.raises(ValueError, match="not stream 'events'"),
    ):
        run_job(client, job, store, leases={"events": other})
    assert store.get("siem", emulator.customer_id, "events") is None
    store.close()
