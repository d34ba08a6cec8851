"""The JSON lines sink: appends, fsyncs on flush, rotates by size, fails in one line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from gta.sinks import SinkConfigError, SinkError, open_sink
from gta.sinks._jsonl import JsonlFileSink, JsonlStdoutSink, open_jsonl
from gta.sync import CheckpointStore


def read(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_appends_across_opens_one_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with open_sink(str(path)) as sink:  # type: ignore[attr-defined]
        sink.write([{"a": 1}, {"b": "é"}])
        sink.flush()
    with open_sink(f"jsonl:{path}") as sink:  # type: ignore[attr-defined]
        sink.write([{"c": [1, 2]}])
    assert read(path) == [{"a": 1}, {"b": "é"}, {"c": [1, 2]}]


def test_one_write_per_batch_and_fsync_on_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_write, real_fsync = os.write, os.fsync
    monkeypatch.setattr(os, "write", lambda fd, data: calls.append("write") or real_write(fd, data))
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
    sink = JsonlFileSink(tmp_path / "x.jsonl")
    sink.write([{"n": i} for i in range(500)])
    assert calls == ["write"]
    sink.flush()
    sink.flush()  # nothing new: no second fsync
    assert calls == ["write", "fsync", "fsync"]  # the file, then the directory that got its name
    sink.close()


def test_rotation_keeps_every_record_and_bounds_file_size(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "r.jsonl"
    sink = open_jsonl(str(path), {"rotate_bytes": 200})
    for batch in range(10):
        sink.write([{"batch": batch, "pad": "x" * 40}])
        sink.flush()
    sink.close()
    files = sorted(folder.iterdir(), key=lambda p: (len(p.name), p.name))
    assert len(files) > 2
    rows = [r for f in [*files[1:], files[0]] for r in read(f)]
    assert sorted(r["batch"] for r in rows) == list(range(10))  # type: ignore[type-var]
    assert all(f.stat().st_size <= 200 for f in files)


def test_stdout_sink_writes_lines_and_flushes() -> None:
    buffer = io.BytesIO()
    sink = JsonlStdoutSink(buffer)
    sink.write([{"x": 1}, {"y": None}])
    sink.flush()
    assert buffer.getvalue() == b'{"x":1}\n{"y":null}\n'
    assert open_sink("-").name == "jsonl:-"


@pytest.mark.parametrize(
    ("make_url", "fragment"),
    [
        (lambda d: str(d / "missing" / "out.jsonl"), "does not exist"),
        (lambda d: str(d), "is a directory"),
        (lambda d: str(d / "afile" / "out.jsonl"), "not a directory"),
    ],
)
def test_bad_paths_are_one_line_config_errors(tmp_path: Path, make_url, fragment: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "afile").write_text("")
    with pytest.raises(SinkConfigError) as info:
        open_sink(make_url(tmp_path))
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_read_only_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root ignores permission bits; sysfs refuses new files even to root
        if not Path("/sys/kernel").is_dir():
            pytest.skip("needs a non-root user or Linux sysfs")
        with pytest.raises(SinkConfigError, match="permission denied") as info:
            open_sink("/sys/kernel/gta-test.jsonl")
        assert "\n" not in str(info.value)
        return
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SinkConfigError, match="permission denied"):
            open_sink(str(tmp_path / "out.jsonl"))
    finally:
        tmp_path.chmod(0o700)


def test_options_are_checked() -> None:
    with pytest.raises(SinkConfigError, match="unknown jsonl sink option"):
        open_jsonl("-", {"color": True})
    with pytest.raises(SinkConfigError, match="stdout"):
        open_jsonl("-", {"rotate_bytes": 10})
    with pytest.raises(SinkConfigError, match="positive"):
        open_jsonl("/tmp/x.jsonl", {"rotate_bytes": 0})


def test_torn_last_line_from_a_killed_writer_stays_alone(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":')  # killed in the middle of a batch
    sink = open_jsonl(str(path), {})
    sink.write([{"c": 3}])
    sink.close()
    lines = path.read_bytes().splitlines()
    assert lines == [b'{"a":1}', b'{"b":', b'{"c":3}']


def test_stdout_export_into_a_reader_that_closes_early_fails_and_keeps_the_checkpoint(
    make_emulator: Any, tmp_path: Path
) -> None:
    """`gta export ... --output - | head -c 100`: the records never reached anyone, so the run
    must fail (one line, exit 1) and the checkpoint must not move past them."""
    emu = make_emulator(seed=2, events=1500)
    state = tmp_path / "p1.db"
    cmd = [
        sys.executable, "-c", "from gta.cli import main; main()",
        "export", "events", "--output", "-", "-q", "--state", str(state),
    ]  # fmt: skip
    env = {**os.environ, **emu.env()}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(100)
    proc.stdout.close()  # the reader goes away, like `head -c 100`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    rc = proc.wait(timeout=60)
    assert len(head) == 100
    assert rc == 1, err
    lines = [line for line in err.strip().splitlines() if " WARNING " not in line]  # data gaps
    assert len(lines) == 1 and lines[0].startswith("error: writing to stdout failed"), err
    with CheckpointStore(state) as store:
        delivered = sum(cp.records for cp in store.list())
    assert delivered == 0  # not one whole page reached the reader


def test_stdout_sink_refuses_a_short_write() -> None:
    class Short(io.BytesIO):
        def fileno(self) -> int:
            raise io.UnsupportedOperation("no fd")

        def write(self, data: Any) -> int:
            return super().write(bytes(data)[:5])

    sink = JsonlStdoutSink(Short())  # type: ignore[arg-type]
    with pytest.raises(SinkError, match="only 5 of"):
        sink.write([{"x": 1}])


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace os.fsync with one that notes what each fd points at, then fsyncs."""
    seen: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name fds")
def test_a_created_file_has_its_directory_fsynced_before_flush_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _record_fsyncs(monkeypatch)
    path = tmp_path / "new.jsonl"
    sink = JsonlFileSink(path)
    sink.write([{"a": 1}])
    sink.flush()
    assert str(path) in seen and str(tmp_path) in seen
    seen.clear()
    sink.write([{"a": 2}])
    sink.flush()
    assert seen == [str(path)]  # once is enough
    sink.close()

    seen.clear()
    with JsonlFileSink(path) as again:  # the file exists: no directory entry to make durable
        again.write([{"a": 3}])
        again.flush()
        assert seen == [str(path)]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name fds")
def test_the_file_a_rotation_starts_is_made_durable_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.jsonl"
    sink = JsonlFileSink(path, rotate_bytes=20)
    sink.write([{"batch": 0}])
    sink.flush()
    seen = _record_fsyncs(monkeypatch)
    sink.write([{"batch": 1}])  # rotates: r.jsonl -> r.jsonl.1, a new r.jsonl
    assert (tmp_path / "r.jsonl.1").exists()
    seen.clear()
    sink.flush()
    assert seen == [str(path), str(tmp_path)]
    sink.close()
