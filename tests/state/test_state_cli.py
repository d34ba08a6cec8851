"""The state commands on both backends: ``--state URL``, ``state = "URL"`` in the sync config,
``gta state show`` with the holder of each lease, ``gta state migrate`` both ways."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.state import open_state


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _config(tmp_path: Path, emu: RunningEmulator, state: str) -> Path:
    config = tmp_path / "gta.toml"
    config.write_text(
        f'state = "{state}"\n'
        f'[tenants.one]\nclient_id = "{emu.client_id}"\n'
        f'client_password = "{emu.client_password}"\n'
        f'visibility_host = "{emu.url}"\napi_url = "{emu.url}"\napp_url = "{emu.url}"\n'
        f'[jobs.ev]\ntenant = "one"\nformat = "annotation"\nsink = "{tmp_path / "out.jsonl"}"\n'
        'streams = ["events", "alerts"]\n'
    )
    return config


def test_sync_keeps_its_checkpoints_in_the_state_the_config_names(
    make_emulator: Any, tmp_path: Path, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emu: RunningEmulator = make_emulator(events=120, flows_per_event=0.0)
    config = _config(tmp_path, emu, state_url)
    code, _, err = run(["sync", "-c", str(config), "--once", "-q"], capsys)
    assert code == 0, err
    delivered = (tmp_path / "out.jsonl").read_bytes().count(b"\n")
    with open_state(state_url) as store:
        saved = {cp.stream: cp for cp in store.list(job="ev")}
    assert (
        set(saved) == {"events", "alerts"} and sum(c.records for c in saved.values()) == delivered
    )
    code, _, err = run(["sync", "-c", str(config), "--once", "-q"], capsys)  # resumes: nothing new
    assert code == 0, err
    assert (tmp_path / "out.jsonl").read_bytes().count(b"\n") == delivered
    code, out, _ = run(["state", "show", "--state", state_url, "--format", "json"], capsys)
    document = orjson.loads(out)
    assert code == 0 and document["exists"] is True
    assert {c["stream"] for c in document["checkpoints"]} == {"events", "alerts"}


def test_show_names_the_holder_and_heartbeat_age_of_each_lease(
    state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_state(state_url) as store, store.lease("ev", "C1", "events") as lease:
        lease.commit("42", added=3)
        code, out, err = run(["state", "show", "--state", state_url], capsys)
    assert code == 0, err
    assert "ev\tC1\tevents" in out
    [line] = [x for x in out.splitlines() if x.startswith("# lease:")]
    assert "stream 'events' of job 'ev' (customer C1): pid " in line
    assert "heartbeat 0s ago" in line and "fencing number 1" in line


def test_show_names_the_worker_holding_a_unit(
    state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``gta sync --worker`` holds a presence lease (job ``gta-workers``, stream = its id)
    beside its units: ``state show`` names that worker on each unit it holds."""
    with (
        open_state(state_url) as store,
        store.lease("gta-workers", "max-units=0", "node-1"),
        store.lease("siem", "C1", "events"),
    ):
        code, out, err = run(["state", "show", "--state", state_url], capsys)
    assert code == 0, err
    [unit] = [x for x in out.splitlines() if "of job 'siem'" in x]
    assert "(customer C1): worker node-1, pid " in unit and "heartbeat 0s ago" in unit
    [presence] = [x for x in out.splitlines() if "of job 'gta-workers'" in x]
    assert "worker node-1," not in presence


@pytest.mark.parametrize("direction", ["to-postgresql", "to-sqlite"])
def test_migrate_copies_checkpoints_and_alerts_both_ways(
    direction: str, tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite = f"sqlite://{tmp_path / 'state.db'}"
    source, target = (sqlite, postgres_url)
    if direction == "to-sqlite":
        source, target = target, source
    with open_state(source) as store:
        with store.lease("ev", "C1", "events") as lease:
            lease.commit("100", added=7, format="ocsf", sink="https://u:pw@siem/?token=t")
        store.set_cursor("al", "C2", "alerts", '{"t":"2026-01-01T00:00:00Z"}')
        with store.transaction() as tx:
            tx.remember_alerts([("al", "C2", "a" * 64, "new", "high", 1.5)])
        before = store.list()
    code, out, err = run(["state", "migrate", source, target], capsys)
    assert code == 0, err
    assert out.startswith("copied 2 checkpoints and 1 delivered alert from ")
    assert "pw" not in out and "token=t" not in out
    with open_state(target) as store:
        assert store.list() == before  # cursors, counts, formats, sinks and times alike
        with store.transaction() as tx:
            assert tx.live_alerts("al", "C2") == [("a" * 64, "new", "high")]
    code, out, err = run(["state", "migrate", source, target], capsys)  # identical: no question
    assert code == 0, err


def test_migrate_asks_before_overwriting_and_refuses_while_a_lease_is_held(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite = f"sqlite://{tmp_path / 'state.db'}"
    with open_state(sqlite) as store:
        store.set_cursor("ev", "C1", "events", "100")
    with open_state(postgres_url) as store:
        store.set_cursor("ev", "C1", "events", "500")
    code, _, err = run(["state", "migrate", sqlite, postgres_url], capsys)
    assert code == 2 and "overwrite 1 checkpoint in postgresql://" in err
    assert "refusing without --yes" in err
    with open_state(postgres_url) as store:
        assert store.get("ev", "C1", "events").cursor == "500"  # type: ignore[union-attr]
        held = threading.Event()
        done = threading.Event()

        def hold() -> None:
            with open_state(postgres_url) as other, other.lease("ev", "C1", "events"):
                held.set()
                done.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(30)
            code, _, err = run(["state", "migrate", sqlite, postgres_url, "--yes"], capsys)
        finally:
            done.set()
            holder.join(30)
        assert code == 1 and "cannot migrate while leases are held in postgresql://" in err
        assert store.get("ev", "C1", "events").cursor == "500"  # type: ignore[union-attr]
    code, _, err = run(["state", "migrate", sqlite, postgres_url, "--yes"], capsys)
    assert code == 0, err
    with open_state(postgres_url) as store:
        assert store.get("ev", "C1", "events").cursor == "100"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["state", "show", "--state", "mysql://db/x"], 2, "unknown scheme 'mysql'"),
        (["state", "show", "--state", "sqlite://relative.db"], 2, "takes an absolute path"),
        (["state", "show", "--state", "postgresql://gta@db:port/x"], 2, "Port could not be cast"),
        (["state", "migrate", "/tmp/a.db", "sqlite:///tmp/a.db"], 2, "are the same state"),
        (["state", "migrate", "/nonexistent/s.db", "/tmp/b.db"], 1, "no state file at"),
        (
            ["state", "show", "--state", "postgresql://gta:hunter2@127.0.0.1:1/x"],
            2,
            "holds a password; put it in PGPASSWORD",
        ),
        (
            ["state", "reset", "--state", "postgresql://gta@127.0.0.1:1/x", "-y"],
            1,
            "cannot connect",
        ),
    ],
)
def test_state_urls_that_cannot_work_are_one_line(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = run(argv, capsys)
    assert got == code, err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "hunter2" not in err and "Traceback" not in err and out == ""
