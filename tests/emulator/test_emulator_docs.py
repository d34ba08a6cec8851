"""The Python examples in docs/emulator.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


def test_python_examples_in_the_emulator_doc_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "docs_example"})


def test_every_cli_flag_is_documented() -> None:
    from gta.cli._emulator_cmd import serve

    text = DOC.read_text()
    import inspect

    for name in inspect.signature(serve).parameters:
        if name == "ctx":  # the typer.Context, not a flag
            continue
        flag = "--" + name.replace("_", "-")
        if name == "db":
            flag = "--db"
        assert flag in text, flag
