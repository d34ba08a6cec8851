"""Fixtures for the triage CLI tests (tests/conftest.py already isolates the environment and
provides the ``emulator``, read-only, and ``make_emulator`` fixtures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.cli.helpers import Gta, run_gta

from gta.emulator import RunningEmulator


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rich sizes tables by COLUMNS when not on a terminal: pin the 80 columns we promise."""
    monkeypatch.setenv("COLUMNS", "80")
    yield


@pytest.fixture
def gta() -> Gta:
    """``gta(*args, input=..., env=...)`` runs the command line as a user would (via ``main``)."""
    return run_gta


@pytest.fixture
def fresh_emu(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator of one's own, for tests that change alerts, move its clock or make activity."""
    return make_emulator(seed=11, events=1000)
