"""Running the emulator: on a loopback port in a background thread (tests), or in the foreground."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from gta.emulator._admin import check_admin_exposure
from gta.emulator._app import create_app
from gta.emulator._settings import CustomerIdentity, EmulatorSettings
from gta.emulator._state import EmulatorState

_START_TIMEOUT_S = 600.0


@dataclass
class RunningEmulator:
    """A started emulator: where it listens and how a client reaches it."""

    url: str
    app: FastAPI
    customers: list[CustomerIdentity] = field(repr=False)

    @property
    def client_id(self) -> str:
        return self.customers[0].client_id

    @property
    def client_password(self) -> str:
        return self.customers[0].client_password

    @property
    def customer_id(self) -> str:
        return self.customers[0].customer_id

    @property
    def state(self) -> EmulatorState:
        state = self.app.state.emulator
        assert isinstance(state, EmulatorState)
        return state

    def env(self, customer: int = 0) -> dict[str, str]:
        """The environment a client needs (vendor variable names plus ours)."""
        return client_env(self.url, self.customers[customer])


def client_env(url: str, who: CustomerIdentity) -> dict[str, str]:
    return {
        "SECUREX_CLIENT_ID": who.client_id,
        "SECUREX_CLIENT_PASSWORD": who.client_password,
        "SECUREX_VISIBILITY_HOST_NAME": url,
        "GTA_API_URL": url,
        "GTA_APP_URL": url,
        "GTA_CUSTOMER_ID": who.customer_id,
    }


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so port 0 gives a known free port before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every two-write response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server_config(app: FastAPI, log_level: str = "warning") -> uvicorn.Config:
    # h11 explicitly: the dropped-connection fault relies on its behaviour (see _faults).
    return uvicorn.Config(
        app,
        http="h11",
        lifespan="on",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        date_header=False,  # the app sends the emulated clock's Date (see _server_date)
    )


@contextlib.contextmanager
def run_in_thread(
    settings: EmulatorSettings | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Serve an emulator in a background thread until the block ends, then stop it cleanly."""
    settings = settings or EmulatorSettings()
    token = settings.admin_token
    check_admin_exposure(host, None if token is None else token.get_secret_value())
    app = create_app(settings)
    state = app.state.emulator
    try:
        sock = bind(host, port)
    except BaseException:
        state.store.close()
        raise
    server = uvicorn.Server(server_config(app))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="gta-emulator", daemon=True
    )
    try:
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        yield RunningEmulator(url_of(sock), app, list(state.store.identities))
    finally:
        server.should_exit = True
        if thread.is_alive():
            thread.join(timeout=30)
        sock.close()
        state.store.close()
