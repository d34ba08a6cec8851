"""Servers for the corporate-network tests, on loopback, each stopping at the end of its block.

- :func:`forward_proxy`: an HTTP proxy that relays absolute-form requests (``GET http://...``,
  the answer streamed as it comes) and ``CONNECT`` tunnels, counting what it relayed; with
  ``credentials`` it answers 407 unless ``Proxy-Authorization`` carries them.
- :func:`tls_emulator`: the emulator served over TLS with a certificate of a trustme CA.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import trustme
import uvicorn

from gta.emulator import EmulatorSettings, RunningEmulator
from gta.emulator._app import create_app
from gta.emulator._server import bind

_HOP_HEADERS = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


@dataclass
class ProxyStats:
    url: str = ""
    relayed: int = 0  # absolute-form requests relayed
    tunnels: int = 0  # CONNECT tunnels opened
    refused: int = 0  # 407 answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return self.relayed + self.tunnels


def _handler(stats: ProxyStats, credentials: str | None) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _authorised(self) -> bool:
            if expected is None or self.headers.get("Proxy-Authorization") == expected:
                return True
            with stats.lock:
                stats.refused += 1
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False

        def do_CONNECT(self) -> None:
            if not self._authorised():
                return
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            with stats.lock:
                stats.tunnels += 1
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            deadline = time.monotonic() + 60
            client = self.connection
            try:
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([client, upstream], [], [], 0.5)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)
            except OSError:
                return
            finally:
                upstream.close()

        def _relay(self) -> None:
            if not self._authorised():
                return
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            path = target.path + (f"?{target.query}" if target.query else "")
            with stats.lock:
                stats.relayed += 1
            upstream.request(self.command, path or "/", body=body, headers=headers)
            answer = upstream.getresponse()
            self.send_response(answer.status, answer.reason)
            declared = answer.getheader("Content-Length")
            for key, value in answer.getheaders():
                if key.lower() not in _HOP_HEADERS | {"transfer-encoding"}:
                    self.send_header(key, value)
            if declared is None:  # chunked upstream: read it whole, then announce its length
                content = answer.read()
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            else:  # stream as it comes (a dripping server stays a dripping server)
                self.end_headers()
                while chunk := answer.read1(65536):
                    self.wfile.write(chunk)
                    self.wfile.flush()
            upstream.close()

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _relay

    return Handler


@contextlib.contextmanager
def forward_proxy(credentials: str | None = None) -> Iterator[ProxyStats]:
    """A proxy on 127.0.0.1; ``credentials`` (``user:pass``) makes it require them."""
    stats = ProxyStats()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stats, credentials))
    server.daemon_threads = True
    stats.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield stats
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TlsEmulator:
    running: RunningEmulator
    url: str
    ca_file: Path

    def env(self) -> dict[str, str]:
        return {
            "SECUREX_CLIENT_ID": self.running.client_id,
            "SECUREX_CLIENT_PASSWORD": self.running.client_password,
            "SECUREX_VISIBILITY_HOST_NAME": self.url,
            "GTA_API_URL": self.url,
            "GTA_APP_URL": self.url,
            "GTA_CUSTOMER_ID": self.running.customer_id,
        }


@contextlib.contextmanager
def tls_emulator(directory: Path) -> Iterator[TlsEmulator]:
    """The emulator over TLS (``https://localhost:PORT``), its certificate from a fresh CA whose
    PEM is ``directory/ca.pem``."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    chain = directory / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    app = create_app(EmulatorSettings(seed=1, events=200))
    state = app.state.emulator
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        app,
        http="h11",
        lifespan="on",
        log_level="warning",
        access_log=False,
        ssl_certfile=str(chain),
        ssl_keyfile=str(chain),
        date_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the TLS emulator did not start")
            time.sleep(0.01)
        port = sock.getsockname()[1]
        url = f"https://localhost:{port}"
        running = RunningEmulator(url, app, list(state.store.identities))
        yield TlsEmulator(running, url, ca_file)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        state.store.close()
