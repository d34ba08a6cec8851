"""``gta sync`` with several tenants (issue #15): ``--job``, ``concurrency``, ``--once`` runs every
job and fails if one failed, and each record carries its customer id without changing its id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from gta.cli import main
from gta.emulator import RunningEmulator
from gta.formats._ids import record_id, version_of
from gta.sync import CheckpointStore


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tenant(name: str, emu: RunningEmulator, password: str | None = None) -> str:
    return (
        f'[tenants.{name}]\nclient_id = "{emu.client_id}"\n'
        f'client_password = "{password or emu.client_password}"\n'
        f'visibility_host = "{emu.url}"\napi_url = "{emu.url}"\napp_url = "{emu.url}"\n'
    )


def _job(name: str, tenant: str, sink: Path, fmt: str = "annotation", streams: str = "") -> str:
    return f'[jobs.{name}]\ntenant = "{tenant}"\nformat = "{fmt}"\nsink = "{sink}"\n' + (
        f"streams = {streams}\n" if streams else ""
    )


def _config(tmp_path: Path, *parts: str, top: str = "") -> Path:
    config = tmp_path / "gta.toml"
    config.write_text(f'{top}state = "{tmp_path / "state.db"}"\n' + "".join(parts))
    return config


def _jobs_done(tmp_path: Path) -> set[str]:
    return {cp.job for cp in CheckpointStore(tmp_path / "state.db").list()}


def test_job_selects_jobs_repeated_or_comma_separated(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = 'streams = ["alerts"]\n'
    parts = [_tenant("t", emulator)]
    parts += [_job(n, "t", tmp_path / f"{n}.jsonl") + events for n in ("a", "b", "c")]
    config = str(_config(tmp_path, *parts))
    code, _, err = run(["sync", "-c", config, "--once", "-q", "--job", "a,c"], capsys)
    assert code == 0, err
    assert _jobs_done(tmp_path) == {"a", "c"} and not (tmp_path / "b.jsonl").exists()
    code, _, err = run(["sync", "-c", config, "--once", "-q", "--job", "b", "-j", "a"], capsys)
    assert code == 0 and _jobs_done(tmp_path) == {"a", "b", "c"}, err


@pytest.mark.parametrize("given", [["--job", "nope"], ["--job", "a,nope"], ["--job", ","]])
def test_an_unknown_job_is_one_usage_line_listing_the_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: list[str]
) -> None:
    tenant = '[tenants.t]\nclient_id = "i"\nclient_password = "p"\nvisibility_host = "h"\n'
    config = _config(
        tmp_path, tenant, _job("a", "t", tmp_path / "a"), _job("b", "t", tmp_path / "b")
    )
    code, out, err = run(["sync", "-c", str(config), "--once", *given], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1, err
    assert "unknown job" in lines[0] and "the config has: a, b" in lines[0]
    assert not (tmp_path / "state.db").exists()


@pytest.mark.parametrize(
    ("top", "flag", "message"),
    [
        ("concurrency = 0\n", [], "concurrency"),
        ("concurrency = 65\n", [], "concurrency"),
        ("", ["--concurrency", "0"], "--concurrency"),
    ],
)
def test_a_bad_concurrency_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], top: str, flag: list[str], message: str
) -> None:
    tenant = '[tenants.t]\nclient_id = "i"\nclient_password = "p"\nvisibility_host = "h"\n'
    config = _config(tmp_path, tenant, _job("a", "t", tmp_path / "a"), top=top)
    code, _, err = run(["sync", "-c", str(config), "--once", *flag], capsys)
    assert code == 2 and message in err, err


def test_once_runs_every_job_and_exits_1_when_one_failed(
    make_emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu: RunningEmulator = make_emulator(events=100, flows_per_event=0.0)
    config = _config(
        tmp_path,
        _tenant("bad", emu, password="wrong-password"),
        _tenant("good", emu),
        _job("first", "bad", tmp_path / "bad.jsonl"),
        _job("second", "good", tmp_path / "good.jsonl", streams='["alerts"]'),
    )
    code, _, err = run(["sync", "-c", str(config), "--once", "-q"], capsys)
    assert code == 1, err
    assert (tmp_path / "good.jsonl").read_bytes().count(b"\n") > 0  # the other job ran
    assert "wrong-password" not in err


def _records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_records_carry_the_customer_id_and_keep_their_ids(
    make_emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two customers with the same seeded data: the same record ids, each its own customerId,
    and the ids are those made from the object alone (as before records carried the tenant)."""
    one: RunningEmulator = make_emulator(events=150, customer_id="CTA000000111")
    two: RunningEmulator = make_emulator(events=150, customer_id="CTA000000222")
    parts = [_tenant("one", one), _tenant("two", two)]
    for fmt in ("annotation", "nested"):
        parts += [_job(f"{fmt}-{t}", t, tmp_path / f"{fmt}-{t}.jsonl", fmt) for t in ("one", "two")]
    code, _, err = run(["sync", "-c", str(_config(tmp_path, *parts)), "--once", "-q"], capsys)
    assert code == 0, err
    for fmt in ("annotation", "nested"):
        first, second = (
            _records(tmp_path / f"{fmt}-one.jsonl"),
            _records(tmp_path / f"{fmt}-two.jsonl"),
        )
        assert {r["stream"] for r in first} == {"events", "alerts", "threat-detections", "flows"}
        assert {r["customerId"] for r in first} == {"CTA000000111"}
        assert {r["customerId"] for r in second} == {"CTA000000222"}
        assert [r["recordId"] for r in first] == [r["recordId"] for r in second]
        assert len({r["recordId"] for r in first}) == len(first)
    for rec in _records(tmp_path / "nested-one.jsonl"):
        if rec["stream"] in ("alerts", "threat-detections"):
            assert rec["recordId"] == record_id(rec["stream"], rec["id"], version_of(rec))
