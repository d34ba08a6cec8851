"""Guarantee 5, user side: a bad flag, config file, sink, state file or output path gets a clear
error (one ``error:``/``Error:`` line, no traceback), exit code 1 or 2, and changes nothing: the
checkpoint and the output file are as they were.

Commands run in this process through ``gta.cli.main`` (fast); the state and the output come from
one good export against the shared emulator first.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.rel_support import gta_in_process, record_figures

from gta.emulator import RunningEmulator
from gta.sync import CheckpointStore

pytestmark = pytest.mark.reliability

RESULTS: dict[str, dict[str, Any]] = {}


@pytest.fixture
def setup(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Path]:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    out, state = tmp_path / "out.jsonl", tmp_path / "state.db"
    code = gta_in_process(
        ["export", "threat-detections", "-o", str(out), "--state", str(state), "-q"]
    )
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return {"out": out, "state": state, "dir": tmp_path}


def snapshot(paths: dict[str, Path]) -> tuple[bytes, list[Any]]:
    with contextlib.closing(sqlite3.connect(paths["state"])) as conn:
        rows = conn.execute("SELECT job, stream, cursor, records FROM checkpoints").fetchall()
    return paths["out"].read_bytes(), rows


def check_refused(
    name: str, args: list[str], capsys: pytest.CaptureFixture[str], codes: tuple[int, ...] = (1, 2)
) -> str:
    code = gta_in_process(args)
    err = capsys.readouterr().err
    assert code in codes, (name, code, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.lower().startswith("error:")]
    assert len(lines) == 1, f"{name}: expected one error line, got {err!r}"
    shown = re.sub(r"/tmp/pytest-of-[^/]+/pytest-\d+/[^/ :]+", "<tmp>", lines[0])
    RESULTS[name] = {"exit": code, "error": shown}
    return lines[0]


FLAG_CASES = {
    "page-size-0": ["export", "events", "-o", "{out}", "--page-size", "0"],
    "unknown-stream": ["export", "nosuch", "-o", "{out}"],
    "unknown-schema": ["export", "events", "-o", "{out}", "--schema", "xml"],
    "no-destination": ["export", "events"],
    "two-destinations": ["export", "events", "-o", "{out}", "--to", "-"],
    "unknown-option": ["export", "events", "-o", "{out}", "--bogus"],
    "sync-without-config": ["sync", "--once"],
    "sync-once-and-every": ["sync", "-c", "{dir}/none.toml", "--once", "--every", "5m"],
    "state-set-no-cursor": ["state", "set", "--stream", "events"],
    "state-set-bad-stream": ["state", "set", "--stream", "nope", "--cursor", "1"],
    "unknown-sink-scheme": ["export", "events", "--to", "kafka://broker:9092/topic"],
    "hec-token-in-url": ["export", "events", "--to", "splunk-hec+https://h:8088?token=abc"],
    "syslog-bad-option": ["export", "events", "--to", "syslog+tcp://127.0.0.1:1?colour=red"],
    "output-dir-missing": ["export", "events", "-o", "{dir}/no/such/dir/out.jsonl"],
    "output-is-a-directory": ["export", "events", "-o", "{dir}"],
}


@pytest.mark.parametrize("name", sorted(FLAG_CASES))
def test_bad_flags_change_nothing(
    name: str, setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(setup)
    args = [a.format(out=setup["out"], dir=setup["dir"]) for a in FLAG_CASES[name]]
    check_refused(
        name, [*args, "--state", str(setup["state"])] if args[0] == "export" else args, capsys
    )
    assert snapshot(setup) == before


CONFIGS = {
    "toml-syntax-error": "[tenants.main\nclient_id = 'x'\n",
    "unknown-key": "{base}colour = 'red'\n",
    "wrong-type": "{base}",  # page_size replaced below
    "missing-env-reference": "{base}",
    "unknown-tenant": "{base}",
    "unknown-sink-scheme": "{base}",
    "empty-file": "",
}


def _config_text(name: str, url: str, out: Path) -> str:
    base = (
        "[tenants.main]\n"
        'client_id = "env:SECUREX_CLIENT_ID"\n'
        'client_password = "env:SECUREX_CLIENT_PASSWORD"\n'
        f'visibility_host = "{url}"\napi_url = "{url}"\napp_url = "{url}"\n'
        "[jobs.j]\n"
        'tenant = "main"\nstreams = ["threat-detections"]\n'
        f'sink = "jsonl:{out}"\n'
    )
    text = CONFIGS[name].format(base=base)
    if name == "wrong-type":
        text += 'page_size = "big"\n'
    elif name == "missing-env-reference":
        text = text.replace("env:SECUREX_CLIENT_PASSWORD", "env:GTA_REL_NOT_SET")
    elif name == "unknown-tenant":
        text = text.replace('tenant = "main"', 'tenant = "other"')
    elif name == "unknown-sink-scheme":
        text = text.replace(f'sink = "jsonl:{out}"', 'sink = "kafka://broker:9092/t"')
    return text


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_bad_config_files_change_nothing(
    name: str,
    setup: dict[str, Path],
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = setup["dir"] / "gta.toml"
    config.write_text(_config_text(name, emulator.url, setup["out"]))
    before = snapshot(setup)
    line = check_refused(
        f"config/{name}",
        ["sync", "-c", str(config), "--once", "--state", str(setup["state"])],
        capsys,
    )
    assert emulator.client_password not in line
    assert snapshot(setup) == before


@pytest.mark.parametrize("kind", ["random-bytes", "foreign-sqlite", "empty-gta-schema-v9"])
@pytest.mark.parametrize("command", ["export", "state-show", "state-reset"])
def test_corrupt_or_foreign_state_is_refused_untouched(
    kind: str, command: str, setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = setup["dir"] / f"{kind}.db"
    if kind == "random-bytes":
        bad.write_bytes(os.urandom(8192))
    else:
        with contextlib.closing(sqlite3.connect(bad)) as conn:
            if kind == "foreign-sqlite":
                conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
                conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
            else:
                conn.execute("CREATE TABLE gta_meta (key TEXT PRIMARY KEY, value TEXT)")
                conn.execute("INSERT INTO gta_meta VALUES ('app', 'gta-state'), ('schema', '9')")
            conn.commit()
    before_bad, before = bad.read_bytes(), snapshot(setup)
    args = {
        "export": ["export", "threat-detections", "-o", str(setup["out"]), "--state", str(bad)],
        "state-show": ["state", "show", "--state", str(bad)],
        "state-reset": ["state", "reset", "--state", str(bad)],
    }[command]
    check_refused(f"state/{kind}/{command}", args, capsys)
    assert bad.read_bytes() == before_bad
    assert not Path(f"{bad}-wal").exists() or Path(f"{bad}-wal").stat().st_size == 0
    assert snapshot(setup) == before


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[bool]:
    """Mount a small tmpfs (needs root); yields False when mounting is not possible."""
    path.mkdir()
    if os.geteuid() != 0:
        yield False
        return
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_output_path(setup: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    target = setup["dir"] / "ro"
    with tmpfs(target, "ro,size=64k") as mounted:
        if not mounted:
            target.chmod(0o555)  # as a normal user, a read-only directory is enough
            if os.geteuid() == 0:
                pytest.skip("cannot mount a read-only tmpfs here")
        before = snapshot(setup)
        check_refused(
            "read-only-output",
            [
                "export",
                "threat-detections",
                "-o",
                str(target / "out.jsonl"),
                "--state",
                str(setup["state"]),
            ],
            capsys,
        )
        assert snapshot(setup) == before
        assert not (target / "out.jsonl").exists()


def _cursor(state: Path, job_part: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(state)) as conn:
        return conn.execute(
            "SELECT cursor, records FROM checkpoints WHERE job LIKE ?", (f"%{job_part}%",)
        ).fetchall()


@pytest.mark.parametrize("how", ["tmpfs-64k", "dev-full"])
def test_full_disk(how: str, setup: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC while writing: exit 1, one line, and no checkpoint for what was not written."""
    target = setup["dir"] / "full"
    with tmpfs(target, "size=64k") as mounted:
        if how == "tmpfs-64k" and not mounted:
            pytest.skip("cannot mount a tmpfs here (not root); /dev/full covers ENOSPC")
        out = target / "out.jsonl" if how == "tmpfs-64k" else Path("/dev/full")
        before = snapshot(setup)
        check_refused(
            f"full-disk/{how}",
            [
                "export",
                "threat-detections",
                "-o",
                str(out),
                "--state",
                str(setup["state"]),
                "--page-size",
                "1000",
            ],
            capsys,
            codes=(1,),
        )
        assert snapshot(setup) == before
        assert _cursor(setup["state"], str(out)) in ([], [(None, 0)])


def test_second_run_on_a_leased_checkpoint_is_refused(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs feeding one checkpoint would interleave commits: the second is refused."""
    with contextlib.closing(sqlite3.connect(setup["state"])) as conn:
        job, customer = conn.execute("SELECT job, customer_id FROM checkpoints").fetchone()
    before = snapshot(setup)
    with CheckpointStore(setup["state"]) as store, store.lease(job, customer, "threat-detections"):
        line = check_refused(
            "concurrent-run",
            [
                "export",
                "threat-detections",
                "-o",
                str(setup["out"]),
                "--state",
                str(setup["state"]),
            ],
            capsys,
            codes=(1,),
        )
        assert "being synced" in line
    assert snapshot(setup) == before


def test_zz_record_figures() -> None:
    assert RESULTS
    record_figures("bad_user_input", {"cases": RESULTS, "refused_cleanly": len(RESULTS)})
