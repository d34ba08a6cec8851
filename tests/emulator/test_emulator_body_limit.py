"""Request bodies are bounded, and a token-less body gets its 401 without being read.

Before the guard, FastAPI read the whole body before the token check: a 194 MB request without
a token made the emulator hold it all before its 401. These tests talk raw HTTP over a socket so
they can announce a body and never send it: an answer that comes anyway proves the emulator did
not wait for (or read) the body. A socket timeout bounds every wait.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Callable

import pytest
from emu_http import token

from gta.emulator import RunningEmulator

LIMIT = 64 * 1024
HUGE = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def emu() -> object:
    from gta.emulator import EmulatorSettings, run_in_thread

    with run_in_thread(EmulatorSettings(seed=1, events=200, max_body_bytes=LIMIT)) as running:
        yield running


def _search_path(emu: RunningEmulator) -> str:
    return f"/event-detection/customer/{emu.customer_id}/events/search"


def _connect(emu: RunningEmulator) -> socket.socket:
    host, port = emu.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.settimeout(10)
    return sock


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: emulator", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed without an answer"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return int(status_line.split()[1]), headers, json.loads(rest[:length])


def test_a_declared_oversize_body_is_413_before_it_is_sent(emu: RunningEmulator) -> None:
    bearer = token(emu)
    with _connect(emu) as sock:
        sock.sendall(
            _head(
                _search_path(emu),
                {"Authorization": f"Bearer {bearer}", "Content-Length": str(HUGE)},
            )
        )
        status, headers, body = _response(sock)  # no byte of the body was ever sent
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 413 and str(LIMIT) in str(body["detail"])


def test_a_chunked_body_is_cut_at_the_limit(emu: RunningEmulator) -> None:
    bearer = token(emu)
    piece = b"x" * 16384
    sent = 0
    with _connect(emu) as sock:
        sock.sendall(
            _head(
                _search_path(emu),
                {"Authorization": f"Bearer {bearer}", "Transfer-Encoding": "chunked"},
            )
        )
        # Send until the emulator answers; it must do so soon after the limit, not at the end.
        while sent < 64 * LIMIT:
            # A short wait per piece: the kernel's buffers alone would take megabytes at once.
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable:
                break
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            except OSError:
                break
            sent += len(piece)
        status, headers, body = _response(sock)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 413
    assert sent < 16 * LIMIT


def test_a_body_within_the_limit_is_served(emu: RunningEmulator) -> None:
    bearer = token(emu)
    payload = json.dumps({"filter": {}}).encode()
    with _connect(emu) as sock:
        sock.sendall(
            _head(
                _search_path(emu),
                {"Authorization": f"Bearer {bearer}", "Content-Length": str(len(payload))},
            )
            + payload
        )
        status, _, body = _response(sock)
    assert status == 200 and "items" in body


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "bearer lower-case-scheme"])
def test_a_token_less_body_gets_401_without_being_read(
    emu: RunningEmulator, authorization: str | None
) -> None:
    headers = {"Content-Length": str(LIMIT)}  # within the limit: only the token is wrong
    if authorization:
        headers["Authorization"] = authorization
    with _connect(emu) as sock:
        sock.sendall(_head(_search_path(emu), headers))  # the body is announced, never sent
        status, answer_headers, body = _response(sock)
    assert status == 401
    assert answer_headers["content-type"] == "application/problem+json"
    assert answer_headers["www-authenticate"].startswith("Bearer")
    assert body["status"] == 401


def test_the_token_endpoint_is_bounded_too(emu: RunningEmulator) -> None:
    with _connect(emu) as sock:
        sock.sendall(_head("/iroh/oauth2/token", {"Content-Length": str(HUGE)}))
        status, _, _ = _response(sock)
    assert status == 413


def test_the_limit_is_a_setting(make_emulator: Callable[..., RunningEmulator]) -> None:
    small = make_emulator(events=50, max_body_bytes=40)
    bearer = token(small)
    payload = json.dumps({"filter": {"securityEventIds": ["a" * 64]}}).encode()
    with _connect(small) as sock:
        sock.sendall(
            _head(
                _search_path(small),
                {"Authorization": f"Bearer {bearer}", "Content-Length": str(len(payload))},
            )
            + payload
        )
        status, _, _ = _response(sock)
    assert status == 413
