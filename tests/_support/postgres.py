"""A throw-away PostgreSQL cluster for the state tests (or ``GTA_TEST_POSTGRES_URL``).

``initdb`` + ``pg_ctl`` from ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``, run as an
unprivileged user when we are root (``runuser -u nobody``), with the data directory and the unix
socket in a fresh temporary folder and TCP on a free loopback port. The superuser ``gta`` has a
password (scram-sha-256 over TCP); the session exports ``PGPASSFILE`` naming a pgpass file with
it, as an operator's ``~/.pgpass`` would. Each test gets its own database.

Missing binaries skip the PostgreSQL tests, unless ``GTA_POSTGRES_TEST=required`` (CI): then they
fail. Nothing here assumes a server is already running.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PASSWORD = "pg-test-" + uuid.uuid4().hex[:12]
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class PostgresServer:
    """A server we may create databases on: ``admin_url`` reaches its maintenance database."""

    admin_url: str
    host: str
    port: int
    password: str | None

    def url(self, database: str, user: str | None = None) -> str:
        parts = urlsplit(self.admin_url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        name = user or (parts.username or "")
        return urlunsplit(
            (parts.scheme, f"{name}@{netloc}" if name else netloc, "/" + database, parts.query, "")
        )

    def admin(self) -> Any:
        return self.connect(self.admin_url)

    def connect(self, url: str) -> Any:
        """An autocommit connection as the admin role to ``url`` (whatever PGPASSFILE says)."""
        import psycopg

        extra = {"password": self.password} if self.password else {}
        return psycopg.connect(url, autocommit=True, connect_timeout=10, **extra)

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database (its URL), dropped afterwards."""
        name = "gta_t_" + uuid.uuid4().hex[:16]
        conn = self.admin()
        try:
            conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        try:
            yield self.url(name)
        finally:
            conn = self.admin()
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                conn.close()


def required() -> bool:
    return os.environ.get("GTA_POSTGRES_TEST") == "required"


def find_bindir() -> Path | None:
    candidates: list[str] = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PostgresServer]:
    """Start a cluster (see the module doc); stop it and remove its folder afterwards.
    RuntimeError when it cannot (the caller skips or fails)."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found")
    base = Path(tempfile.mkdtemp(prefix="gta-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(base, "nobody")
    data, sock, log = base / "data", base / "sock", base / "log"
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    sock.mkdir()
    if as_user:
        for path in (pwfile, sock):
            shutil.chown(path, "nobody")
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run(
            [*as_user, *args], capture_output=True, text=True, timeout=START_TIMEOUT_S, cwd=base
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "gta", f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
            "--no-sync")  # fmt: skip
        options = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
            "-t", str(START_TIMEOUT_S), "start")  # fmt: skip
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"cannot start a throw-away PostgreSQL: {exc}") from None
    passfile = base / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:gta:{PASSWORD}\n")
    passfile.chmod(0o600)
    before = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(passfile)
    try:
        yield PostgresServer(
            f"postgresql://gta@127.0.0.1:{port}/postgres", "127.0.0.1", port, PASSWORD
        )
    finally:
        if before is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = before
        with contextlib.suppress(OSError, subprocess.SubprocessError, RuntimeError):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """``GTA_TEST_POSTGRES_URL`` (a role that may create databases), else a throw-away cluster."""
    given = os.environ.get("GTA_TEST_POSTGRES_URL")
    if given:
        parts = urlsplit(given)
        yield PostgresServer(given, parts.hostname or "", parts.port or 5432, None)
        return
    with throwaway_cluster() as server:
        yield server
