"""A hostile HTTP server on 127.0.0.1 for deadline and size-limit tests.

The token endpoint answers normally; every other request gets the ``behaviour`` of the server:

- ``drip``: a 200 whose declared 1,000-byte body arrives one byte every ``drip_interval``
  (and after ``stall_after`` seconds, if given, stops coming at all);
- ``big``: a 200 of ``big_bytes`` bytes with its ``Content-Length``;
- ``chunked``: the same bytes chunked, with no length announced;
- ``unauthorized``: a 401 of ``big_bytes`` bytes with its ``Content-Length``;
- ``slow``: a small JSON answer after ``slow_seconds``.

``token_delay`` delays the token endpoint's answer.

Every loop is bounded (``max_seconds``) and stops when the client goes away; ``sent`` counts the
body bytes the server managed to write, ``requests`` the API requests it received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

BLOCK = b"x" * 65536


@dataclass
class Hostile:
    behaviour: str = "drip"
    drip_interval: float = 0.2
    stall_after: float | None = None
    slow_seconds: float = 0.0
    token_delay: float = 0.0
    big_bytes: int = 50 * 1024 * 1024
    max_seconds: float = 15.0
    url: str = ""
    sent: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        return {
            "SECUREX_CLIENT_ID": "hostile-client",
            "SECUREX_CLIENT_PASSWORD": "hostile-password",
            "SECUREX_VISIBILITY_HOST_NAME": self.url,
            "GTA_API_URL": self.url,
            "GTA_APP_URL": self.url,
            "GTA_CUSTOMER_ID": "CTA000000042",
        }

    def count(self, n: int) -> None:
        with self.lock:
            self.sent += n


def _handler(spec: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            if self.path.startswith("/iroh/oauth2/token"):
                time.sleep(spec.token_delay)
                body = orjson.dumps(
                    {"access_token": "t0k", "token_type": "bearer", "expires_in": 600}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.do_GET()

        def do_GET(self) -> None:
            with spec.lock:
                spec.requests += 1
            deadline = time.monotonic() + spec.max_seconds
            self.send_response(401 if spec.behaviour == "unauthorized" else 200)
            self.send_header("Content-Type", "application/json")
            try:
                if spec.behaviour == "drip":
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    started = time.monotonic()
                    for _ in range(1000):
                        if time.monotonic() > deadline:
                            break
                        if spec.stall_after is not None and (
                            time.monotonic() - started > spec.stall_after
                        ):
                            time.sleep(max(0.0, deadline - time.monotonic()))
                            break
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        spec.count(1)
                        time.sleep(spec.drip_interval)
                elif spec.behaviour == "slow":
                    time.sleep(spec.slow_seconds)
                    body = b'{"id": "a1"}'
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif spec.behaviour in ("big", "unauthorized"):
                    self.send_header("Content-Length", str(spec.big_bytes))
                    self.end_headers()
                    self._blocks(deadline, chunked=False)
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self._blocks(deadline, chunked=True)
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client went away: what these tests expect it to do
            self.close_connection = True

        def _blocks(self, deadline: float, *, chunked: bool) -> None:
            left = spec.big_bytes
            while left > 0 and time.monotonic() < deadline:
                block = BLOCK[: min(left, len(BLOCK))]
                if chunked:
                    self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                else:
                    self.wfile.write(block)
                spec.count(len(block))
                left -= len(block)

    return Handler


@contextmanager
def hostile(**settings: object) -> Iterator[Hostile]:
    spec = Hostile(**settings)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(spec))
    server.daemon_threads = True
    spec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield spec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
