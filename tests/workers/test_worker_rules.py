"""Worker mode's pure rules (targets, config checks), its usage errors, and the claim-log check
the acceptance tests rely on (it must catch two workers feeding one unit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.helpers import run_gta
from wk_support import check_claims

from gta.sync import load_config
from gta.sync._config import ConfigError
from gta.sync._workers import WORKERS_JOB, check_worker_config, shared_destination, targets


@pytest.mark.parametrize(
    ("units", "caps", "level"),
    [
        (40, [None, None, None], 14),  # 14 + 13 + 13: nobody above the share + 1
        (40, [None], 40),
        (6, [None, None], 3),
        (10, [2, None], 8),  # a capped worker leaves the rest to the others
        (10, [2, None, None], 4),
        (10, [2, 2], 2),  # caps that cannot cover: everyone at its cap
        (0, [None], 0),
        (3, [], 0),
        (5, [None] * 8, 1),
    ],
)
def test_targets(units: int, caps: list[int | None], level: int) -> None:
    assert targets(units, caps) == level
    if caps and units:
        covered = sum(min(level, c) if c is not None else level for c in caps)
        assert covered >= units or all(c is not None for c in caps)


def _config(tmp_path: Path, jobs: str) -> Path:
    path = tmp_path / "gta.toml"
    path.write_text(
        '[tenants.a]\nclient_id = "x"\nclient_password = "y"\n'
        'visibility_host = "http://127.0.0.1:9"\ncustomer_id = "CTA1"\n' + jobs
    )
    return path


def test_a_file_written_by_several_units_is_refused(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        f'[jobs.both]\ntenant = "a"\nstreams = ["events", "alerts"]\nsink = "{tmp_path}/o.jsonl"\n'
        '[jobs.hec]\ntenant = "a"\nstreams = ["events", "alerts"]\n'
        'sink = "splunk-hec+https://siem.example:8088"\nsink_options = { token = "t" }\n'
        f'[jobs.one]\ntenant = "a"\nstreams = ["flows"]\nsink = "{tmp_path}/f.jsonl"\n',
    )
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"jobs\.both: .* takes one writer"):
        check_worker_config(config, list(config.jobs))
    check_worker_config(config, ["hec", "one"])  # a network sink is shared by design
    assert shared_destination(config, "hec") and not shared_destination(config, "one")


def test_the_workers_job_name_is_reserved(tmp_path: Path) -> None:
    path = _config(
        tmp_path, f'[jobs.{WORKERS_JOB}]\ntenant = "a"\nstreams = ["flows"]\nsink = "-"\n'
    )
    config = load_config(path)
    with pytest.raises(ConfigError, match="reserved"):
        check_worker_config(config, list(config.jobs))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "--worker"], "--worker runs on a schedule"),
        (["--every", "1m", "--worker-id", "w1"], "need --worker"),
        (["--every", "1m", "--max-units", "3"], "need --worker"),
        (["--every", "1m", "--worker", "--worker-id", ""], "--worker-id must be"),
        (["--every", "1m", "--worker", "--worker-id", "a\x1bb"], "--worker-id must be"),
        (["--every", "1m", "--worker", "--max-units", "0"], "--max-units"),
        (["--every", "1m", "--worker"], "takes one writer"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    path = _config(
        tmp_path,
        f'[jobs.both]\ntenant = "a"\nstreams = ["events", "alerts"]\nsink = "{tmp_path}/o.jsonl"\n',
    )
    state = tmp_path / "state.db"
    result = run_gta("sync", "--config", str(path), "--state", str(state), *args)
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert message in lines[-1], result.err
    assert "Traceback" not in result.err
    if not message.startswith("--max-units"):  # Click's own range check adds a usage block
        assert len(lines) == 1, result.err
    assert not (tmp_path / "o.jsonl").exists()


def _event(kind: str, worker: str, fence: int, at: float, job: str = "j") -> dict[str, object]:
    return {"event": kind, "worker": worker, "fence": fence, "at": at, "job": job, "stream": "s"}


def test_the_claim_check_passes_a_clean_handover() -> None:
    log = [
        _event("claim", "w1", 1, 1.0),
        _event("commit", "w1", 1, 2.0),
        _event("release", "w1", 1, 3.0),
        _event("claim", "w2", 2, 4.0),
        _event("commit", "w2", 2, 5.0),
    ]
    check = check_claims(log, {})
    assert check.problems == [] and (check.claims, check.commits) == (2, 2)


@pytest.mark.parametrize(
    ("log", "kills", "problem"),
    [
        # w1 commits after w2 took over: two workers fed one cursor.
        (
            [_event("claim", "w1", 1, 1.0), _event("claim", "w2", 2, 2.0),
             _event("commit", "w2", 2, 3.0), _event("commit", "w1", 1, 4.0)],
            {}, "after fence 2",
        ),
        # A commit under a fence its worker never claimed.
        ([_event("claim", "w1", 1, 1.0), _event("commit", "w2", 1, 2.0)], {}, "never claimed"),
        # A commit after its worker released the unit.
        (
            [_event("claim", "w1", 1, 1.0), _event("release", "w1", 1, 2.0),
             _event("commit", "w1", 1, 3.0)],
            {}, "giving it up",
        ),
        # A commit logged after its worker was killed.
        (
            [_event("claim", "w1", 1, 1.0), _event("commit", "w1", 1, 3.0)],
            {"w1": [2.0]}, "giving it up",
        ),
        # One fencing number claimed by two workers.
        ([_event("claim", "w1", 1, 1.0), _event("claim", "w2", 1, 2.0)], {}, "claimed twice"),
    ],
)  # fmt: skip
def test_the_claim_check_catches_two_workers_on_one_unit(
    log: list[dict[str, object]], kills: dict[str, list[float]], problem: str
) -> None:
    problems = check_claims(log, kills).problems
    assert any(problem in p for p in problems), problems
