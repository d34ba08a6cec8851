"""``gta.Client``: settings, the shared httpx client, auth, customer id and the resources.

One ``Client`` is safe to share between threads: httpx's connection pool is thread-safe, the
token refresh is single-flight, and the customer id is discovered once under a lock.
"""

from __future__ import annotations

import math
import os
import re
import ssl
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from gta.client._auth import TokenAuth
from gta.client._exceptions import ApiError, ConfigurationError
from gta.client._network import check_proxy_url, redact_proxy, ssl_context_for
from gta.client._resources import Alerts, Assets, Events, Flows, ThreatDetections, ThreatIntel
from gta.client._retry import Runtime
from gta.client._settings import DEFAULT_API_URL, DEFAULT_APP_URL, ClientSettings
from gta.client._sockets import bound_transports
from gta.client._transport import DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, Transport

__all__ = ["DEFAULT_API_URL", "DEFAULT_APP_URL", "Client", "normalize_url"]


_HOST_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?\.?$")


def normalize_url(value: str, name: str) -> str:
    """A base URL from a host given with or without scheme (no scheme means https).

    ``visibility.eu.amp.cisco.com`` -> ``https://visibility.eu.amp.cisco.com``; an explicit
    ``http://`` is kept (the emulator on loopback); a trailing slash is dropped.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} is empty; give a host name such as example.com")
    text = value.strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        _ = parts.port  # a port that is not a number in 0-65535 raises here, not mid-request
    except ValueError as exc:  # e.g. "http://[::1": a bracket left open
        raise ConfigurationError(f"{name} is not a valid URL ({exc}): {value!r}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"{name} must be an http(s) URL or a host name, not {value!r}")
    if not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(f"{name} is not a valid host or base URL: {value!r}")
    if not (_HOST_NAME.match(parts.hostname) or ":" in parts.hostname):  # ":": an IPv6 literal
        raise ConfigurationError(
            f"{name} has an invalid host name {parts.hostname!r} (letters, digits, '-' and '.')"
        )
    return text.rstrip("/")


def _env_proxy() -> bool:
    """Whether a proxy variable may send plain-http requests through a proxy (which could be an
    https:// one, needing the CA bundle)."""
    names = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    return any(os.environ.get(name) for name in names)


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def new_http_client(
    *,
    bounded: bool = False,
    proxy: str | None = None,
    ca_bundle: str | os.PathLike[str] | None = None,
    tls: bool = True,
    **options: Any,
) -> httpx.Client:
    """httpx's client, with a CA bundle that cannot be loaded as one clear error.

    httpx reads ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` (and certifi otherwise) when it builds its
    TLS context; a path that does not exist would surface as a bare ``FileNotFoundError``.
    ``proxy`` sends every request through that proxy; without it ``HTTPS_PROXY``, ``ALL_PROXY``
    and ``NO_PROXY`` apply (httpx's ``trust_env``). ``ca_bundle`` replaces the trusted CAs.
    ``bounded`` bounds the socket operations of every transport, proxied ones included, by the
    request's deadline (``_sockets``).
    ``tls=False`` (a client that only ever asks ``http://`` URLs, such as the emulator's, and
    uses no proxy) skips reading a CA bundle, a good part of start-up: its TLS context trusts
    nothing, so an https request could never go out unverified.
    """
    if proxy is not None:
        checked = check_proxy_url(proxy)
        # The CA bundle is for an https:// proxy too (a corporate proxy's own certificate);
        # httpcore refuses a TLS context for a plain http:// proxy.
        tls_proxy = checked.lower().startswith("https://") and ca_bundle is not None
        context = ssl_context_for(ca_bundle) if tls_proxy and ca_bundle is not None else None
        options["proxy"] = httpx.Proxy(checked, ssl_context=context)
    if ca_bundle is not None:
        options["verify"] = ssl_context_for(ca_bundle)
    elif not tls:
        options["verify"] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing
    try:
        client = httpx.Client(**options)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        names = [name for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)]
        missing = [name for name in names if not os.path.exists(os.environ[name])]
        names = missing or names  # the variable naming a path that is not there, if one does
        where = f" ({' / '.join(f'{n}={os.environ[n]}' for n in names)})" if names else ""
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if "proxy" in reason.lower():  # an HTTPS_PROXY httpx cannot use: never echo its URL
            raise ConfigurationError(
                "a proxy variable (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not a usable "
                "http://, https:// or socks5:// URL"
            ) from None
        raise ConfigurationError(
            f"cannot load the CA certificates{where}: {reason}; "
            f"fix or unset {' / '.join(names) or 'SSL_CERT_FILE'}"
        ) from None
    if bounded:
        bound_transports(client)
    return client


