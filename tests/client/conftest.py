"""Fixtures for the SDK tests: a fake API and a fake clock (see client_fakes)."""

from __future__ import annotations

import pytest
from client_fakes import FakeApi, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()
