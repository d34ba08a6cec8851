"""The sync commands as a user meets them: one-line errors, exit codes, state commands."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.sync import CheckpointStore


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["export", "events"], 2, "give exactly one of --output"),
        (
            ["export", "things", "--output", "-"],
            2,
            "unknown stream 'things'; choose one of: events",
        ),
        (["export", "events", "--output", "-", "--schema", "xml"], 2, "unknown schema 'xml'"),
        (["export", "events", "--output", "-"], 2, "SECUREX_CLIENT_ID"),
        (["sync", "--config", "/nonexistent/gta.toml"], 2, "no such file"),
        (["sync", "--config", "x.toml", "--once", "--every", "5m"], 2, "not both"),
        (
            ["state", "set", "--stream", "alerts", "--cursor", "yesterday"],
            2,
            "not an RFC 3339 time",
        ),
        (["state", "set", "--stream", "events", "--cursor", "5"], 2, "give --job and --customer"),
    ],
)
def test_user_errors_are_one_line(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = run(argv, capsys)
    assert got == code
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and out == ""


def test_unwritable_output_fails_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECUREX_CLIENT_ID", "x")
    monkeypatch.setenv("SECUREX_CLIENT_PASSWORD", "pw-secret")
    monkeypatch.setenv("SECUREX_VISIBILITY_HOST_NAME", "http://127.0.0.1:9")
    monkeypatch.setenv("GTA_CUSTOMER_ID", "CTA000000001")
    code, _, err = run(["export", "events", "--output", str(tmp_path / "no" / "x.jsonl")], capsys)
    assert code == 2 and "does not exist" in err and "pw-secret" not in err


def test_corrupt_state_file_is_one_line_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.db"
    state.write_bytes(b"garbage" * 100)
    code, _, err = run(["state", "show", "--state", str(state)], capsys)
    assert code == 1 and "not a gta state file" in err and err.count("\n") == 1
    assert state.read_bytes() == b"garbage" * 100


def test_state_show_set_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.db"
    with (
        CheckpointStore(state) as store,
        store.lease("export:annotation:-", "CTA000000001", "events") as lease,
    ):
        lease.commit("4242", added=3, format="annotation", sink="-")
    code, out, _ = run(["state", "show", "--state", str(state)], capsys)
    assert code == 0 and "4242" in out and "events" in out
    code, out, _ = run(
        ["state", "set", "--state", str(state), "--stream", "events", "--cursor", "99", "--yes"],
        capsys,
    )
    assert code == 0 and "cursor set" in out
    assert (
        CheckpointStore(state).get("export:annotation:-", "CTA000000001", "events").cursor == "99"
    )  # type: ignore[union-attr]
    argv = ["state", "set", "--state", str(state), "--stream", "alerts"]
    argv += ["--cursor", "2026-01-01T00:00:00Z", "--job", "j", "--customer", "CTA000000001", "-y"]
    assert run(argv, capsys)[0] == 0
    code, out, _ = run(["state", "show", "--state", str(state)], capsys)
    assert "since 2026-01-01T00:00:00.000Z" in out
    code, out, _ = run(
        ["state", "reset", "--state", str(state), "--stream", "events", "--yes"], capsys
    )
    assert code == 0 and "removed 1" in out
    assert [cp.stream for cp in CheckpointStore(state).list()] == ["alerts"]


def test_export_to_stdout_and_a_concurrent_run_is_refused(
    emulator: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    threshold = gc.get_threshold()
    state = tmp_path / "state.db"
    store = CheckpointStore(state)
    with store.lease("export:nested:-", emulator.customer_id, "alerts"):
        code, out, err = run(
            ["export", "alerts", "--output", "-", "--schema", "nested", "--state", str(state)],
            capsys,
        )
    assert code == 1 and "is being synced by pid" in err and out == ""
    code, out, err = run(
        ["export", "alerts", "--output", "-", "--schema", "nested", "--state", str(state)], capsys
    )
    assert (
        code == 0
        and out.count("\n") > 10
        and all(line.startswith("{") for line in out.splitlines())
    )
    assert "alerts: " in err  # progress and summary go to stderr, never into the data
    # The collector settings of a sync last only as long as it: this process keeps its own.
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == 0


def test_sync_once_from_a_config_file(
    emulator: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_PW", emulator.client_password)
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
[jobs.alerts-file]
tenant = "emu"
streams = ["alerts", "threat-detections"]
format = "nested"
sink = "jsonl:{tmp_path / "out.jsonl"}"
"""
    )
    code, _, err = run(["sync", "--config", str(config), "--once", "--quiet"], capsys)
    assert code == 0, err
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert lines and emulator.client_password not in (tmp_path / "state.db").read_bytes().decode(
        "latin-1"
    )
    stored = {cp.stream: cp.job for cp in CheckpointStore(tmp_path / "state.db").list()}
    assert stored == {"alerts": "alerts-file", "threat-detections": "alerts-file"}
    code, _, _ = run(["sync", "--config", str(config), "--once", "--quiet"], capsys)
    assert code == 0 and (tmp_path / "out.jsonl").read_text().splitlines() == lines  # nothing new