class Client:
    """A client for the Global Threat Alerts API.

    ``securex_host`` is the SecureX visibility host that issues tokens (e.g.
    ``visibility.eu.amp.cisco.com``); ``customer_id`` is discovered through
    ``/auth/api-clients/me`` when not given. ``http_client`` lets you bring your own
    ``httpx.Client`` (proxies, certificates); the client closes only one it created.

    ``timeout`` (seconds) is the deadline of each whole request attempt: connecting, sending
    and every byte of the answer; an ``httpx.Timeout`` instead sets per-phase limits (connect,
    read, write, pool) under the default deadline. ``max_response_bytes`` bounds an answer:
    a larger one raises ``ResponseTooLargeError``.

    ``connect_retries`` caps the retries of a connection that cannot be made (refused, unknown
    host) and ``max_retry_wait`` the seconds one request may spend waiting between retries:
    both unset (a sync that should outlast an outage), or small for a person at a terminal.
    ``proxy`` (``http://[user:pass@]host:port``, ``https://`` or ``socks5://``) sends every request
    through that proxy; without it ``HTTPS_PROXY``/``NO_PROXY`` apply. ``ca_bundle`` (a PEM file)
    replaces the trusted CAs, e.g. with a TLS-inspecting proxy's. Errors name the proxy without
    its credentials.
    ``_runtime`` replaces sleep, clocks and randomness (tests).
    """

    def __init__(
        self,
        client_id: str,
        client_password: str,
        *,
        securex_host: str,
        api_url: str = DEFAULT_API_URL,
        app_url: str = DEFAULT_APP_URL,
        customer_id: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_DEADLINE,
        max_retries: int = 8,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        connect_retries: int | None = None,
        max_retry_wait: float | None = None,
        http_client: httpx.Client | None = None,
        proxy: str | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        _runtime: Runtime | None = None,
    ) -> None:
        if not isinstance(client_id, str) or not client_id.strip():
            raise ConfigurationError("client_id is empty; set SECUREX_CLIENT_ID")
        if not isinstance(client_password, str) or not client_password:
            raise ConfigurationError("client_password is empty; set SECUREX_CLIENT_PASSWORD")
        if customer_id is not None and (not isinstance(customer_id, str) or not customer_id):
            raise ConfigurationError("customer_id must be a non-empty string when given")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an integer >= 0, not {max_retries!r}")
        deadline = DEFAULT_DEADLINE
        if connect_retries is not None and (
            isinstance(connect_retries, bool)
            or not isinstance(connect_retries, int)
            or connect_retries < 0
        ):
            raise ConfigurationError(
                f"connect_retries must be an integer >= 0 or None, not {connect_retries!r}"
            )
        if max_retry_wait is not None and (
            isinstance(max_retry_wait, bool)
            or not isinstance(max_retry_wait, int | float)
            or not max_retry_wait >= 0
        ):
            raise ConfigurationError(
                f"max_retry_wait must be a number of seconds >= 0 or None, not {max_retry_wait!r}"
            )
        if isinstance(timeout, httpx.Timeout):
            http_timeout = timeout
        elif _positive_number(timeout) and math.isfinite(timeout):
            deadline = float(timeout)
            # Each phase is bounded by what remains of the deadline, nothing tighter.
            http_timeout = httpx.Timeout(None)
        else:
            raise ConfigurationError(f"timeout must be a positive number, not {timeout!r}")
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or (max_response_bytes < 1)
        ):
            raise ConfigurationError(
                f"max_response_bytes must be an integer >= 1, not {max_response_bytes!r}"
            )

        self.client_id = client_id.strip()
        self._password = SecretStr(client_password)
        self.securex_host = normalize_url(securex_host, "securex_host")
        self.api_url = normalize_url(api_url, "api_url")
        self.app_url = normalize_url(app_url, "app_url")
        self.token_url = f"{self.securex_host}/iroh/oauth2/token"
        self._customer_id = customer_id
        self._customer_lock = threading.Lock()
        self._owns_http = http_client is None
        if http_client is not None and (proxy is not None or ca_bundle is not None):
            raise ConfigurationError(
                "give proxy and ca_bundle, or your own http_client configured with them, not both"
            )
        self.proxy = redact_proxy(proxy) if proxy is not None else None
        if http_client is None:
            # Only the URLs above are ever asked, so a client of http:// URLs (the emulator)
            # with no proxy needs no CA bundle: reading one is a good part of start-up.
            urls = (self.securex_host, self.api_url, self.app_url)
            plain = all(urlsplit(url).scheme == "http" for url in urls)
            tls = not plain or proxy is not None or ca_bundle is not None or _env_proxy()
            http_client = new_http_client(bounded=True, proxy=proxy, ca_bundle=ca_bundle, tls=tls)
        self._http = http_client
        runtime = _runtime or Runtime()
        self.transport = Transport(
            self._http,
            timeout=http_timeout,
            max_retries=max_retries,
            runtime=runtime,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            connect_retries=connect_retries,
            max_retry_wait=max_retry_wait,
        )
        self.transport.proxy = self.proxy
        self.auth = TokenAuth(
            self.token_url,
            self.client_id,
            self._password,
            send=lambda request: self.transport.send_raw(request, auth=None),
            monotonic=runtime.monotonic,
        )
        self.transport.auth = self.auth

        self.alerts = Alerts(self)
        self.threat_detections = ThreatDetections(self)
        self.events = Events(self)
        self.flows = Flows(self)
        self.assets = Assets(self)
        self.threat_intel = ThreatIntel(self)

    @classmethod
    def from_settings(cls, settings: ClientSettings, **options: Any) -> Self:
        """A client from :class:`ClientSettings`; ``options`` go to the constructor as well
        (``http_client``, ``connect_retries``, ``max_retry_wait``, ...) and win over the
        settings."""
        return cls(**{**settings.client_options(), **options})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client from the vendor's environment variables plus ``GTA_*`` overrides.

        Required: SECUREX_CLIENT_ID, SECUREX_CLIENT_PASSWORD, SECUREX_VISIBILITY_HOST_NAME.
        Optional: GTA_CUSTOMER_ID, GTA_API_URL, GTA_APP_URL, GTA_PROXY, GTA_CA_BUNDLE. ``options``
        go to the constructor (timeout, max_retries, max_response_bytes, http_client).
        """
        return cls.from_settings(ClientSettings.from_env(environ), **options)

    @property
    def customer_id(self) -> str:
        """The customer id: given, or discovered once through ``/auth/api-clients/me``."""
        if self._customer_id is None:
            with self._customer_lock:
                if self._customer_id is None:
                    self._customer_id = self._discover_customer_id()
        return self._customer_id

    def _discover_customer_id(self) -> str:
        url = f"{self.app_url}/auth/api-clients/me"
        data = self.transport.request_json("GET", url)
        identity = data.get("identity") if isinstance(data, dict) else None
        cid = identity.get("customerId") if isinstance(identity, dict) else None
        if not isinstance(cid, str) or not cid:
            raise ApiError(
                "GET /auth/api-clients/me gave no identity.customerId; set GTA_CUSTOMER_ID"
            )
        return cid

    def close(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Client(client_id={self.client_id!r}, client_password='***', "
            f"securex_host={self.securex_host!r}, api_url={self.api_url!r}, "
            f"app_url={self.app_url!r}, customer_id={self._customer_id!r}, proxy={self.proxy!r})"
        )
