"""A sink gta does not ship, registered from outside ``src/``: its spec is defined here (and, for
the subprocess, in a package installed only on ``PYTHONPATH`` with a ``gta.sinks`` entry point).
``run_job``, ``gta export`` and ``gta sinks list``/``check`` treat it like a built-in: a new
sink needs no edit in ``src/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import gta
from gta.emulator import RunningEmulator
from gta.sinks import (
    Check,
    Flag,
    PositiveInt,
    Record,
    SinkConfigError,
    SinkOptions,
    SinkSpec,
    Text,
    check_sink,
    destination_key,
    open_sink,
    option,
    read_options,
    register_sink,
    sink_specs,
    unregister_sink,
)
from gta.sync import CheckpointStore, Job, run_job

BOXES: dict[str, list[Record]] = {}


class ToyOptions(SinkOptions):
    label: Text = option("toy", "a label kept with each record")
    refuse_every: PositiveInt | None = option(None, "drop every Nth record as undeliverable")
    loud: Flag = option(False, "say more")


class ToySink:
    """Keeps records in ``BOXES[box]``; may refuse some, counting them as the protocol says."""

    def __init__(self, box: str, options: ToyOptions) -> None:
        self.name = f"toy:{box}"
        self.rejected = 0
        self._box, self._options = box, options
        self._pending: list[Record] = []
        self._seen = 0

    def write(self, records: Sequence[Record]) -> None:
        every = self._options.refuse_every
        for record in records:
            self._seen += 1
            if every and self._seen % every == 0:
                self.rejected += 1
            else:
                self._pending.append({**record, "label": self._options.label})

    def flush(self) -> None:
        BOXES.setdefault(self._box, []).extend(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()


def open_toy(url: str, options: dict[str, Any]) -> ToySink:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    given = read_options("toy", ToyOptions, parts.query, options)
    if not parts.hostname:
        raise SinkConfigError("toy URL needs a box: toy://BOX")
    return ToySink(parts.hostname, given)


def check_toy(url: str, options: dict[str, Any]) -> list[Check]:
    open_toy(url, options)
    return [Check("box", True, "a toy box is always there")]


TOY = SinkSpec(
    name="toy",
    schemes=("toy",),
    summary="Toy sink of the tests: records kept in memory",
    url="toy://BOX?label=L",
    options=ToyOptions,
    open=open_toy,
    check=check_toy,
    destination_key=lambda url, options: "toy:" + url.split("//", 1)[1].split("?")[0],
)


@pytest.fixture
def toy() -> Iterator[SinkSpec]:
    register_sink(TOY)
    BOXES.clear()
    try:
        yield TOY
    finally:
        unregister_sink(TOY)


def test_registered_toy_sink_opens_checks_and_keys_like_a_builtin(toy: SinkSpec) -> None:
    assert toy in sink_specs() and "toy" in gta.sinks.SCHEMES
    sink = open_sink("toy://a?label=x", loud="yes")
    assert type(sink).__name__ == "ToySink"
    assert check_sink("toy://a", {})[0].ok
    assert destination_key("toy://a?label=x") == "toy:a"
    positive = r"^toy option refuse_every must be positive, got '0'$"
    with pytest.raises(SinkConfigError, match=positive):
        open_sink("toy://a?refuse_every=0")
    with pytest.raises(SinkConfigError, match=r"^toy option loud='maybe' is not a boolean"):
        open_sink("toy://a", loud="maybe")
    with pytest.raises(SinkConfigError, match=r"unknown toy URL parameter 'colour'; valid: label"):
        open_sink("toy://a?colour=red")


def test_a_scheme_is_not_taken_over_silently(toy: SinkSpec) -> None:
    thief = SinkSpec(name="thief", schemes=("splunk-hec+https",), summary="", url="",
                     options=ToyOptions, open=open_toy)  # fmt: skip
    with pytest.raises(ValueError, match="already registered by 'splunk-hec'"):
        register_sink(thief)
    assert all(spec.name != "thief" for spec in sink_specs())


def test_run_job_through_the_toy_sink_counts_its_rejections(
    toy: SinkSpec, make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(events=60)
    env = emu.env()
    job = Job(name="toy", streams=["flows"], format="nested", sink_url="toy://box?refuse_every=4",
              sink_options={"label": "from-job"}, page_size=25)  # fmt: skip
    client = gta.Client(
        env["SECUREX_CLIENT_ID"], env["SECUREX_CLIENT_PASSWORD"], securex_host=emu.url,
        api_url=emu.url, app_url=emu.url, customer_id=env["GTA_CUSTOMER_ID"],
    )  # fmt: skip
    with client, CheckpointStore(tmp_path / "s.db") as store:
        (result,) = run_job(client, job, store, stop=threading.Event())
        committed = sum(cp.records for cp in store.list())
    kept = BOXES["box"]
    assert result.records > 0 and result.rejected == result.records // 4
    assert len(kept) == result.records - result.rejected
    assert {r["label"] for r in kept} == {"from-job"}
    assert committed == result.records


# -- from outside the process: a package with an entry point, found on PYTHONPATH ----------------
_PLUGIN = """
import json, os
from typing import Any
from gta.sinks import SinkOptions, SinkSpec, Text, option, read_options


class FileBoxOptions(SinkOptions):
    label: Text = option("plugin", "a label kept with each record")


class FileBox:
    def __init__(self, path: str, label: str) -> None:
        self.name, self.rejected = f"filebox:{path}", 0
        self._path, self._label, self._pending = path, label, []

    def write(self, records: Any) -> None:
        self._pending += [{**r, "label": self._label} for r in records]

    def flush(self) -> None:
        with open(self._path, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\\n" for r in self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()


def _open(url: str, options: dict[str, Any]) -> FileBox:
    path, _, query = url[len("filebox:"):].partition("?")
    return FileBox(path, read_options("filebox", FileBoxOptions, query, options).label)


SPEC = SinkSpec(name="filebox", schemes=("filebox",), summary="plugin sink of the tests",
                url="filebox:PATH", options=FileBoxOptions, open=_open, path_scheme=True)
"""


def _install_plugin(root: Path) -> dict[str, str]:
    (root / "gta_filebox.py").write_text(textwrap.dedent(_PLUGIN))
    info = root / "gta_filebox-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gta-filebox\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[gta.sinks]\nfilebox = gta_filebox:SPEC\n")
    broken = root / "gta_broken-0.1.dist-info"  # a plugin that fails must not take gta down
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: gta-broken\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text("[gta.sinks]\nbroken = gta_filebox:NOTHING\n")
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {"PYTHONPATH": path}


def _gta(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gta", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_entry_point_plugin_is_listed_and_exports(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    (tmp_path / "site").mkdir()
    env = _install_plugin(tmp_path / "site")
    listed = _gta("sinks", "list", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "sink plugin broken not loaded: AttributeError" in listed.stderr
    (entry,) = [item for item in json.loads(listed.stdout) if item["schemes"] == ["filebox"]]
    assert entry["options"] == [{"name": "label", "default": "plugin",
                                 "meaning": "a label kept with each record"}]  # fmt: skip
    out = tmp_path / "box.jsonl"
    run = _gta("export", "alerts", "--to", f"filebox:{out}?label=ep", "--state",
               str(tmp_path / "s.db"), "-q", env={**env, **emulator.env()})  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and {row["label"] for row in rows} == {"ep"}
    assert all(row["recordId"] for row in rows)
    bad = _gta(
        "export", "alerts", "--to", f"filebox:{out}?colour=red", env={**env, **emulator.env()}
    )
    assert bad.returncode == 2 and "unknown filebox URL parameter 'colour'" in bad.stderr
