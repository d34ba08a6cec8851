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


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's default transport, its socket operations bounded by the current deadline."""

    def __init__(self) -> None:
        super().__init__()
        pool = self._pool
        # httpx builds a plain pool when no proxy is given; httpcore takes the backend only in
        # its constructor, so the one it made is wrapped in place.
        if isinstance(pool, httpcore.ConnectionPool):
            pool._network_backend = _BoundedBackend(pool._network_backend)
