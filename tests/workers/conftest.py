"""The worker tests run on every state backend ``state_urls()`` names: ``state_url`` is the
``--state`` value a worker gets (a SQLite file in the test's folder for ``sqlite``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wk_support import state_urls


@pytest.fixture(params=state_urls())
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = str(request.param)
    if backend == "sqlite":
        return str(tmp_path / "state.db")
    return str(request.getfixturevalue("postgres_url"))  # a fresh PostgreSQL database
