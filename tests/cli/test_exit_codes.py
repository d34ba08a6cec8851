"""One error tree, one table of exit codes: usage errors exit 2, failures 1, bugs keep a
traceback."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import gta
from gta._secrets import SecretError
from gta.cli import main
from gta.cli._errors import CommandError, UsageError, exit_code
from gta.errors import GtaError, InputError
from gta.formats import UnknownFormatError
from gta.sinks import SinkConfigError, SinkError
from gta.sync import (
    ConfigError,
    CursorFormatError,
    DemoDirError,
    LeaseHeldError,
    StateError,
    UnknownStreamError,
)

SRC = Path(gta.__file__).parent
# Internal signals that never leave their module as themselves: the transport turns a passed
# deadline (an httpx timeout, so httpx's retry handling sees it) into ApiTimeoutError.
INTERNAL = {"gta/client/_limits.DeadlineExceeded"}


def test_every_library_error_derives_from_gta_error() -> None:
    """Every exception class under src/gta (the emulator, a program apart, aside) has the root."""
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent).with_suffix("")
        if relative.parts[1] in ("emulator", "cli") or relative.name == "__main__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        module = importlib.import_module(".".join(relative.parts))
        for name in names:
            kind = getattr(module, name)
            is_error = inspect.isclass(kind) and issubclass(kind, BaseException)
            if is_error and not issubclass(kind, GtaError) and f"{relative}.{name}" not in INTERNAL:
                missing.append(f"{relative}.{name}")
    assert missing == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), 2),
        (SinkConfigError("x"), 2),
        (ConfigError("x"), 2),
        (UnknownStreamError("x"), 2),
        (UnknownFormatError("x"), 2),
        (CursorFormatError("x"), 2),
        (DemoDirError("x"), 2),
        (SecretError("x"), 2),
        (CommandError("x"), 1),
        (SinkError("x"), 1),
        (StateError("x"), 1),
        (LeaseHeldError("x"), 1),
        (gta.errors.ApiError("x"), 1),
        (gta.errors.ConfigurationError("x"), 1),
        (OSError("x"), 1),
        (KeyError("x"), None),
    ],
)
def test_one_table_maps_errors_to_exit_codes(error: BaseException, code: int | None) -> None:
    assert exit_code(error) == code


def test_value_errors_stay_value_errors() -> None:
    for kind in (ConfigError, UnknownStreamError, UnknownFormatError, SecretError):
        assert issubclass(kind, InputError) and issubclass(kind, ValueError)


def test_a_library_usage_error_reaching_main_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``gta demo --dir`` on a folder it did not make: the DemoDirError itself reaches main."""
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(SystemExit) as info:
        main(["demo", "--dir", str(tmp_path), "--events", "100"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("error: --dir") and err.count("\n") == 1
    assert (tmp_path / "mine.txt").read_text() == "keep me"
