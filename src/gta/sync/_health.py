"""The service's HTTP endpoint: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

A small threaded WSGI server (wsgiref, prometheus_client's ``make_wsgi_app`` for the metrics)
on a daemon thread; ``close()`` stops it. It listens on loopback unless the operator names
another host: the address must then be written out (``0.0.0.0:9464``), never implied by an
empty host, because metrics and health say which jobs run and how they fail.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from prometheus_client import make_wsgi_app

from gta.errors import InputError
from gta.sync._metrics import SyncMetrics

__all__ = ["MetricsAddressError", "MetricsServer", "is_loopback", "parse_metrics_address"]

log = logging.getLogger("gta.service")

_ADDRESS = re.compile(r"^(?:(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]]*):)?(?P<port>\d{1,5})$")


class MetricsAddressError(InputError, ValueError):
    """A ``--metrics-address`` that cannot be used (one line)."""


def parse_metrics_address(text: str) -> tuple[str, int]:
    """``PORT`` (loopback), ``HOST:PORT`` or ``[IPV6]:PORT`` as (host, port); port 0 picks a
    free port. An empty host (``:9464``) is refused: to listen beyond this machine, name the
    address (``0.0.0.0:9464``)."""
    match = _ADDRESS.match(text.strip())
    if not match:
        raise MetricsAddressError(
            f"metrics address {text!r} is not HOST:PORT (e.g. 127.0.0.1:9464, or a port alone)"
        )
    port = int(match.group("port"))
    if port > 65535:
        raise MetricsAddressError(f"metrics address {text!r}: port {port} is out of range")
    host = match.group("host")
    if host is None:
        return "127.0.0.1", port
    if not host:
        raise MetricsAddressError(
            f"metrics address {text!r} has no host: give 127.0.0.1:{port} (this machine only) or "
            f"0.0.0.0:{port} (every interface) explicitly"
        )
    return host.strip("[]"), port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in flight never holds the process at exit


class _V6Server(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to the debug log, not raw to stderr (stderr may be JSON lines)."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics endpoint: " + format, *args)


Start = Callable[[str, list[tuple[str, str]]], Any]


class MetricsServer:
    """Serves a ``SyncMetrics`` until ``close()`` (or the end of a ``with`` block)."""

    def __init__(self, metrics: SyncMetrics, host: str, port: int) -> None:
        self._metrics = metrics
        self._prometheus = make_wsgi_app(metrics.registry)
        server_class = _V6Server if ":" in host else _Server
        try:
            self._server = make_server(
                host, port, self._app, server_class=server_class, handler_class=_QuietHandler
            )
        except OSError as exc:
            raise MetricsAddressError(
                f"cannot listen on {host}:{port} for metrics: {exc.strerror or exc}"
            ) from None
        bound = self._server.server_address
        self.host, self.port = str(bound[0]), int(bound[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
            name="gta-metrics", daemon=True,
        )  # fmt: skip
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _app(self, environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, 200, {"status": "up"})
        if path == "/readyz":
            ready, body = self._metrics.readiness()
            return _json(start_response, 200 if ready else 503, body)
        if path == "/metrics":
            result: Iterable[bytes] = self._prometheus(environ, start_response)
            return result
        return _json(start_response, 404, {"error": "not found; try /metrics, /healthz, /readyz"})


def _json(start_response: Start, status: int, body: dict[str, Any]) -> list[bytes]:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    data = orjson.dumps(body)
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
