"""Every Python example in docs/sinks.md runs as written, and its configuration example opens
its sinks."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from rsyslog_server import make_certificates

from gta.sinks import open_sink

DOC = Path(__file__).resolve().parents[2] / "docs" / "sinks.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("code", BLOCKS, ids=[f"example{i}" for i in range(len(BLOCKS))])
def test_example_runs(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTA_SPLUNK_HEC_TOKEN", "restored-after-the-test")
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})


@pytest.mark.skipif(shutil.which("certtool") is None, reason="certtool (gnutls-bin) not installed")
def test_config_example_opens_its_sinks(tmp_path: Path) -> None:
    make_certificates(tmp_path)
    [toml_text] = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    jobs = tomllib.loads(toml_text)["jobs"]
    assert jobs
    for job in jobs.values():
        options = {
            key: "resolved-secret" if str(value).startswith("env:") else value
            for key, value in job.get("sink_options", {}).items()
        }
        if "ca_bundle" in options:
            options["ca_bundle"] = str(tmp_path / "ca.pem")
        sink = open_sink(job["sink"], **options)
        sink.close()
