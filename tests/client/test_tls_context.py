"""The client's own transport reads a CA bundle only when it speaks TLS.

Building a TLS context (certifi's bundle, or ``SSL_CERT_FILE``) costs 25-50 ms, a good part of a
command's start-up; a client of ``http://`` URLs (the emulator) never needs one. An https
request still gets a context made exactly as httpx makes it, verifying certificates.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from gta.client import Client, ConfigurationError
from gta.client._sockets import DeadlineTransport
from gta.emulator import RunningEmulator


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback with a throw-away CA: (its URL, the CA's PEM file)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", ca_file
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _transport(client: Client) -> DeadlineTransport:
    transport = client._http._transport
    assert isinstance(transport, DeadlineTransport)
    return transport


def test_an_http_client_reads_no_ca_bundle(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CA file that cannot load would fail any TLS context made: none is.
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    with Client.from_env(emulator.env()) as client:
        assert len(list(client.alerts.list(size=3).raw())) > 0
        assert not _transport(client).tls_ready


def test_an_https_client_loads_its_ca_bundle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    with pytest.raises(ConfigurationError, match=r"SSL_CERT_FILE=/nonexistent/ca\.pem"):
        Client("c", "p", securex_host="https://127.0.0.1:9", customer_id="CTA1")
    monkeypatch.delenv("SSL_CERT_FILE")
    with Client("c", "p", securex_host="http://127.0.0.1:9", customer_id="CTA1") as client:
        assert _transport(client).tls_ready  # api_url and app_url are https by default


def test_an_https_request_gets_a_verifying_context_when_it_comes(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file = https_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        httpx.Client(transport=DeadlineTransport(tls=False), timeout=10) as http,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        http.get(url)  # certifi's bundle does not know the throw-away CA
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # read when the TLS pool is made
    transport = DeadlineTransport(tls=False)
    with httpx.Client(transport=transport, timeout=10) as http:
        assert not transport.tls_ready
        response = http.get(url)
        assert (response.status_code, response.text) == (200, "hello")
        assert transport.tls_ready
