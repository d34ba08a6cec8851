"""``--db`` never clobbers a file it did not make; bad flags are one-line errors, no traceback.

The emulator regenerates its database when the settings change, by replacing the file. That is
only allowed for its own files (or an empty or absent one): a gta state file, another SQLite
database or a text file passed by mistake must be refused and left byte for byte as it was.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
import uvicorn

from gta.cli import main
from gta.emulator import EmulatorDatabaseError, EmulatorSettings
from gta.emulator._schema import read_meta, write_meta
from gta.emulator._store import Store


def _gta_state_file(path: Path) -> None:
    """A file shaped like gta's checkpoint store (WAL mode, its three tables, a row)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE gta_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("CREATE TABLE checkpoints (job TEXT, stream TEXT, cursor TEXT)")
    conn.execute("CREATE TABLE leases (job TEXT, pid INTEGER)")
    conn.execute("INSERT INTO checkpoints VALUES ('export:annotation:-', 'events', '25717281')")
    conn.commit()
    conn.close()


class _Served(Exception):
    """Raised instead of serving: the command got past every check it should have failed."""


def _never_serve(*_args: object, **_kwargs: object) -> None:
    raise _Served


@pytest.fixture(autouse=True)
def _no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A regression must fail fast here, not serve until the test run is killed."""
    monkeypatch.setattr(uvicorn.Server, "run", _never_serve)


def _serve(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Run ``gta emulator serve`` expecting it to fail; return (exit code, stderr lines)."""
    with pytest.raises(SystemExit) as stopped:
        main(["emulator", "serve", "--port", "0", "--events", "10", *args])
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    code = stopped.value.code
    assert isinstance(code, int)
    return code, stderr.splitlines()


def _one_error(lines: list[str]) -> str:
    errors = [line for line in lines if line.lower().startswith("error")]
    assert len(errors) == 1, lines
    return errors[0]


@pytest.mark.parametrize("kind", ["gta-state", "text", "binary"])
def test_serve_refuses_a_file_it_did_not_make_and_leaves_it_untouched(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "victim"
    home.mkdir()
    victim = home / "victim.db"
    if kind == "gta-state":
        _gta_state_file(victim)
    elif kind == "text":
        victim.write_text("checkpoints are precious\n")
    else:
        victim.write_bytes(bytes(range(256)) * 8)
    before = victim.read_bytes()
    code, lines = _serve(["--db", str(victim)], capsys)
    assert code == 2
    assert str(victim) in _one_error(lines)
    assert victim.read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["victim.db"]  # no -wal/-shm/tmp left
    if kind == "gta-state":
        conn = sqlite3.connect(victim)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
        assert tables == {"gta_meta", "checkpoints", "leases"}


def test_store_open_raises_a_named_error_for_a_foreign_database(tmp_path: Path) -> None:
    victim = tmp_path / "state.db"
    _gta_state_file(victim)
    before = victim.read_bytes()
    with pytest.raises(EmulatorDatabaseError, match="did not create"):
        Store.open(EmulatorSettings(events=10, db_path=victim))
    assert victim.read_bytes() == before


@pytest.mark.parametrize("existing", [None, b""])
def test_an_absent_or_empty_file_becomes_an_emulator_database(
    existing: bytes | None, tmp_path: Path
) -> None:
    path = tmp_path / "emu.db"
    if existing is not None:
        path.write_bytes(existing)
    store = Store.open(EmulatorSettings(events=10, db_path=path))
    try:
        assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 10
    finally:
        store.close()


def test_an_emulator_file_is_reused_when_it_matches_and_regenerated_otherwise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "emu.db"
    store = Store.open(EmulatorSettings(seed=1, events=10, db_path=path))
    write_meta(store.conn, "marker", "kept")
    store.close()
    store = Store.open(EmulatorSettings(seed=1, events=10, db_path=path))
    try:
        assert read_meta(store.conn, "marker") == "kept"  # same settings: the file is reused
    finally:
        store.close()
    store = Store.open(EmulatorSettings(seed=2, events=20, db_path=path))
    try:
        assert read_meta(store.conn, "marker") is None  # other settings: regenerated
        assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 20
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--events", "-5"], "--events"),
        (["--customers", "0"], "--customers"),
        (["--error-rate", "2"], "--error-rate"),
        (["--rate-limit-rate", "-0.5"], "--rate-limit-rate"),
        (["--reset-rate", "nan"], "--reset-rate"),
        (["--latency-ms", "-1"], "--latency-ms"),
        (["--token-ttl", "0"], "--token-ttl"),
        (["--events", "many"], "--events"),
        (["--clock-start", "0001-01-01T00:00:00Z"], "--clock-start"),
        (["--clock-start", "9999-12-31T23:59:59Z"], "--clock-start"),
    ],
)
def test_bad_values_are_one_error_line_and_exit_2(
    args: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _serve(args, capsys)
    assert code == 2
    assert flag in _one_error(lines)


def test_a_db_that_is_not_a_database_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not sqlite\n" * 100)
    before = text.read_bytes()
    code, lines = _serve(["--db", str(text)], capsys)
    assert code == 2
    assert "not a SQLite database" in _one_error(lines)
    assert text.read_bytes() == before


@pytest.mark.parametrize("where", ["under-a-file", "a-directory"])
def test_an_unusable_db_path_is_a_usage_error(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    path = blocker / "emu.db" if where == "under-a-file" else tmp_path / "_user"
    code, lines = _serve(["--db", str(path)], capsys)
    assert code == 2
    assert _one_error(lines).startswith(f"error: --db {path}")
    assert blocker.read_text() == "x"


def test_a_port_in_use_is_one_error_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            main(["emulator", "serve", "--port", str(port), "--events", "10"])
    stderr = capsys.readouterr().err
    assert stopped.value.code == 1
    assert "Traceback" not in stderr
    assert "in use" in _one_error(stderr.splitlines())
