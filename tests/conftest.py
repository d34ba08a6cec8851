"""Fixtures shared by every test: isolation from the user's environment, and emulators.

- autouse ``_isolated_environment``: no SECUREX_*/GTA_* variable leaks in from the shell, and
  per-user state/config directories (``GTA_STATE_DIR``, ``GTA_CONFIG_DIR``, XDG dirs) point
  into the test's tmp_path.
- ``emulator``: one emulator for the whole session (seed 1, 2,000 events). Read-only use:
  tests that write, move the clock or switch faults use ``make_emulator``.
- ``make_emulator(**settings)``: a fresh emulator per call, stopped at teardown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gta.emulator import EmulatorSettings, RunningEmulator, run_in_thread

SESSION_EVENTS = 2_000


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak-minutes",
        type=float,
        default=None,
        help="length of the soak test (tests/soak) in minutes; default GTA_SOAK_SECONDS or 180 s",
    )


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SECUREX_", "GTA_")):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "_user"
    for var, sub in (
        ("GTA_STATE_DIR", "state"),
        ("GTA_CONFIG_DIR", "config"),
        ("XDG_STATE_HOME", "xdg-state"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_DATA_HOME", "xdg-data"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    """A shared emulator (seed 1, 2,000 events) on a loopback port; do not change its state."""
    with run_in_thread(EmulatorSettings(seed=1, events=SESSION_EVENTS)) as emu:
        yield emu


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Start fresh emulators: ``make_emulator(events=500, error_rate=0.2)``; stopped at teardown.

    Defaults to seed 1 and 2,000 events unless given.
    """
    with contextlib.ExitStack() as stack:

        def make(**settings: Any) -> RunningEmulator:
            settings.setdefault("seed", 1)
            settings.setdefault("events", SESSION_EVENTS)
            return stack.enter_context(run_in_thread(EmulatorSettings(**settings)))

        yield make


# -- state backends ------------------------------------------------------------------------
# A PostgreSQL server for the state tests: a throw-away cluster started once per session (or
# GTA_TEST_POSTGRES_URL). Without server binaries the PostgreSQL cases skip, or fail when
# GTA_POSTGRES_TEST=required (CI). ``state_url`` runs a test on both backends.

_postgres_failure: list[str] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    from _support.postgres import postgres_server as start
    from _support.postgres import required

    if _postgres_failure:
        pytest.skip(_postgres_failure[0])
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed (pip install -e '.[test]')"
        if required():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        with start() as server:
            yield server
    except RuntimeError as exc:
        _postgres_failure.append(str(exc))
        if required():
            pytest.fail(f"{exc} (GTA_POSTGRES_TEST=required)")
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (its URL, no password in it)."""
    with postgres_server.database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state location on each backend: ``sqlite:///...`` in tmp_path, or a fresh database."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))
