"""Unattended for months (issue #12): a state failure or a dead holder never wedges the sync.

Each test reproduces a case seen on the code before leases expired and commits were fenced:
a full disk under the state file (one line naming the cause; the store recovers once space is
freed, and its own failed release never blocks it), a holder killed as PID 1 in a container
(taken over after its TTL), two runs creating a new state file at once, a run whose lease was
taken over (its commit is refused), and two jobs writing one destination.
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.sinks import destination_key
from gta.state._rules import current_identity
from gta.sync import (
    CheckpointStore,
    ConfigError,
    LeaseHeldError,
    LeaseLostError,
    StateError,
    load_config,
)

GTA = str(Path(sys.executable).with_name("gta"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lease_rows(state: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(state)) as conn:
        return conn.execute(
            "SELECT stream, destination, pid, ttl, fence FROM leases WHERE owner IS NOT NULL"
        ).fetchall()


# -- a full disk under the state file (cases 1 and 5) ---------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root only): a real 'database or disk is full', not a simulated one."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; delete it to free the space."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def test_failed_commit_on_a_full_disk_is_one_line_and_the_store_recovers(
    small_disk: Path,
) -> None:
    state = small_disk / "state.db"
    store = CheckpointStore(state)
    with store.lease("ev", "CTA1", "events") as lease:
        lease.commit("1")
        filler = fill(small_disk)
        with pytest.raises(StateError) as info:
            lease.commit("9" * 300_000)  # a commit that needs new pages in the WAL
        assert str(info.value) == f"state file {state}: database or disk is full"
    # Leaving the lease (its release may fail too: the disk is still full) raised nothing more.
    assert store.get("ev", "CTA1", "events").cursor == "1"  # type: ignore[union-attr]
    filler.unlink()
    # The next pass of the same process takes its own lease again (it used to report itself as
    # "being synced by pid <own pid>" for ever) and commits.
    with store.lease("ev", "CTA1", "events") as lease:
        lease.commit("2", added=1)
    assert store.get("ev", "CTA1", "events").cursor == "2"  # type: ignore[union-attr]
    store.close()
    assert lease_rows(state) == []


def test_export_on_a_full_disk_names_the_cause_and_the_next_run_recovers(
    small_disk: Path,
    tmp_path: Path,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    state = small_disk / "state.db"
    CheckpointStore(state).close()
    out = tmp_path / "events.jsonl"
    argv = ["export", "events", "-o", str(out), "--state", str(state), "-q"]
    filler = fill(small_disk)
    code, _, err = run(argv, capsys)
    assert code == 1
    # Which call meets the full disk first decides SQLite's words; the line names it either way.
    assert err in (
        f"error: state file {state}: database or disk is full\n",
        f"error: state file {state}: disk I/O error (no space left on the disk holding it)\n",
    ), err
    filler.unlink()
    code, _, err = run(argv, capsys)
    assert code == 0, err
    with CheckpointStore(state) as store:
        (cp,) = store.list()
    assert cp.records == len(out.read_text().splitlines()) > 0


def _clean_pass(line: str) -> bool:
    """A ``gta sync -v`` pass line of a pass in which no job failed."""
    return " pass " in line and " records in " in line and "failed" not in line


def test_sync_every_reports_a_full_disk_and_recovers_at_a_later_pass(
    small_disk: Path, tmp_path: Path, emulator: RunningEmulator
) -> None:
    """Case 1 as seen: one service process, a full disk under its state, then space freed."""
    state, out, log = small_disk / "state.db", tmp_path / "ev.jsonl", tmp_path / "sync.log"
    config = tmp_path / "gta.toml"
    config.write_text(
        f'state = "{state}"\n[tenants.emu]\nclient_id = "{emulator.client_id}"\n'
        'client_password = "env:EMU_PW"\n'
        f'visibility_host = "{emulator.url}"\napi_url = "{emulator.url}"\n'
        f'app_url = "{emulator.url}"\n'
        f'[jobs.ev]\ntenant = "emu"\nstreams = ["events"]\nsink = "{out}"\n'
    )
    env = {**os.environ, "EMU_PW": emulator.client_password}
    with open(log, "wb") as err:
        service = subprocess.Popen(
            [GTA, "sync", "--config", str(config), "--every", "1s", "-v"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _committed(state):
            time.sleep(0.2)
        assert _committed(state), log.read_text()
        filler = fill(small_disk)  # the disk fills up under the running service
        while time.monotonic() < deadline and log.read_text().count("job ev: error") < 2:
            time.sleep(0.2)
        errors = [line for line in log.read_text().splitlines() if "job ev: error" in line]
        assert len(errors) >= 2, log.read_text()
        assert {line.split(": error: ", 1)[1] for line in errors} <= {
            f"state file {state}: database or disk is full",
            f"state file {state}: disk I/O error (no space left on the disk holding it)",
        }, errors
        filler.unlink()
        mark = len(log.read_text().splitlines())
        while time.monotonic() < deadline + 60 and not any(
            _clean_pass(line) for line in log.read_text().splitlines()[mark:]
        ):
            time.sleep(0.2)
        later = log.read_text().splitlines()[mark:]
        assert any(_clean_pass(line) for line in later), later  # a whole pass again
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    text = log.read_text()
    assert "Traceback" not in text and "being synced by pid" not in text, text
    assert "cannot rollback" not in text


def test_a_release_that_failed_never_blocks_the_process_that_made_it(tmp_path: Path) -> None:
    """Without root: the same wedge, with the release failing by injection."""
    store = CheckpointStore(tmp_path / "s.db")

    def failing_release(lease: Any) -> None:
        raise StateError(f"state file {store.path}: disk I/O error")

    real_release = store._release
    store._release = failing_release  # type: ignore[method-assign]
    with store.lease("ev", "CTA1", "events") as lease:
        lease.commit("1")
    assert len(lease_rows(tmp_path / "s.db")) == 1  # left behind, held by our pid
    store._release = real_release  # type: ignore[method-assign]
    other = CheckpointStore(tmp_path / "s.db")  # same process, another store: still ours
    with other.lease("ev", "CTA1", "events") as lease:
        lease.commit("2")
    assert other.get("ev", "CTA1", "events").cursor == "2"  # type: ignore[union-attr]


# -- a holder in another PID namespace (case 2) ---------------------------------------------


def test_lease_of_pid_1_in_a_killed_container_is_taken_over_after_its_ttl(
    make_emulator: Any, tmp_path: Path
) -> None:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("a new PID namespace needs root and unshare(1)")
    probe = subprocess.run(
        [unshare, "-fp", "--mount-proc", "true"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"unshare -fp is not permitted here: {probe.stderr.strip()}")
    emu = make_emulator(latency_ms=200)
    env = {**os.environ, **emu.env()}
    state, out = tmp_path / "state.db", tmp_path / "events.jsonl"
    export = [GTA, "export", "events", "-o", str(out), "--state", str(state), "-q"]
    export += ["--page-size", "20", "--lease-ttl", "2s"]
    holder = subprocess.Popen(
        [unshare, "-fp", "--mount-proc", "--kill-child", *export],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r[0] for r in _rows_or_none(state)):
            time.sleep(0.1)
        rows = lease_rows(state)
        assert {(r[2], r[3]) for r in rows} == {(1, 2.0)}, rows  # pid 1, ttl 2 s
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    killed = time.monotonic()
    # pid 1 is alive here (our own init), so only the TTL can free the lease.
    attempts = []
    while time.monotonic() - killed < 40:
        done = subprocess.run(export, env=env, capture_output=True, text=True, timeout=120)
        attempts.append(done)
        if done.returncode == 0:
            break
        assert "being synced by pid 1 on" in done.stderr or "being written by pid 1 on" in (
            done.stderr
        ), done.stderr
        time.sleep(0.5)
    assert attempts[-1].returncode == 0, attempts[-1].stderr
    assert lease_rows(state) == []


def _committed(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(state)) as conn:
            row = conn.execute("SELECT records FROM checkpoints").fetchone()
    except sqlite3.Error:
        return 0  # being created
    return int(row[0]) if row else 0


def _rows_or_none(state: Path) -> list[tuple[Any, ...]]:
    try:
        return lease_rows(state)
    except sqlite3.Error:
        return []  # not created yet


def test_state_reset_is_no_longer_refused_by_a_stale_pid_1(tmp_path: Path) -> None:
    """A lease row from another PID namespace (pid 1, fresh heartbeat, 1 s TTL)."""
    state = tmp_path / "s.db"
    store = CheckpointStore(state)
    with store.lease("ev", "CTA1", "events") as lease:
        lease.commit("5")
    me = current_identity()
    with contextlib.closing(sqlite3.connect(state)) as conn, conn:
        conn.execute(
            "UPDATE leases SET owner='container', pid=1, pidns='4026532999', heartbeat=?, ttl=1",
            (time.time(),),
        )
    assert me.pidns != "4026532999"
    with pytest.raises(LeaseHeldError, match="being synced by pid 1 on"):
        store.reset(stream="events")
    time.sleep(1.2)
    assert store.reset(stream="events") == 1


# -- concurrent creation of a new state file (case 6) ---------------------------------------


def _create_and_commit(path: str, job: str, barrier: Any, results: Any, delay: float) -> None:
    barrier.wait(timeout=60)
    time.sleep(delay)  # staggered by milliseconds: some open while another writes the schema
    try:
        store = CheckpointStore(path)
        try:
            with store.lease(job, "CTA1", "events") as lease:
                lease.commit("1")
            results.put("ok")
        except LeaseHeldError:
            results.put("held")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("same_job", [True, False], ids=["same-job", "different-jobs"])
def test_eight_runs_creating_one_new_state_file_at_once_all_succeed(
    tmp_path: Path, same_job: bool
) -> None:
    ctx = multiprocessing.get_context("fork")
    for trial in range(4):
        path = str(tmp_path / f"t{trial}" / "state.db")
        barrier, results = ctx.Barrier(8), ctx.Queue()
        procs = [
            ctx.Process(
                target=_create_and_commit,
                args=(path, "job" if same_job else f"job{i}", barrier, results, i * 0.002),
            )
            for i in range(8)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        allowed = {"ok", "held"} if same_job else {"ok"}
        assert set(outcomes) <= allowed, outcomes
        assert "ok" in outcomes
        assert not [p for p in Path(path).parent.iterdir() if p.name.endswith(".tmp")]


def test_foreign_and_empty_files_are_still_told_apart(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with contextlib.closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StateError, match="not a gta state file"):
        CheckpointStore(foreign)
    empty = tmp_path / "empty.db"
    empty.touch()
    with CheckpointStore(empty) as store, store.lease("j", "C", "events") as lease:
        lease.commit("1")


def test_a_version_1_state_file_is_migrated_and_keeps_its_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(V1_SCHEMA)
        conn.execute("INSERT INTO gta_meta VALUES ('app', 'gta-state'), ('schema', '1')")
        conn.execute(
            "INSERT INTO checkpoints VALUES ('ev', 'CTA1', 'events', '4242', 'annotation', "
            "'/x.jsonl', 7, '2026-01-01T00:00:00.000Z')"
        )
        conn.execute(
            "INSERT INTO leases VALUES ('ev', 'CTA1', 'events', 'old', 999999, 'h', ?)",
            (time.time() - 3600,),
        )
    with CheckpointStore(path) as store:
        cp = store.get("ev", "CTA1", "events")
        assert cp is not None and cp.cursor == "4242" and cp.records == 7
        with store.lease("ev", "CTA1", "events") as lease:  # the v1 lease expired long ago
            assert lease.fence == 1
            lease.commit("4243", added=1)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT value FROM gta_meta WHERE key='schema'").fetchone() == ("2",)


V1_SCHEMA = """
CREATE TABLE gta_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE checkpoints (job TEXT NOT NULL, customer_id TEXT NOT NULL, stream TEXT NOT NULL,
    cursor TEXT, format TEXT, sink TEXT, records INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL, PRIMARY KEY (job, customer_id, stream));
