"""Every ```python block of docs/sdk.md runs, in order, against the loopback server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from loopback_app import serve

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_sdk_doc_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 6
    with serve() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        namespace: dict[str, object] = {}
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
        notes = [a["note"] for a in server.state.alerts]
        statuses = [a["status"]["value"] for a in server.state.alerts]
    out = capsys.readouterr().out
    assert "CTA000000042" in out  # the discovered customer id was printed
    assert "error: 404 Not Found for GET" in out
    assert notes.count(None) == len(notes)  # the note was set, then deleted
    assert statuses.count("Closed") == 1
