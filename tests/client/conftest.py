"""Fixtures for the SDK tests: a fake API and a fake clock (see tests/_support/fake_api.py)."""

from __future__ import annotations

import pytest
from tests._support.fake_api import FakeApi, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()
