"""The public surface of ``gta.emulator`` is pinned, and it stays apart from the SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import gta.emulator

SOURCE = Path(gta.emulator.__file__).parent


def test_public_names_are_pinned() -> None:
    assert sorted(gta.emulator.__all__) == sorted(
        [
            "DEMO_CLIENT_ID",
            "DEMO_CLIENT_PASSWORD",
            "DEMO_CUSTOMER_ID",
            "CustomerIdentity",
            "EmulatorDatabaseError",
            "EmulatorSettings",
            "FaultSettings",
            "RunningEmulator",
            "bind",
            "check_admin_exposure",
            "client_env",
            "create_app",
            "run_in_thread",
            "server_config",
            "url_of",
        ]
    )
    for name in gta.emulator.__all__:
        assert hasattr(gta.emulator, name)


def test_the_emulator_imports_nothing_from_the_sdk() -> None:
    for path in SOURCE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("gta.client"), path.name
                assert node.module != "gta" or all(a.name != "Client" for a in node.names)
            elif isinstance(node, ast.Import):
                assert all(not a.name.startswith("gta.client") for a in node.names), path.name