CREATE TABLE leases (job TEXT NOT NULL, customer_id TEXT NOT NULL, stream TEXT NOT NULL,
    owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, heartbeat REAL NOT NULL,
    PRIMARY KEY (job, customer_id, stream));
"""


# -- expiry, heartbeat and fencing ----------------------------------------------------------


def backdate(path: Path, seconds: float) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE leases SET heartbeat = heartbeat - ?", (seconds,))


def test_a_holder_whose_lease_was_taken_over_cannot_move_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    old, new = CheckpointStore(path), CheckpointStore(path)
    with old.lease("ev", "CTA1", "events") as stale:
        stale.commit("1")
        backdate(path, 120)  # the old holder hung for two minutes (default TTL 60 s)
        with new.lease("ev", "CTA1", "events") as fresh:
            assert fresh.fence == stale.fence + 1
            with pytest.raises(LeaseLostError) as info:
                stale.commit("999", added=50)
            assert "lost the lease on stream 'events' of job 'ev'" in str(info.value)
            assert "\n" not in str(info.value)
            assert old.get("ev", "CTA1", "events").cursor == "1"  # type: ignore[union-attr]
            fresh.commit("2")
        assert new.get("ev", "CTA1", "events").cursor == "2"  # type: ignore[union-attr]


def test_the_heartbeat_keeps_a_quiet_lease_alive(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    holder, other = CheckpointStore(path, lease_ttl=1.5), CheckpointStore(path)
    with holder.lease("ev", "CTA1", "events") as lease:
        deadline = time.monotonic() + 4.0  # more than two TTLs without a commit
        while time.monotonic() < deadline:
            with pytest.raises(LeaseHeldError), other.lease("ev", "CTA1", "events"):
                pass
            time.sleep(0.25)
        lease.commit("1")
        assert not lease.lost


def test_a_live_pid_does_not_keep_an_expired_lease(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = CheckpointStore(path)
    with store.lease("ev", "CTA1", "events"):
        pass
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "UPDATE leases SET owner='x', pid=?, heartbeat=?, ttl=5", (os.getppid(), time.time())
        )
    with pytest.raises(LeaseHeldError):
        store.set_cursor("ev", "CTA1", "events", "1")
    backdate(path, 10)
    store.set_cursor("ev", "CTA1", "events", "1")  # alive but silent for longer than its TTL


# -- gta state unlock / show ----------------------------------------------------------------


def test_state_unlock_releases_by_hand_and_fences_the_old_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "s.db"
    store = CheckpointStore(state)
    with store.lease("ev", "CTA1", "events") as lease:
        lease.commit("1")
        code, out, err = run(["state", "show", "--state", str(state)], capsys)
        assert code == 0 and "# lease: stream 'events' of job 'ev' (customer CTA1): pid" in out
        code, out, err = run(["state", "unlock", "--state", str(state)], capsys)
        assert code == 2 and "refusing without --yes" in err  # no terminal: nothing released
        monkeypatch.setattr("gta.cli._confirm._interactive", lambda: True)
        monkeypatch.setattr("typer.confirm", lambda *a, **k: False)
        code, out, err = run(["state", "unlock", "--state", str(state)], capsys)
        assert code == 1 and "not confirmed: nothing was changed" in err
        assert len(lease_rows(state)) == 1
        code, out, err = run(["state", "unlock", "--job", "ev", "--yes", "--state", str(state)],
                             capsys)  # fmt: skip
        assert code == 0, err
        assert out.startswith(f"released: stream 'events' of job 'ev' (customer CTA1): pid "
                              f"{os.getpid()} on ")  # fmt: skip
        assert lease_rows(state) == []
        with pytest.raises(LeaseLostError):
            lease.commit("2")
    assert store.get("ev", "CTA1", "events").cursor == "1"  # type: ignore[union-attr]


# -- one writer per destination (case 9) ----------------------------------------------------


def test_a_second_job_writing_the_same_file_is_refused(
    tmp_path: Path,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    state, out = tmp_path / "s.db", tmp_path / "siem.jsonl"
    monkeypatch.chdir(tmp_path)
    key = destination_key(str(out))
    assert key == f"file:{out.resolve()}" == destination_key("jsonl:./siem.jsonl")
    with CheckpointStore(state) as store, store.destination_lease(key, "siem"):
        code, _, err = run(["export", "events", "-o", "siem.jsonl", "--state", str(state)], capsys)
    assert code == 1
    assert err.count("\n") == 1 and f"destination file:{out.resolve()} (job 'siem')" in err, err
    assert f"is being written by pid {os.getpid()}" in err
    assert not out.exists()
    code, _, err = run(["export", "events", "-o", "-", "--state", str(state), "-q"], capsys)
    assert code == 0, err  # stdout is each run's own
    code, _, err = run(["export", "events", "-o", str(out), "--state", str(state), "-q"], capsys)
    assert code == 0, err  # released: the file is free again


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        ('sink = "out.jsonl"', 'sink = "jsonl:./out.jsonl"', True),
        ('sink = "-"', 'sink = "-"', False),
        (
            'sink = "splunk-hec+https://s:8088?index=a"\nsink_options = {token = "t1"}',
            'sink = "splunk-hec+https://S:8088/services/collector/event"\n'
            'sink_options = {token = "t2", index = "a"}',
            True,
        ),
        ('sink = "splunk-hec+https://s:8088?index=a"', 'sink = "splunk-hec+https://s?index=b"',
         False),
        ('sink = "syslog+tcp://siem:514"', 'sink = "syslog+tcp://siem"', True),
        ('sink = "syslog+tcp://siem:514"', 'sink = "syslog+udp://siem:514"', False),
    ],
)  # fmt: skip
def test_two_jobs_of_one_config_writing_one_destination_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str, second: str, clash: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "gta.toml"
    config.write_text(
        '[tenants.default]\nclient_id = "i"\nclient_password = "p"\nvisibility_host = "h"\n'
        f"[jobs.a]\n{first}\n[jobs.b]\n{second}\n"
    )
    if not clash:
        load_config(config)
        return
    with pytest.raises(ConfigError) as info:
        load_config(config)
    message = str(info.value)
    assert message.startswith("gta.toml: jobs.b.sink: jobs 'a' and 'b' both write ")
    assert "t1" not in message and "t2" not in message


def test_lease_ttl_is_checked_where_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["export", "events", "-o", "-", "--lease-ttl", "0.5s"], capsys)
    assert (code, out) == (
        2,
        "",
    ) and err == "error: --lease-ttl: a lease TTL must be at least 1s, got 0.5s\n"
    code, _, err = run(["export", "events", "-o", "-", "--lease-ttl", "soon"], capsys)
    assert code == 2 and "--lease-ttl: not an interval: 'soon'" in err
    config = tmp_path / "gta.toml"
    body = '[tenants.default]\nclient_id = "i"\nclient_password = "p"\nvisibility_host = "h"\n'
    body += '[jobs.a]\nsink = "-"\n'
    config.write_text(f'lease_ttl = "2m"\n{body}')
    assert load_config(config).lease_ttl_seconds() == 120.0
    config.write_text(f'lease_ttl = "0s"\n{body}')
    with pytest.raises(ConfigError, match="lease_ttl"):
        load_config(config)
