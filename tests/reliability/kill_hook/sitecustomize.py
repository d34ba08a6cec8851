"""Crash injection for the reliability suite, loaded by a ``gta`` child process through
``PYTHONPATH`` (Python imports ``sitecustomize`` at start-up). Inert unless ``GTA_REL_KILL`` is
set, and it never touches gta's code: it wraps ``os.fsync``/``os.write`` on the output file and
the SQLite ``COMMIT`` of the state file, and SIGKILLs its own process at the chosen instant.

``GTA_REL_KILL=WHERE:NTH:PHASE:DELAY_US``
- WHERE: ``fsync`` or ``write`` (calls on the file ``GTA_REL_KILL_OUT``), ``commit`` (a
  ``COMMIT`` on the SQLite file ``GTA_REL_KILL_STATE``);
- NTH: kill at the NTH matching call;
- PHASE: ``before`` the call, ``during`` it (a timer thread fires DELAY_US microseconds after the
  call starts; if the call ended first the process dies right after it), ``after`` it, or
  ``torn`` (write only: write a prefix of the buffer, then die, as a power cut would leave it).
Before dying it writes ``REL-KILL WHERE PHASE LANDED`` to stderr (LANDED: ``before-call``,
``inside-call``, ``after-call`` or ``mid-write``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from typing import Any

_SPEC = os.environ.get("GTA_REL_KILL")


def _die(where: str, phase: str, landed: str) -> None:
    try:
        os.write(2, f"REL-KILL {where} {phase} {landed}\n".encode())
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def _install(spec: str) -> None:
    where, nth_text, phase, delay_text = spec.split(":")
    nth, delay = int(nth_text), int(delay_text) / 1e6
    out = os.path.realpath(os.environ.get("GTA_REL_KILL_OUT", "/nonexistent"))
    state = os.path.realpath(os.environ.get("GTA_REL_KILL_STATE", "/nonexistent"))
    calls = [0]
    lock = threading.Lock()

    def hit() -> bool:
        with lock:
            calls[0] += 1
            return calls[0] == nth

    def around(call: Any, *args: Any) -> Any:
        if phase == "before":
            _die(where, phase, "before-call")
        if phase == "during":
            in_call = threading.Event()
            in_call.set()

            def fire() -> None:
                _die(where, phase, "inside-call" if in_call.is_set() else "after-call")

            timer = threading.Timer(delay, fire)
            timer.daemon = True
            timer.start()
            call(*args)
            in_call.clear()
            _die(where, phase, "after-call")
        call(*args)
        _die(where, phase, "after-call")

    def is_out(fd: int) -> bool:
        try:
            return os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")) == out
        except OSError:
            return False

    if where == "fsync":
        real_fsync = os.fsync

        def fsync(fd: Any) -> None:
            if isinstance(fd, int) and is_out(fd) and hit():
                around(real_fsync, fd)
            real_fsync(fd)

        os.fsync = fsync
    elif where == "write":
        real_write = os.write

        def write(fd: int, data: Any) -> int:
            if is_out(fd) and hit():
                if phase == "torn":
                    view = memoryview(data)
                    real_write(fd, view[: max(1, len(view) * (int(delay_text) % 97 + 1) // 100)])
                    _die(where, phase, "mid-write")
                around(real_write, fd, data)
            return real_write(fd, data)

        os.write = write
    elif where == "commit":
        real_connect = sqlite3.connect

        class Connection(sqlite3.Connection):
            def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
                if sql.strip().upper() == "COMMIT" and hit():
                    around(super().execute, sql, *args)
                return super().execute(sql, *args)

        def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            if os.path.realpath(str(database)) == state and "factory" not in kwargs:
                kwargs["factory"] = Connection
            return real_connect(database, *args, **kwargs)

        sqlite3.connect = connect  # type: ignore[assignment]
    else:
        raise SystemExit(f"GTA_REL_KILL: unknown place {where!r}")


if _SPEC:
    _install(_SPEC)
