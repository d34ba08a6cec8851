"""The SQLite checkpoint store: atomic cursors, leases, refusal of foreign or corrupt files."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from gta.sync import CheckpointStore, LeaseHeldError, StateError, default_state_path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_commit_and_read_back(tmp_path: Path) -> None:
    with CheckpointStore(tmp_path / "s.db") as store:
        with store.lease("job", "CTA1", "events") as lease:
            lease.commit("100", added=5, format="annotation", sink="jsonl:/x")
            lease.commit("200", added=7)
        cp = store.get("job", "CTA1", "events")
    assert cp is not None and cp.cursor == "200" and cp.records == 12
    assert cp.format == "annotation" and cp.sink == "jsonl:/x"
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_lease_on_same_stream_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.db")
    other = CheckpointStore(tmp_path / "s.db")
    with store.lease("job", "CTA1", "events"):
        with (
            pytest.raises(LeaseHeldError, match=r"being synced by pid \d+"),
            other.lease("job", "CTA1", "events"),
        ):
            pass
        with other.lease("job", "CTA1", "alerts"):  # another stream is free
            pass
    with other.lease("job", "CTA1", "events"):  # released
        pass


def _hold_and_die(path: str) -> None:
    store = CheckpointStore(path)
    with store.lease("job", "CTA1", "events") as lease:
        lease.commit("1")
        os._exit(9)  # no release, like SIGKILL


def test_lease_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    CheckpointStore(path).close()
    proc = multiprocessing.get_context("fork").Process(target=_hold_and_die, args=(path,))
    proc.start()
    proc.join()
    store = CheckpointStore(path)
    with store.lease("job", "CTA1", "events") as lease:
        lease.commit("2")
    assert store.get("job", "CTA1", "events").cursor == "2"  # type: ignore[union-attr]


def test_reset_and_set_are_refused_while_leased(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.db")
    with store.lease("job", "CTA1", "events") as lease:
        lease.commit("5")
        with pytest.raises(LeaseHeldError):
            CheckpointStore(tmp_path / "s.db").reset(stream="events")
    store.set_cursor("job", "CTA1", "events", "3")
    assert store.get("job", "CTA1", "events").cursor == "3"  # type: ignore[union-attr]
    assert store.reset(stream="events") == 1
    assert store.list() == []


def test_commit_after_reset_under_a_live_run_is_refused(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.db")
    with store.lease("job", "CTA1", "events") as lease:
        with sqlite3.connect(tmp_path / "s.db") as conn:  # what a forced takeover would do
            conn.execute("DELETE FROM leases")
        with pytest.raises(LeaseHeldError, match="lost the lease"):
            lease.commit("9")
    assert store.get("job", "CTA1", "events") is None


@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n" * 10, b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text", "corrupt"],
)
def test_corrupt_file_is_refused_and_left_unchanged(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "s.db"
    path.write_bytes(content)
    before = digest(path)
    with pytest.raises(StateError) as info:
        CheckpointStore(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert digest(path) == before
    assert sorted(p.name for p in folder.iterdir()) == ["s.db"]


def test_foreign_sqlite_file_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    before = digest(path)
    with pytest.raises(StateError, match="not a gta state file"):
        CheckpointStore(path)
    assert digest(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_default_path_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTA_STATE_DIR", str(tmp_path / "explicit"))
    assert default_state_path() == tmp_path / "explicit" / "state.db"
    monkeypatch.delenv("GTA_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "gta" / "state.db"
    store = CheckpointStore()
    assert store.path.exists()


def test_sink_secrets_are_redacted(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.db")
    with store.lease("job", "CTA1", "events") as lease:
        lease.commit("1", sink="splunk-hec+https://user:hunter2@splunk:8088/?token=hunter2")
    assert b"hunter2" not in (tmp_path / "s.db").read_bytes() + _wal(tmp_path / "s.db")


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""
