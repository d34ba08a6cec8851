"""JSON lines: to a file (appended, fsync'ed on flush, optional size rotation) or to stdout.

A batch is encoded with orjson into one buffer and handed to the OS in one ``write`` call, so a
crash leaves whole batches or a torn last line, never interleaved fragments. The file is opened
with ``O_APPEND``: a second writer (a mistake, but possible) appends rather than overwrites.
``flush`` returns only after ``fsync``, which is what lets the engine commit a checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from gta.sinks._base import Record, SinkConfigError, SinkError

_OPTION = orjson.OPT_APPEND_NEWLINE


def encode_batch(records: Sequence[Record]) -> bytes:
    """The records as JSON lines, newline-terminated, in one buffer."""
    return b"".join(orjson.dumps(r, option=_OPTION) for r in records)


class JsonlFileSink:
    """Appends JSON lines to a file.

    With ``rotate_bytes``, a batch that would grow the file past that size starts a new file; the
    full one is renamed ``NAME.1``, ``NAME.2``, ... (oldest first)."""

    def __init__(self, path: str | os.PathLike[str], *, rotate_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.name = f"jsonl:{self.path}"
        self.rejected = 0  # a file takes every record
        if rotate_bytes is not None and rotate_bytes <= 0:
            raise SinkConfigError(f"rotate_bytes must be a positive number, got {rotate_bytes}")
        self._rotate_bytes = rotate_bytes
        self._fd: int | None = None
        self._size = 0
        self._dirty = False
        self._dir_unsynced = False  # we created the file; its directory entry is not durable yet
        self._created = False  # this sink made the file (so it may remove it while still empty)
        self._open()

    def _open(self) -> None:
        flags = os.O_RDWR | os.O_APPEND
        try:
            try:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o644)
                created = True
            except FileExistsError:
                fd = os.open(self.path, flags | os.O_CREAT, 0o644)
                created = False
        except FileNotFoundError:
            if self.path.parent.is_dir():  # e.g. a virtual filesystem that creates no files
                raise SinkConfigError(f"cannot create {self.path} in that directory") from None
            raise SinkConfigError(
                f"cannot write {self.path}: directory {self.path.parent} does not exist"
            ) from None
        except IsADirectoryError:
            raise SinkConfigError(f"cannot write {self.path}: it is a directory") from None
        except NotADirectoryError:
            raise SinkConfigError(
                f"cannot write {self.path}: a parent is not a directory"
            ) from None
        except PermissionError:
            raise SinkConfigError(f"cannot write {self.path}: permission denied") from None
        except OSError as exc:
            raise SinkConfigError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._fd = fd
        self._created = created
        if created:
            # fsync of the file does not make its name durable: the directory is fsync'ed too,
            # at the next flush (before a checkpoint can count on the file).
            self._dir_unsynced = True
            self._dirty = True
        self._size = os.fstat(fd).st_size
        if self._size and os.pread(fd, 1, self._size - 1) != b"\n":
            # A process killed mid-write left a torn last line. Start on a fresh line so the
            # fragment stays alone (readers skip it) and the re-delivered batch stays intact.
            os.write(fd, b"\n")
            self._size += 1
            self._dirty = True

    def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        data = encode_batch(records)
        if (
            self._rotate_bytes is not None
            and self._size
            and self._size + len(data) > self._rotate_bytes
        ):
            self._rotate()
        fd = self._require_fd()
        view = memoryview(data)
        try:
            while view:  # os.write may write less than asked (signals, full pipes)
                written = os.write(fd, view)
                view = view[written:]
        except OSError as exc:
            raise SinkError(f"writing {self.path} failed: {exc.strerror or exc}") from None
        self._size += len(data)
        self._dirty = True

    def flush(self) -> None:
        if self._fd is None or not self._dirty:
            return
        try:
            os.fsync(self._fd)
            if self._dir_unsynced:
                _fsync_dir(self.path.parent)
                self._dir_unsynced = False
        except OSError as exc:
            raise SinkError(f"fsync of {self.path} failed: {exc.strerror or exc}") from None
        self._dirty = False

    def close(self) -> None:
        """Flush and close; a file this sink created and never wrote to is removed, so a run
        that failed before its first record leaves no empty file behind."""
        if self._fd is None:
            return
        try:
            if self._created and self._size == 0:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                self._dirty = self._dir_unsynced = False
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = None

    def _require_fd(self) -> int:
        if self._fd is None:
            raise SinkError(f"{self.name} is closed")
        return self._fd

    def _rotate(self) -> None:
        """Make the current file durable, move it aside, start an empty one."""
        self.close()
        number = 1
        while self.path.with_name(f"{self.path.name}.{number}").exists():
            number += 1
        try:
            os.rename(self.path, self.path.with_name(f"{self.path.name}.{number}"))
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise SinkError(f"rotating {self.path} failed: {exc.strerror or exc}") from None
        self._open()

    def __enter__(self) -> JsonlFileSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)


class JsonlStdoutSink:
    """JSON lines on standard output, e.g. for a Splunk scripted input. ``flush`` flushes the
    stream: what the reading process does with it afterwards is beyond our reach.

    A stream backed by a file descriptor (stdout, a pipe) is written with ``os.write`` in a loop,
    like the file sink: a buffered ``write`` to a pipe whose reader went away can report fewer
    bytes than asked without raising, and the checkpoint would then move past records nobody
    received. Any short or failed write (``EPIPE`` included) is a ``SinkError``."""

    name = "jsonl:-"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.rejected = 0  # stdout takes every record
        self._stream = stream if stream is not None else sys.stdout.buffer

    def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        data = encode_batch(records)
        try:
            fd = self._fileno()
            if fd is None:
                written = self._stream.write(data)
                if written is not None and written < len(data):
                    raise SinkError(
                        f"writing to stdout failed: only {written} of {len(data)} bytes written"
                    )
                return
            self._stream.flush()  # whatever the buffer holds goes first, in order
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except (OSError, ValueError) as exc:
            reason = "the reader closed the pipe" if isinstance(exc, BrokenPipeError) else exc
            raise SinkError(f"writing to stdout failed: {reason}") from None

    def _fileno(self) -> int | None:
        """The stream's file descriptor, or None for an in-memory stream."""
        try:
            return self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            return None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise SinkError(f"flushing stdout failed: {exc}") from None

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> JsonlStdoutSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_jsonl(url: str, options: dict[str, Any]) -> JsonlFileSink | JsonlStdoutSink:
    """Factory for the registry: ``-`` is stdout; ``jsonl:PATH`` or a bare path is a file.
    Options: ``rotate_bytes`` (files only)."""
    from gta.sinks._builtins import JsonlOptions
    from gta.sinks._options import gather_settings, parse_options

    settings = gather_settings("jsonl sink", JsonlOptions, (), options)
    rotate = parse_options("jsonl sink", JsonlOptions, settings).rotate_bytes
    target = url[len("jsonl:") :] if url.startswith("jsonl:") else url
    if not target:
        raise SinkConfigError("jsonl sink needs a path: jsonl:PATH, a file path, or '-' for stdout")
    if target == "-":
        if rotate is not None:
            raise SinkConfigError("rotate_bytes applies to files, not to stdout")
        return JsonlStdoutSink()
    return JsonlFileSink(os.path.expanduser(target), rotate_bytes=rotate)
