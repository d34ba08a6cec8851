"""``gta emulator serve``: export lines, a working server, clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from emu_http import HTTP

from gta.cli import main

GTA = [sys.executable, "-c", "from gta.cli import main; main()"]
NAMES = (
    "SECUREX_CLIENT_ID",
    "SECUREX_CLIENT_PASSWORD",
    "SECUREX_VISIBILITY_HOST_NAME",
    "GTA_API_URL",
    "GTA_APP_URL",
    "GTA_CUSTOMER_ID",
)


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*GTA, "emulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    while len(exports) < len(NAMES):
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            _, stderr = proc.communicate(timeout=30)
            raise AssertionError(f"serve ended early: {stderr}")
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            exports[name] = shlex.split(value)[0]
    return proc, exports


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    """Signal the server, wait for it, and close its pipes; return (exit code, stderr)."""
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    return proc.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_exports_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, env = _start("--events", "200", "--seed", "4")
    try:
        assert set(env) == set(NAMES)
        url = env["GTA_API_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert env["SECUREX_VISIBILITY_HOST_NAME"] == url == env["GTA_APP_URL"]
        assert env["GTA_CUSTOMER_ID"] == "CTA000000001"
        grant = HTTP.post(
            f"{url}/iroh/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(env["SECUREX_CLIENT_ID"], env["SECUREX_CLIENT_PASSWORD"]),
        )
        assert grant.status_code == 200
        stats = HTTP.get(f"{url}/_emulator/stats").json()
        assert stats["counts"]["events"] == 200
    finally:
        code, stderr = _stop(proc, sig)
    assert code == 0
    assert "Traceback" not in stderr


def test_serve_flags_reach_the_settings(tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite"
    proc, env = _start(
        "--events", "100", "--customers", "2", "--client-id", "my-client",
        "--client-password", "my-password", "--customer-id", "CTA000000042",
        "--token-ttl", "30", "--db", str(db), "--max-body-bytes", "100",
    )  # fmt: skip
    try:
        assert env["SECUREX_CLIENT_ID"] == "my-client"
        assert env["GTA_CUSTOMER_ID"] == "CTA000000042"
        grant = HTTP.post(
            f"{env['GTA_API_URL']}/iroh/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("my-client-2", "my-password-2"),
        ).json()
        assert grant["expires_in"] == 30
        stats = HTTP.get(f"{env['GTA_API_URL']}/_emulator/stats").json()
        assert stats["customers"] == ["CTA000000042", "CTA000000043"]
        refused = HTTP.post(f"{env['GTA_API_URL']}/iroh/oauth2/token", content=b"x" * 101)
        assert refused.status_code == 413
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    assert code == 0
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--error-rate", "2"], "--error-rate"),
        (["--customer-id", "ACME"], "--customer-id"),
        (["--clock-start", "yesterday"], "clock"),
        (["--host", "256.1.1.1"], "cannot listen"),
        (["--max-body-bytes", "0"], "--max-body-bytes"),
    ],
)
def test_bad_flags_are_one_line_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["emulator", "serve", "--port", "0", "--events", "10", *args])
    assert stopped.value.code == 2
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0]
