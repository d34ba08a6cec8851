"""Helpers shared by the triage CLI tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests._support.clients import emulator_client
from typer.testing import CliRunner

from gta import Client
from gta.cli import main
from gta.emulator import RunningEmulator


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


def run_gta(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``gta`` as a user would (through ``main``, so exit codes and error lines are real)."""
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


def config_file() -> Path:
    """The config file the command line uses in this test (GTA_CONFIG_DIR is per test)."""
    return Path(os.environ["GTA_CONFIG_DIR"]) / "config.toml"


def sdk(running: RunningEmulator) -> Client:
    """An SDK client on the emulator, to check what the commands did."""
    return emulator_client(running)


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
