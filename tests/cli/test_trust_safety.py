"""Issue #13, "Safety": server text is shown as text, the demo deletes only its own files,
destructive commands ask (or need --yes), secrets are not expected on the command line, and the
emulator's admin API is guarded."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from tests.cli.helpers import Gta, config_file, sdk

from gta._text import for_terminal, visible
from gta.cli._render import alert_table, alert_view, write_rows
from gta.emulator import EmulatorSettings, RunningEmulator, run_in_thread
from gta.sync import CheckpointStore

# A note as anyone who can reach the API may write it: Rich markup, an OSC 8 hyperlink, a
# screen clear, a C1 CSI, DEL and a right-to-left override.
HOSTILE = (
    "see [/] ticket [bold]42 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ "
    "\x1b[2J\x9b31m\x7f\u202eok"
)
CONTROLS = ("\x1b", "\x9b", "\x7f", "\u202e")


def _alert(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "ab" * 32,
        "risk": "High",
        "status": {"value": "Open", "closingReasons": None},
        "triggeredAt": "2026-01-31T12:34:56.789Z",
        "modifiedAt": "2026-01-31T12:34:56.789Z",
        "note": HOSTILE,
    }
    return {**base, **fields}


def _rendered(renderable: Any, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_visible_escapes_every_control_and_keeps_text() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("\x9b\x7f\x00\u202e") == "\\x9b\\x7f\\x00\\u202e"
    assert visible("line\nnext\ttab") == "line\\x0anext\\x09tab"
    assert visible("line\nnext\ttab", multiline=True) == "line\nnext\ttab"
    assert visible("[/] café C:\\path ✓") == "[/] café C:\\path ✓"


def test_table_and_detail_view_show_markup_and_controls_as_text() -> None:
    """Before: `[/]` raised rich.errors.MarkupError and ESC reached the terminal."""
    hostile_alert = _alert(risk="[red]High", triggeredAt="[/]2026", etaFlag="\x1b[5m")
    table = _rendered(alert_table([{**hostile_alert, "status": "Open"}], title="[/] \x1b"))
    assert "see [/] ticket [bold]42" in table
    view = _rendered(
        alert_view(
            hostile_alert,
            [{"threatIntelRecordId": "r1", "affectedAssetId": "a1", "confidence": "[/]"}],
            {"r1": {"title": "[/]t\x1b]8;;x\x1b\\", "category": "[b]c", "severity": "\x9bs"}},
            {"a1": {"assumedOwner": "[/]o\x1b[1m"}},
            [{"title": "[/]e", "subtitle": "\x1b[2J", "detectedAt": "x", "affectedAssetId": "a1"}],
        )
    )
    for text in (table, view):
        assert not any(control in text for control in CONTROLS)
    assert "see [/] ticket [bold]42 \\x1b]8;;https://evil.example" in view
    assert "[red]High" in view and "[/]t\\x1b]8;;x" in view and "[/]o\\x1b[1m" in view


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_machine_formats_are_exact_in_a_file_and_safe_on_a_terminal(fmt: str) -> None:
    rows = [{"id": "x", "note": HOSTILE}]
    to_file, to_terminal = io.StringIO(), _Tty()
    write_rows(to_file, iter(rows), fmt)
    write_rows(to_terminal, iter(rows), fmt)
    if fmt == "csv":
        assert next(iter(csv.DictReader(io.StringIO(to_file.getvalue()))))["note"] == HOSTILE
    else:
        assert "\x9b" in to_file.getvalue() and "\u202e" in to_file.getvalue()  # exact data
    assert not any(control in to_terminal.getvalue() for control in CONTROLS)
    assert "ticket" in to_terminal.getvalue()
    assert for_terminal({"k": ["\x1b"]}, _Tty()) == {"k": ["\\x1b"]}


def test_a_hostile_note_neither_breaks_nor_drives_the_terminal(
    gta: Gta, fresh_emu: RunningEmulator
) -> None:
    with sdk(fresh_emu) as client:
        alert = next(iter(client.alerts.list(size=1).raw()))
        client.alerts.set_status(alert["id"], "Open")
        client.alerts.set_note(alert["id"], HOSTILE)
    listed = gta("alerts", "list", "--limit", "0", env=fresh_emu.env())
    assert listed.code == 0, listed.both
    assert "MarkupError" not in listed.both and "see [/] ticket" in listed.out
    shown = gta("alerts", "show", alert["id"], "--events", "0", env=fresh_emu.env())
    assert shown.code == 0, shown.both
    assert "\\x1b]8;;https://evil.example" in shown.out
    noted = gta("alerts", "note", alert["id"], HOSTILE, env=fresh_emu.env())
    assert noted.code == 0, noted.both
    for run in (listed, shown, noted):
        assert not any(control in run.both for control in CONTROLS)


def test_an_error_line_quoting_input_cannot_drive_the_terminal(
    gta: Gta, fresh_emu: RunningEmulator
) -> None:
    run = gta("alerts", "show", "zz\x1b[2J\x9b", env=fresh_emu.env())
    assert run.code == 1 and "\\x1b[2J\\x9b" in run.err
    assert not any(control in run.err for control in CONTROLS)


# --- 2. gta demo --dir --------------------------------------------------------------------


def test_demo_refuses_a_folder_it_did_not_make(gta: Gta, tmp_path: Path) -> None:
    """Before: a real state.db and events.jsonl were replaced without a word, exit 0."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "state.db").write_text("my notes, not a database")
    (folder / "events.jsonl").write_text('{"real": 1}\n')
    run = gta("demo", "--dir", str(folder), "--events", "100", "--quiet")
    assert run.code == 2, run.both
    assert run.err.count("\n") == 1 and "did not make" in run.err
    assert (folder / "state.db").read_text() == "my notes, not a database"
    assert (folder / "events.jsonl").read_text() == '{"real": 1}\n'


