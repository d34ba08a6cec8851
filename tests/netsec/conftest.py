"""Corporate networks and secrets (issue #15): the ``gta`` runner and a clean proxy environment."""

from __future__ import annotations

import pytest
from tests.cli.helpers import Gta, run_gta

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_ambient_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def gta() -> Gta:
    return run_gta
