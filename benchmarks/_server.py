"""The emulator as a separate process on loopback, one per backlog size.

It runs as ``gta emulator serve`` (the documented command line, not an in-process thread) so its
CPU is its own and the clients measured against it compete with it only for cores, as a client of
a real server would not. Its database is a file under the data directory, generated on the first
start for a seed and size and reused afterwards (the emulator decides; we only pick the path).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

CREDENTIAL_NAMES = (
    "SECUREX_CLIENT_ID",
    "SECUREX_CLIENT_PASSWORD",
    "SECUREX_VISIBILITY_HOST_NAME",
    "GTA_API_URL",
    "GTA_APP_URL",
    "GTA_CUSTOMER_ID",
)
REQUIRED_NAMES = CREDENTIAL_NAMES[:5]
_ASSIGNMENT = re.compile(
    r"^\s*(?:export\s+|set\s+|\$env:)?(" + "|".join(CREDENTIAL_NAMES) + r")\s*=\s*(.+?)\s*$"
)


class ServerError(RuntimeError):
    """The emulator did not start, or stopped answering."""


def parse_credentials(text: str) -> dict[str, str]:
    """The ``NAME=value`` lines (optionally ``export``-ed and shell-quoted) the emulator prints."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            value = match.group(2)
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value]
            found[match.group(1)] = parts[0] if parts else ""
    return found


def gta_command() -> list[str]:
    """The ``gta`` console script of this interpreter's environment."""
    exe = Path(sys.executable).parent / "gta"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from gta.cli import main; main()"]


class EmulatorServer:
    """``gta emulator serve`` on 127.0.0.1 with a file database; a context manager."""

    def __init__(
        self,
        *,
        events: int,
        seed: int,
        db_path: Path,
        log_dir: Path,
        startup_timeout_s: float,
    ) -> None:
        self.events = events
        self.seed = seed
        self.db_path = db_path
        self.log_dir = log_dir
        self.startup_timeout_s = startup_timeout_s
        self.url = ""
        self.credentials: dict[str, str] = {}
        self.startup_s = 0.0
        self.db_existed = False
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def command(self) -> list[str]:
        return [
            *gta_command(),
            "emulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",  # the emulator binds a free port itself and prints its URL: no race
            "--seed",
            str(self.seed),
            "--events",
            str(self.events),
            "--db",
            str(self.db_path),
        ]

    def start(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.db_existed = self.db_path.exists()
        out_path = self.log_dir / f"emulator-{self.events}.out"
        err_path = self.log_dir / f"emulator-{self.events}.err"
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
        started = time.perf_counter()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            self._proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env
            )
        deadline = started + self.startup_timeout_s
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = err_path.read_text("utf-8", "replace")[-1500:].strip()
                raise ServerError(f"the emulator exited with code {code} while starting: {tail}")
            printed = out_path.read_text("utf-8", "replace") + err_path.read_text(
                "utf-8", "replace"
            )
            self.credentials = parse_credentials(printed)
            if all(name in self.credentials for name in REQUIRED_NAMES):
                self.url = self.credentials["GTA_API_URL"].rstrip("/")
                if self._answers():
                    break
            if time.perf_counter() > deadline:
                self.stop()
                missing = [n for n in REQUIRED_NAMES if n not in self.credentials]
                what = f"it printed no {', '.join(missing)}" if missing else "it did not answer"
                raise ServerError(
                    f"the emulator did not start in {self.startup_timeout_s:.0f} s: {what}"
                )
            time.sleep(0.2)
        self.startup_s = time.perf_counter() - started

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/_emulator/stats", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def set_latency(self, latency_ms: int) -> None:
        """Add ``latency_ms`` to every response (the emulator's latency fault); 0 removes it."""
        response = httpx.put(
            self.url + "/_emulator/faults", json={"latency_ms": latency_ms}, timeout=30.0
        )
        if response.status_code >= 300:
            raise ServerError(
                f"PUT /_emulator/faults answered {response.status_code}: {response.text[:300]}"
            )

    def stats(self) -> dict[str, object]:
        response = httpx.get(self.url + "/_emulator/stats", timeout=30.0)
        response.raise_for_status()
        data: dict[str, object] = response.json()
        return data

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
