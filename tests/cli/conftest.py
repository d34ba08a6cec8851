"""Helpers for the triage CLI tests: run ``gta`` through ``gta.cli.main`` and capture it all."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gta import Client
from gta.cli import main
from gta.emulator import EmulatorSettings, RunningEmulator, run_in_thread

SETTINGS_VARS = (
    "SECUREX_CLIENT_ID",
    "SECUREX_CLIENT_PASSWORD",
    "SECUREX_VISIBILITY_HOST_NAME",
    "GTA_API_URL",
    "GTA_APP_URL",
    "GTA_CUSTOMER_ID",
    "GTA_PROFILE",
)


@dataclass(frozen=True)
class Run:
    """What one ``gta`` invocation did."""

    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


Gta = Callable[..., Run]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's credentials or config file."""
    for name in SETTINGS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GTA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "80")
    yield


@pytest.fixture
def gta() -> Gta:
    """``gta(*args, input=..., env=...)`` runs the command line as a user would (via ``main``)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Run:
        runner = CliRunner()
        code = 0
        with runner.isolation(input=input, env=env) as (out, err, _):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            sys.stdout.flush()
            sys.stderr.flush()
            stdout = out.getvalue().decode()
            stderr = err.getvalue().decode()
        return Run(code, stdout, stderr)

    return run


def config_file() -> Path:
    return Path(os.environ["GTA_CONFIG_DIR"]) / "config.toml"


def _serve(seed: int, events: int) -> Iterator[RunningEmulator]:
    with run_in_thread(EmulatorSettings(seed=seed, events=events)) as running:
        yield running


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    """An emulator shared by one test module (tests in it touch different alerts)."""
    yield from _serve(seed=7, events=2000)


@pytest.fixture
def fresh_emu() -> Iterator[RunningEmulator]:
    """An emulator of one's own, for tests that move its clock or make activity."""
    yield from _serve(seed=11, events=1000)


def sdk(running: RunningEmulator) -> Client:
    """An SDK client on the emulator, to check what the commands did."""
    return Client(
        running.client_id,
        running.client_password,
        securex_host=running.url,
        api_url=running.url,
        app_url=running.url,
        customer_id=running.customer_id,
    )


def run_process(
    args: list[str], env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``gta`` in a child process (real stdout pipe, real logging set-up)."""
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", "from gta.cli import main; main()", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
