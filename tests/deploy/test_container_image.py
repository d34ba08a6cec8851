"""The ``Containerfile`` image, built from a debootstrap base (``conftest.py``) and smoke-tested:
``gta --version`` and ``gta sync --once`` against an emulator on the host's loopback, with a
read-only root file system, no capabilities, the non-root user and the state on a volume; a
second container resumes from that volume; ``podman stop`` (SIGTERM) is a clean exit.

The same checks run inside the image's tree with chroot (``podman image mount``), so the image's
contents are checked even where this machine refuses to start containers; the refused command
and its output are then the skip reason.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.deploy.image_build import GTA_UID, Image, refusal, run

import gta
from gta.emulator import RunningEmulator

pytestmark = [pytest.mark.slow, pytest.mark.container]

CONFIG = """
[tenants.main]
client_id = "env:SECUREX_CLIENT_ID"
client_password = "env:SECUREX_CLIENT_PASSWORD"
visibility_host = "env:SECUREX_VISIBILITY_HOST_NAME"
api_url = "env:GTA_API_URL"
app_url = "env:GTA_APP_URL"
customer_id = "env:GTA_CUSTOMER_ID"

[jobs.siem]
tenant = "main"
streams = ["events", "alerts"]
format = "nested"
sink = "jsonl:/var/lib/gta/records.jsonl"
"""


@pytest.fixture
def small_emulator(make_emulator: object) -> RunningEmulator:
    emu: RunningEmulator = make_emulator(events=300)  # type: ignore[operator]
    return emu


@pytest.fixture
def deployment(tmp_path: Path, small_emulator: RunningEmulator) -> Iterator[dict[str, Path]]:
    """/etc/gta (config, read-only) and /var/lib/gta (state volume, owned by the image's user)
    as host directories, plus the credentials as an env file (never on a command line)."""
    etc, state = tmp_path / "etc-gta", tmp_path / "var-lib-gta"
    etc.mkdir()
    state.mkdir(mode=0o700)
    os.chown(state, GTA_UID, GTA_UID)
    (etc / "gta.toml").write_text(CONFIG)
    env_file = tmp_path / "credentials.env"
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in small_emulator.env().items()))
    yield {"etc": etc, "state": state, "env_file": env_file}


def _podman(image: Image) -> list[str]:
    if image.tag is None or not image.podman:
        pytest.skip("this machine does not run containers:\n" + "\n\n".join(image.refusals))
    return image.podman


def _container(
    image: Image,
    deployment: dict[str, Path],
    *args: str,
    detach: bool = False,
    name: str | None = None,
) -> list[str]:
    podman = _podman(image)
    assert image.tag is not None
    return [
        *podman,
        "run",
        *([] if detach else ["--rm"]),
        *(["-d"] if detach else []),
        *(["--name", name] if name else []),
        *image.flags,
        "--read-only",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
        "--network",
        "host",  # the emulator listens on the host's loopback
        "--env-file",
        str(deployment["env_file"]),
        "-v",
        f"{deployment['etc']}:/etc/gta:ro",
        "-v",
        f"{deployment['state']}:/var/lib/gta",
        image.tag,
        *args,
    ]


def _records(state: Path) -> list[dict[str, object]]:
    lines = (state / "records.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines]


def _checkpoints(state: Path) -> int:
    with sqlite3.connect(f"file:{state / 'state.db'}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute("SELECT count(*) FROM checkpoints").fetchone()[0])


def test_image_declares_user_volume_entrypoint_and_stop_signal(image: Image) -> None:
    if image.tag is None:
        pytest.skip("the image was not built here:\n" + "\n\n".join(image.refusals))
    argv = ["podman", "image", "inspect", image.tag]
    proc = run(argv, timeout=60)
    assert proc.returncode == 0, refusal(argv, proc)
    config = json.loads(proc.stdout)[0]["Config"]
    assert config["User"] == f"{GTA_UID}:{GTA_UID}"
    assert config["Entrypoint"] == ["/opt/gta/bin/gta", "sync"]
    assert "/var/lib/gta" in config["Volumes"]
    assert config["StopSignal"] == "SIGTERM"
    assert "GTA_STATE_DIR=/var/lib/gta" in config["Env"]


def test_gta_version_in_a_read_only_container(image: Image) -> None:
    assert image.tag is not None or image.refusals
    argv = [
        *_podman(image),
        "run",
        "--rm",
        "--read-only",
        "--network",
        "none",
        *image.flags,
        "--entrypoint",
        "/opt/gta/bin/gta",
        str(image.tag),
        "--version",
    ]
    proc = run(argv, timeout=120)
    assert proc.returncode == 0, refusal(argv, proc)
    assert proc.stdout.strip() == f"gta {gta.__version__}"


def test_sync_once_in_a_container_then_a_new_container_resumes(
    image: Image, deployment: dict[str, Path]
) -> None:
    once = _container(image, deployment, "--config", "/etc/gta/gta.toml", "--once")
    first = run(once, timeout=300)
    assert first.returncode == 0, refusal(once, first)
    records = _records(deployment["state"])
    assert len(records) > 100
    assert len({r["recordId"] for r in records}) == len(records)
    assert _checkpoints(deployment["state"]) == 2  # events and alerts, in the volume
    assert (deployment["state"] / "state.db").stat().st_uid == GTA_UID
    second = run(once, timeout=300)
    assert second.returncode == 0, refusal(once, second)
    assert _records(deployment["state"]) == records  # resumed from the volume: nothing again


def test_podman_stop_is_a_clean_exit(image: Image, deployment: dict[str, Path]) -> None:
    name = f"gta-stop-{uuid.uuid4().hex[:8]}"
    argv = _container(
        image, deployment, "--config", "/etc/gta/gta.toml", "--every", "1m", detach=True, name=name
    )
    try:
        proc = run(argv, timeout=120)
        assert proc.returncode == 0, refusal(argv, proc)
        deadline = time.monotonic() + 120
        state = deployment["state"] / "state.db"
        while time.monotonic() < deadline and not (state.exists() and _checkpoints_or_0(state)):
            time.sleep(0.5)
        assert _checkpoints_or_0(state) == 2
        stop = ["podman", "stop", "--time", "60", name]
        proc = run(stop, timeout=120)
        assert proc.returncode == 0, refusal(stop, proc)
        code = run(["podman", "inspect", name, "--format", "{{.State.ExitCode}}"], timeout=60)
        logs = run(["podman", "logs", name], timeout=60)
        assert code.stdout.strip() == "0", logs.stdout + logs.stderr
        assert "stopped by SIGTERM" in logs.stdout + logs.stderr
    finally:
        run(["podman", "rm", "-f", name], timeout=120)


def _checkpoints_or_0(state: Path) -> int:
    try:
        return _checkpoints(state.parent)
    except sqlite3.Error:
        return 0


@pytest.fixture
def tree(image: Image) -> Iterator[Path]:
    """The image's root file system (``podman image mount``), else the debootstrap tree that
    received the same installation with chroot."""
    if image.tag is None:
        yield image.rootfs
        return
    argv = ["podman", "image", "mount", image.tag]
    proc = run(argv, timeout=120)
    assert proc.returncode == 0, refusal(argv, proc)
    try:
        yield Path(proc.stdout.strip())
    finally:
        run(["podman", "image", "unmount", image.tag], timeout=120)


def test_image_contents_run_gta_with_chroot(
    image: Image, tree: Path, deployment: dict[str, Path], small_emulator: RunningEmulator
) -> None:
    passwd = (tree / "etc/passwd").read_text().splitlines()
    assert any(line.startswith(f"gta:x:{GTA_UID}:{GTA_UID}:") for line in passwd)
    assert (tree / "opt/gta/bin/gta").is_file()
    assert not (tree / "tmp/wheels").exists()
    if image.tag is not None:
        assert not (tree / "opt/gta/bin/pip").exists()  # the build removes pip from the image
    as_gta = ["chroot", f"--userspec={GTA_UID}:{GTA_UID}", str(tree)]
    version = run(["unshare", "--mount", *as_gta, "/opt/gta/bin/gta", "--version"], timeout=120)
    assert version.stdout.strip() == f"gta {gta.__version__}", version.stderr

    # gta sync --once inside the tree, with the config and the state volume bound in place
    script = (
        'mount --bind "$2" "$1/var/lib/gta" && mount -o bind,ro "$3" "$1/etc/gta" && shift 3 '
        '&& exec "$@"'
    )
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        str(tree),
        str(deployment["state"]),
        str(deployment["etc"]),
        *as_gta,
        "/opt/gta/bin/gta",
        "sync",
        "--config",
        "/etc/gta/gta.toml",
        "--once",
    ]
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "GTA_STATE_DIR": "/var/lib/gta",
        "HOME": "/var/lib/gta",
        **small_emulator.env(),
    }
    for sub in ("var/lib/gta", "etc/gta"):
        assert (tree / sub).is_dir() or image.tag is None
        (tree / sub).mkdir(parents=True, exist_ok=True)
    proc = run(argv, timeout=300, env=env)
    assert proc.returncode == 0, refusal(argv, proc)
    assert len(_records(deployment["state"])) > 100
    assert _checkpoints(deployment["state"]) == 2
