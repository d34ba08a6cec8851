"""Every blocking socket operation bounded by the deadline of the request in progress.

httpcore looks up a phase's timeout once, when the phase starts: all the reads of a body share
the timeout computed when the body began. A server that sends a byte now and then and then
stalls near the end of the deadline could hold a read for up to that whole timeout past it. The
transport the client builds for itself therefore wraps httpcore's network backend: each read,
write, connect and TLS handshake gets ``min(its timeout, what remains of the deadline)``, the
deadline being the one :func:`bounded_by` installed for the current thread's attempt.

A client you bring (``http_client=``) keeps its own transport: there the phases are bounded
when they start (``_limits.DeadlineTimeouts``) and the body between its chunks.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import typing
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

import httpcore
import httpx

from gta.client._limits import DeadlineTimeouts

__all__ = ["DeadlineTransport", "bounded_by"]

_ACTIVE: ContextVar[DeadlineTimeouts | None] = ContextVar("gta_deadline", default=None)
# httpcore's SOCKET_OPTION, spelled out (it is not exported).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


@contextlib.contextmanager
def bounded_by(timeouts: DeadlineTimeouts) -> Iterator[None]:
    """Bound the socket operations of this thread by ``timeouts``' deadline, inside the block."""
    token = _ACTIVE.set(timeouts)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _capped(timeout: float | None) -> float | None:
    active = _ACTIVE.get()
    if active is None:
        return timeout
    remaining = active.remaining()
    return remaining if timeout is None else min(timeout, remaining)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, _capped(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _capped(timeout), local_address, socket_options
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        return _BoundedStream(
            self._inner.connect_unix_socket(path, _capped(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.BaseTransport):
    """httpx's default transport, its socket operations bounded by the current deadline.

    Plain-http and https requests go to two pools of httpx's own transport. The https pool, and
    with it the TLS context (reading a CA bundle costs 25-50 ms), is made on the first https
    request, or at once with ``tls=True``: a client of ``http://`` URLs (the emulator) never
    reads a CA bundle. The plain pool gets a TLS context with no trust anchors, which it never
    uses (an https request never reaches it; were one to, no certificate could be verified).
    The pools are made under a lock: one client is shared between threads.
    """

    def __init__(self, *, tls: bool = False) -> None:
        self._lock = threading.Lock()
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None
        if tls:
            self._pool_for("https")

    @property
    def tls_ready(self) -> bool:
        """Whether the https pool (and its TLS context) has been made."""
        return self._tls is not None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool_for(request.url.scheme).handle_request(request)

    def close(self) -> None:
        with self._lock:
            made = [pool for pool in (self._plain, self._tls) if pool is not None]
        for pool in made:
            pool.close()

    def _pool_for(self, scheme: str) -> httpx.HTTPTransport:
        tls = scheme != "http"  # https, and anything else: the full transport, as before
        pool = self._tls if tls else self._plain
        if pool is not None:
            return pool
        with self._lock:
            if tls:
                if self._tls is None:
                    self._tls = _bounded(httpx.HTTPTransport())  # reads SSL_CERT_FILE/_DIR
                return self._tls
            if self._plain is None:
                self._plain = _bounded(
                    httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
                )
            return self._plain


def _bounded(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    pool = transport._pool
    # httpx builds a plain pool when no proxy is given; httpcore takes the backend only in its
    # constructor, so the one it made is wrapped in place.
    if isinstance(pool, httpcore.ConnectionPool):
        pool._network_backend = _BoundedBackend(pool._network_backend)
    return transport
