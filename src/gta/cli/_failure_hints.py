"""What the settings have to do with a failure: the hint ``gta`` adds to an error line.

``remember_origins`` notes, for the client just built, which setting named each host and where
the credentials came from; ``explain_failure`` then says it for an error that reached the
command line (``... (http://127.0.0.1:9 is the API URL (environment variable GTA_API_URL))``).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from gta.client import Client

__all__ = ["explain_failure", "remember_origins"]

# Where the client's settings came from, by what a message needs: see explain_failure.
_origins: dict[str, str] = {}


def remember_origins(client: Client, sources: Mapping[str, str]) -> None:
    """Note where *client*'s hosts, proxy and credentials came from (*sources*, by field)."""
    _origins.clear()
    _origins.update(
        {
            _base(client.securex_host): f"the SecureX host ({sources['securex_host']})",
            _base(client.api_url): f"the API URL ({sources['api_url']})",
            _base(client.app_url): f"the app URL ({sources['app_url']})",
            "credentials": " and ".join(sorted({sources["client_id"], sources["client_password"]})),
        }
    )
    if client.proxy is not None:
        _origins["proxy"] = f"the proxy from {sources['proxy']}"


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def explain_failure(exc: BaseException) -> str | None:
    """What the settings have to do with *exc*: which setting named the host that could not be
    reached (and through which proxy), or where the refused credentials came from."""
    from gta.errors import ApiConnectionError, AuthenticationError

    if isinstance(exc, ApiConnectionError) and exc.url is not None:
        base = f"{exc.url.scheme}://{exc.url.netloc.decode('ascii')}".lower()
        origin = _origins.get(base)
        parts = [f"{base} is {origin}"] if origin else []
        if "proxy" in _origins:  # an explicit proxy (the SDK's message names it)
            parts.append(_origins["proxy"])
        elif " through the proxy " not in str(exc):  # else one the environment chose, if any
            parts.append(_proxy_for(exc.url.scheme, exc.url.host))
        if not parts:
            return None
        return "; ".join(parts)
    if isinstance(exc, AuthenticationError) and "credentials" in _origins:
        return f"client id and password from {_origins['credentials']}"
    return None


def _proxy_for(scheme: str, host: str) -> str:
    """Whether the environment sends a request for *host* through a proxy (as httpx does)."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return "no proxy"
    shown = urlsplit(proxy)
    return f"through the proxy {shown.scheme}://{shown.hostname}:{shown.port or ''}".rstrip(":")
