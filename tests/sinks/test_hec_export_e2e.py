"""``gta export --to splunk-hec+http://...`` end to end: emulator -> sync engine -> HEC sink ->
strict receiver, with 503s injected; every record arrives once, a second run sends nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from tests._support.hec_receiver import HecState, run_receiver

from gta.cli import main
from gta.emulator import RunningEmulator


def _export(*args: str) -> int:
    try:
        main(["export", "all", *args, "-q"])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_export_all_as_ocsf_to_hec(
    make_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = make_emulator(events=300)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GTA_SPLUNK_HEC_TOKEN", "good-token")
    with run_receiver(HecState(busy_next=2)) as rx:
        url = rx.url + "?index=gta&sourcetype=gta:ocsf&backoff_base=0.01"
        assert _export("--to", url, "--schema", "ocsf") == 0
        ids = rx.state.indexed_record_ids()
        streams = Counter(e["event"]["stream"] for e in rx.state.indexed)
        assert len(ids) == len(set(ids))  # no duplicate despite the two 503s
        assert streams["events"] == 300 and set(streams) == {
            "events", "alerts", "threat-detections", "flows"}  # fmt: skip
        first = rx.state.indexed[0]
        assert first["index"] == "gta" and first["time"] == first["event"]["time"] / 1000
        assert rx.state.gzip_requests == rx.state.requests
        assert _export("--to", url, "--schema", "ocsf") == 0  # from the checkpoint: nothing new
        assert rx.state.indexed_record_ids() == ids