def test_demo_marks_its_folder_and_starts_it_over(gta: Gta, tmp_path: Path) -> None:
    folder = tmp_path / "new" / "demo"
    first = gta("demo", "--dir", str(folder), "--events", "100", "--quiet")
    assert first.code == 0, first.both
    assert (folder / ".gta-demo").exists() and (folder / "events.jsonl").stat().st_size > 0
    (folder / "events.jsonl").write_text("stale\n")
    again = gta("demo", "--dir", str(folder), "--events", "100", "--quiet")
    assert again.code == 0, again.both
    assert "stale" not in (folder / "events.jsonl").read_text()


def test_demo_in_a_folder_it_cannot_write_is_one_line(gta: Gta, tmp_path: Path) -> None:
    """Before: a raw `[Errno 30]` (read-only) or `[Errno 20]` line."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (blocker / "demo", Path("/sys/gta-demo-test")):
        run = gta("demo", "--dir", str(target), "--events", "100", "--quiet")
        assert run.code == 2, run.both
        assert (
            run.err.startswith(f"error: --dir {target}: cannot write") and "[Errno" not in run.err
        )
        assert run.err.count("\n") == 1


# --- 3. destructive commands ----------------------------------------------------------------


def _store_with_two(path: Path) -> None:
    with CheckpointStore(path) as store:
        for stream in ("events", "flows"):
            with store.lease("j", "CTA000000001", stream) as lease:
                lease.commit("42", added=1)


def test_state_reset_and_set_refuse_without_a_terminal_unless_yes(gta: Gta, tmp_path: Path) -> None:
    """Before: `gta state reset` deleted every checkpoint without asking."""
    state = tmp_path / "state.db"
    _store_with_two(state)
    refused = gta("state", "reset", "--state", str(state))
    assert refused.code == 2 and "refusing without --yes" in refused.err
    setting = gta("state", "set", "--state", str(state), "--stream", "events", "--cursor", "7")
    assert setting.code == 2 and "refusing without --yes" in setting.err
    with CheckpointStore(state) as store:
        assert [(cp.stream, cp.cursor) for cp in store.list()] == [
            ("events", "42"),
            ("flows", "42"),
        ]
    done = gta("state", "reset", "--state", str(state), "--yes")
    assert done.code == 0 and "removed 2 checkpoints" in done.out


def test_state_reset_asks_a_person_at_a_terminal(
    gta: Gta, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.db"
    _store_with_two(state)
    monkeypatch.setattr("gta.cli._confirm._interactive", lambda: True)
    declined = gta("state", "reset", "--state", str(state), input="n\n")
    assert declined.code == 1 and "not confirmed" in declined.err
    assert "Delete 2 checkpoints" in declined.err  # the question names what would go
    accepted = gta("state", "reset", "--state", str(state), "--stream", "flows", input="y\n")
    assert accepted.code == 0 and "removed 1 checkpoint" in accepted.out
    with CheckpointStore(state) as store:
        assert [cp.stream for cp in store.list()] == ["events"]


# --- 4. secrets on the command line ---------------------------------------------------------


def test_configure_warns_about_a_password_flag_and_reads_one_from_stdin(gta: Gta) -> None:
    base = ("configure", "--no-input", "--no-check", "--client-id", "c", "--securex-host", "EU")
    flagged = gta(*base, "--client-password", "hunter2-secret")
    assert flagged.code == 0, flagged.both
    assert "warning: --client-password on the command line is visible" in flagged.err
    assert "hunter2-secret" not in flagged.both
    piped = gta(*base, "--client-password-stdin", input="from-stdin-secret\n")
    assert piped.code == 0, piped.both
    assert "warning" not in piped.err
    assert 'client_password = "from-stdin-secret"' in config_file().read_text()
    both = gta(*base, "--client-password", "x", "--client-password-stdin", input="y\n")
    assert both.code == 2


def test_sinks_check_warns_about_a_token_flag_and_reads_one_from_stdin(gta: Gta) -> None:
    url = "splunk-hec+http://127.0.0.1:9"
    flagged = gta("sinks", "check", url, "--token", "0123-secret-token")
    assert "warning: --token on the command line is visible" in flagged.err
    assert "0123-secret-token" not in flagged.both
    piped = gta("sinks", "check", url, "--token-stdin", input="0123-secret-token\n")
    assert "warning" not in piped.err and "0123-secret-token" not in piped.both
    assert piped.code == 1  # nothing listens on port 9: the check ran, with the piped token
    by_name = gta("sinks", "check", url, "--token", "env:NOPE_NOT_SET")
    assert by_name.code == 2 and "warning" not in by_name.err


# --- 5. the emulator's admin API ------------------------------------------------------------

TOKEN = "admin-token-0123456789"


def test_admin_api_requires_its_token_on_every_route() -> None:
    """Before: anyone who reached the port could move the clock or switch faults on."""
    with run_in_thread(EmulatorSettings(seed=3, events=100, admin_token=TOKEN)) as emu:
        with httpx.Client(base_url=emu.url, timeout=10) as http:
            paths = http.get("/openapi.json").json()["paths"]
            admin = [
                (method.upper(), path)
                for path, operations in paths.items()
                if path.startswith("/_emulator")
                for method in operations
            ]
            assert {("POST", "/_emulator/clock"), ("PUT", "/_emulator/faults")} <= set(admin)
            for method, path in admin:  # every admin route, whoever added it
                for headers in ({}, {"Authorization": "Bearer wrong-token"}):
                    answer = http.request(method, path, json={}, headers=headers)
                    assert answer.status_code == 401, (method, path, answer.text)
                    assert answer.headers["www-authenticate"].startswith("Bearer")
            good = http.get("/_emulator/stats", headers={"Authorization": f"Bearer {TOKEN}"})
            assert good.status_code == 200
        with sdk(emu) as client:  # the API itself is unchanged
            assert next(iter(client.alerts.list(size=1).raw()))["id"]


def test_admin_api_beyond_loopback_needs_a_token(gta: Gta) -> None:
    refused = EmulatorSettings(seed=3, events=100)
    with (
        pytest.raises(ValueError, match="without an admin token"),
        run_in_thread(refused, host="0.0.0.0"),
    ):
        pass
    run = gta("emulator", "serve", "--host", "0.0.0.0", "--port", "0", "--events", "10")
    assert run.code == 2 and "without an admin token" in run.err
    assert run.err.count("\n") == 1
    short = gta(
        "emulator", "serve", "--port", "0", "--events", "10", env={"GTA_EMULATOR_ADMIN_TOKEN": "x"}
    )
    assert short.code == 2 and "--admin-token" in short.err and "16 to 512 characters" in short.err
    with run_in_thread(
        EmulatorSettings(seed=3, events=100, admin_token=TOKEN), host="0.0.0.0"
    ) as emu:
        port = emu.url.rsplit(":", 1)[1]
        answer = httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=10)
        assert answer.status_code == 401


def test_log_lines_cannot_drive_the_terminal_or_forge_a_line() -> None:
    import logging

    from gta._text import VisibleFormatter

    record = logging.LogRecord(
        "gta", logging.WARNING, __file__, 1, "poll failed: %s", ("a\x1b[2J\nERROR fake",), None
    )
    line = VisibleFormatter("%(levelname)s %(message)s").format(record)
    assert line == "WARNING poll failed: a\\x1b[2J\\x0aERROR fake"
