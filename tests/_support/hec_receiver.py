"""A strict Splunk HTTP Event Collector stand-in for tests, served by uvicorn on loopback.

It follows the HEC protocol as documented: ``Authorization: Splunk <token>`` (codes 1-4 with
401/403), gzip bodies, concatenated JSON envelopes (not an array), a 400 naming the bad object in
``invalid-event-number`` *after* indexing the objects before it, ``ackId`` per channel when the
token has indexer acknowledgement on (code 10 without a channel), ``/services/collector/ack``
answering ``true`` once, and ``/services/collector/health`` (code 17). Faults are switched on by
the test: 503 "Server is busy" for the next N posts, records to reject, acks never to confirm.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def _reply(status: int, text: str, code: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"text": text, "code": code, **extra}, status_code=status)


@dataclass
class HecState:
    """What the receiver indexed and saw; tests read it and set the fault switches."""

    tokens: set[str] = field(default_factory=lambda: {"good-token"})
    disabled_tokens: set[str] = field(default_factory=set)
    ack_enabled: bool = False
    indexed: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    gzip_requests: int = 0
    busy_next: int = 0
    reject_record_ids: set[str] = field(default_factory=set)
    never_ack: set[int] = field(default_factory=set)
    next_ack: dict[str, int] = field(default_factory=dict)
    pending_acks: dict[str, set[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def indexed_record_ids(self) -> list[str]:
        with self.lock:
            return [str(e["event"].get("recordId")) for e in self.indexed]


def _auth_error(request: Request, state: HecState) -> JSONResponse | None:
    header = request.headers.get("authorization")
    if header is None:
        return _reply(401, "Token is required", 2)
    scheme, _, token = header.partition(" ")
    if scheme != "Splunk" or not token:
        return _reply(401, "Invalid authorization", 3)
    if token in state.disabled_tokens:
        return _reply(403, "Token disabled", 1)
    if token not in state.tokens:
        return _reply(403, "Invalid token", 4)
    return None


def _split_envelopes(text: str) -> Iterator[tuple[Any, bool]]:
    """Yield (object, ok) for each concatenated JSON value; ok=False at the first bad one."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            yield None, False
            return
        yield obj, True


def build_app(state: HecState) -> Starlette:
    async def health(request: Request) -> JSONResponse:
        return _reply(200, "HEC is healthy", 17)

    async def event(request: Request) -> JSONResponse:
        denied = _auth_error(request, state)
        if denied is not None:
            return denied
        raw = await request.body()
        with state.lock:
            state.requests += 1
            if request.headers.get("content-encoding") == "gzip":
                state.gzip_requests += 1
                raw = gzip.decompress(raw)
            channel = request.headers.get("x-splunk-request-channel") or request.query_params.get(
                "channel"
            )
            if state.ack_enabled and not channel:
                return _reply(400, "Data channel is missing", 10)
            if state.busy_next > 0:
                state.busy_next -= 1
                return _reply(503, "Server is busy", 9)
            text = raw.decode("utf-8")
            if not text.strip():
                return _reply(400, "No data", 5)
            for number, (obj, ok) in enumerate(_split_envelopes(text)):
                if not ok:
                    return _reply(400, "Invalid data format", 6, **{"invalid-event-number": number})
                if not isinstance(obj, dict) or "event" not in obj:
                    return _reply(
                        400, "Event field is required", 12, **{"invalid-event-number": number}
                    )
                if obj["event"] in (None, "", {}, False):
                    return _reply(
                        400, "Event field cannot be blank", 13, **{"invalid-event-number": number}
                    )
                record = obj["event"]
                if isinstance(record, dict) and record.get("recordId") in state.reject_record_ids:
                    return _reply(400, "Invalid data format", 6, **{"invalid-event-number": number})
                state.indexed.append(obj)
            if not state.ack_enabled:
                return _reply(200, "Success", 0)
            assert channel is not None
            ack_id = state.next_ack.get(channel, 0)
            state.next_ack[channel] = ack_id + 1
            state.pending_acks.setdefault(channel, set()).add(ack_id)
            return _reply(200, "Success", 0, ackId=ack_id)

    async def ack(request: Request) -> JSONResponse:
        denied = _auth_error(request, state)
        if denied is not None:
            return denied
        if not state.ack_enabled:
            return _reply(400, "ACK is disabled", 14)
        channel = request.query_params.get("channel") or request.headers.get(
            "x-splunk-request-channel"
        )
        if not channel:
            return _reply(400, "Data channel is missing", 10)
        body = json.loads(await request.body())
        result: dict[str, bool] = {}
        with state.lock:
            pending = state.pending_acks.setdefault(channel, set())
            for ack_id in body.get("acks", []):
                done = ack_id in pending and ack_id not in state.never_ack
                if done:
                    pending.discard(ack_id)  # true is returned once, then forgotten
                result[str(ack_id)] = done
        return JSONResponse({"acks": result})

    return Starlette(
        routes=[
            Route("/services/collector/health", health, methods=["GET"]),
            Route("/services/collector/event", event, methods=["POST"]),
            Route("/services/collector/ack", ack, methods=["POST"]),
        ]
    )


@dataclass
class RunningReceiver:
    state: HecState
    url: str  # sink URL, e.g. splunk-hec+http://127.0.0.1:PORT
    base_url: str  # plain http://127.0.0.1:PORT


@contextmanager
def serve_app(
    app: Any, what: str, *, certfile: str | None = None, keyfile: str | None = None
) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 (a free port, yielded) in a thread for the ``with`` block;
    with a certificate and key it speaks HTTPS. The other stand-ins (Elasticsearch, Sentinel)
    start their servers with this too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11",
                            ssl_certfile=certfile, ssl_keyfile=keyfile)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def run_receiver(
    state: HecState | None = None, *, certfile: str | None = None, keyfile: str | None = None
) -> Iterator[RunningReceiver]:
    """Serve a receiver on 127.0.0.1 (a free port) in a thread for the ``with`` block; with a
    certificate and key it speaks HTTPS."""
    state = state or HecState()
    scheme = "https" if certfile else "http"
    with serve_app(build_app(state), "HEC receiver", certfile=certfile, keyfile=keyfile) as port:
        yield RunningReceiver(
            state, f"splunk-hec+{scheme}://127.0.0.1:{port}", f"{scheme}://127.0.0.1:{port}"
        )