def test_show_and_reset_do_not_create_a_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "none" / "state.db"
    code, out, _ = run(["state", "show", "--state", str(state)], capsys)
    assert code == 0 and "no state file" in out
    code, out, _ = run(["state", "reset", "--state", str(state)], capsys)
    assert code == 0 and "removed 0" in out
    assert not state.parent.exists()


@pytest.mark.parametrize(
    ("stream", "cursor", "message"),
    [
        ("events", "abc", "must be a modification sequence number"),
        ("events", "-5", "must be a modification sequence number"),
        ("flows", "1.5", "must be a modification sequence number"),
        ("threat-detections", "١٢", "must be a modification sequence number"),  # not ASCII
        ("alerts", '{"since": "abc"}', "alerts cursor is malformed"),
        ("alerts", '{"since": null, "boundary": [["a", "soon"]]}', "alerts cursor is malformed"),
        ("events", "  ", "--cursor is empty"),
    ],
)
def test_state_set_refuses_a_malformed_cursor_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stream: str, cursor: str, message: str
) -> None:
    state = tmp_path / "state.db"
    with CheckpointStore(state) as store, store.lease("j", "CTA000000001", stream) as lease:
        lease.commit("42" if stream != "alerts" else None, added=1)
    before = [(cp.stream, cp.cursor) for cp in CheckpointStore(state).list()]
    argv = ["state", "set", "--state", str(state), "--stream", stream, "--cursor", cursor]
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and err.count("\n") == 1
    assert [(cp.stream, cp.cursor) for cp in CheckpointStore(state).list()] == before


def test_state_set_without_a_checkpoint_names_only_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.db"
    base = ["state", "set", "--state", str(state), "--stream", "events", "--cursor", "7"]
    monkeypatch.setenv("GTA_CUSTOMER_ID", "CTA000000001")
    code, _, err = run(base, capsys)
    assert code == 2 and err.strip().endswith("give --job") and "--customer" not in err
    monkeypatch.delenv("GTA_CUSTOMER_ID")
    code, _, err = run([*base, "--job", "j"], capsys)
    assert code == 2 and "give --customer (or set GTA_CUSTOMER_ID)" in err and "--job" not in err
    code, _, err = run([*base, "--job", "j", "--customer", "CTA000000001", "--yes"], capsys)
    assert code == 0
    assert CheckpointStore(state).get("j", "CTA000000001", "events").cursor == "7"  # type: ignore[union-attr]


def test_export_takes_its_settings_from_a_profile_with_env_overriding_fields(
    make_emulator: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from gta.cli._profile import Settings, config_path, save_profile

    emu: RunningEmulator = make_emulator(seed=4, events=200)  # type: ignore[operator]
    env = emu.env()
    save_profile(
        config_path(),
        "lab",
        Settings(
            client_id=env["SECUREX_CLIENT_ID"],
            client_password="wrong-password-in-the-file",
            securex_host=env["SECUREX_VISIBILITY_HOST_NAME"],
            api_url=env["GTA_API_URL"],
            app_url=env["GTA_APP_URL"],
            customer_id=env["GTA_CUSTOMER_ID"],
        ),
    )
    out = tmp_path / "flows.jsonl"
    argv = ["export", "flows", "--output", str(out), "--state", str(tmp_path / "s.db"), "-q"]
    monkeypatch.setenv("SECUREX_CLIENT_PASSWORD", env["SECUREX_CLIENT_PASSWORD"])  # wins
    code, _, err = run([*argv, "--profile", "lab"], capsys)
    assert code == 0, err
    assert out.stat().st_size > 0
    monkeypatch.setenv("GTA_PROFILE", "nosuch")
    code, _, err = run(argv, capsys)
    assert code == 2 and "profile 'nosuch' not found" in err and err.count("\n") == 1
    monkeypatch.delenv("GTA_PROFILE")
    monkeypatch.delenv("SECUREX_CLIENT_PASSWORD")
    save_profile(config_path(), "partial", Settings(client_id="x"))
    code, _, err = run([*argv, "--profile", "partial"], capsys)
    assert code == 2 and "missing client password (SECUREX_CLIENT_PASSWORD)" in err
