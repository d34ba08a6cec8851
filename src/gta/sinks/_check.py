"""Pre-flight checks of a sink URL (``gta sinks check URL``): can we reach it, is TLS trusted,
is the token accepted, without writing a record anywhere.

- Splunk HEC: ``GET /services/collector/health`` (no token needed) proves reachability and
  TLS; then a ``POST /services/collector/event`` with an empty body checks the token: HEC
  authenticates before it looks at the body, so a valid token gets code 5 "No data" (nothing
  is indexed) and a bad one codes 1-4.
- Syslog TCP/TLS: open the connection (and the TLS handshake) and close it, sending nothing.
  UDP has no handshake, so only name resolution can be checked.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import httpx

from gta.sinks._http_sink import json_object
from gta.sinks._registry import check_sink
from gta.sinks._spec import Check
from gta.sinks._tls import http_verify, tls_context

__all__ = ["Check", "check_hec", "check_sink", "check_syslog", "first_contact"]


def first_contact(
    client: httpx.Client, path: str, base_url: str, verify: bool | str, in_clear: str
) -> tuple[httpx.Response | None, list[Check]]:
    """``GET path``: the reachability and TLS lines of an HTTP sink's report, and the response
    (``None`` when there was none: the report ends there). ``in_clear``: what plain http
    exposes."""
    tls = base_url.startswith("https://")
    try:
        response = client.get(path)
    except httpx.ConnectError as exc:
        trust = "certificate" in str(exc).lower() or "ssl" in str(exc).lower()
        name = "tls" if tls and trust else "reachability"
        return None, [Check(name, False, f"{base_url}: {exc}")]
    except httpx.HTTPError as exc:
        return None, [Check("reachability", False, f"{base_url}: {type(exc).__name__}: {exc}")]
    checks = [Check("reachability", True, f"{base_url} answered")]
    if not tls:
        checks.append(Check("tls", True, f"plain http: no TLS ({in_clear} sent in clear)"))
    elif verify is False:
        checks.append(Check("tls", True, "TLS on, certificate NOT verified (insecure)"))
    else:
        checks.append(Check("tls", True, "TLS on, certificate verified"))
    return response, checks


def check_hec(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._hec_config import TOKEN_ENV, parse_hec_url
    from gta.sinks._splunk_hec import EVENT_PATH, HEALTH_PATH

    config, token = parse_hec_url(url, options)
    verify = http_verify("splunk-hec", config.verify)
    with httpx.Client(base_url=config.base_url, verify=verify, timeout=10.0) as client:
        response, checks = first_contact(
            client, HEALTH_PATH, config.base_url, config.verify, "token"
        )
        if response is None:
            return checks
        body = json_object(response)
        healthy = response.status_code == 200
        checks.append(
            Check("health", healthy, f"HTTP {response.status_code}: {body.get('text', '')}".strip())
        )
        if not token:
            checks.append(Check("token", False, f"no token given (token option or {TOKEN_ENV})"))
            return checks
        headers = {"Authorization": f"Splunk {token}", "X-Splunk-Request-Channel": config.channel}
        try:
            probe = client.post(EVENT_PATH, content=b"", headers=headers)
        except httpx.HTTPError as exc:
            checks.append(Check("token", False, f"request failed: {type(exc).__name__}"))
            return checks
        code = json_object(probe).get("code")
        if probe.status_code in (401, 403) or code in (1, 2, 3, 4):
            checks.append(Check("token", False, f"refused: HTTP {probe.status_code}, code {code}"))
        elif code in (5, 6, 10, 11) or probe.status_code in (200, 400):
            checks.append(Check("token", True, f"accepted (HTTP {probe.status_code}, code {code})"))
        else:
            checks.append(
                Check("token", False, f"unexpected HTTP {probe.status_code}, code {code}")
            )
    return checks


def check_syslog(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._syslog_config import parse_syslog_url

    config = parse_syslog_url(url, options)
    target = f"{config.host}:{config.port}"
    try:
        infos = socket.getaddrinfo(config.host, config.port)
    except OSError as exc:
        return [Check("reachability", False, f"cannot resolve {config.host}: {exc}")]
    if config.transport == "udp":
        address = infos[0][4][0]
        return [Check("reachability", True, f"{target} resolves to {address}; UDP cannot confirm "
                                            "that a receiver listens")]  # fmt: skip
    try:
        sock = socket.create_connection((config.host, config.port), timeout=10.0)
    except OSError as exc:
        return [Check("reachability", False, f"{target}: {exc}")]
    checks = [Check("reachability", True, f"{target} accepted a TCP connection")]
    with sock:
        if config.transport != "tls":
            checks.append(Check("tls", True, "plain TCP: no TLS"))
            return checks
        context = tls_context("syslog", config.ca_bundle, insecure=config.insecure)
        try:
            with context.wrap_socket(sock, server_hostname=config.host) as tls_sock:
                version = tls_sock.version()
        except ssl.SSLCertVerificationError as exc:
            checks.append(Check("tls", False, f"certificate not trusted: {exc.verify_message}"))
            return checks
        except (ssl.SSLError, OSError) as exc:
            checks.append(Check("tls", False, f"handshake failed: {exc}"))
            return checks
    verified = "NOT verified (insecure)" if config.insecure else "verified"
    checks.append(Check("tls", True, f"{version}, certificate {verified}"))
    return checks
