"""Corporate networks: an explicit proxy, a CA bundle, and proxy URLs shown without credentials.

A proxy URL may carry credentials (``http://user:pass@proxy:3128``): every message shows it as
:func:`redact_proxy` does (``http://***@proxy:3128``). A CA bundle replaces the default trust
store (as ``SSL_CERT_FILE`` and curl's ``--cacert`` do): a TLS-inspecting proxy's CA.
"""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit

from gta.client._exceptions import ConfigurationError

__all__ = ["check_proxy_url", "redact_proxy", "ssl_context_for"]

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def redact_proxy(url: str) -> str:
    """``scheme://host:port`` of a proxy URL, its credentials (if any) shown as ``***``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an invalid proxy URL)"
    if not parts.hostname:
        return "(an invalid proxy URL)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    userinfo = "***@" if parts.username is not None or parts.password is not None else ""
    return f"{parts.scheme}://{userinfo}{host}{f':{port}' if port else ''}"


def check_proxy_url(url: str, name: str = "proxy") -> str:
    """The proxy URL, stripped, or a one-line ConfigurationError that never shows credentials."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise ConfigurationError(f"{name} is empty; give a URL such as http://proxy:3128")
    if "://" not in text:
        raise ConfigurationError(
            f"{name} needs a scheme: http://, https:// or socks5:// (got {redact_proxy(text)})"
        )
    shown = redact_proxy(text)
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid URL (a bad port?): {shown}") from None
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise ConfigurationError(
            f"{name} scheme {parts.scheme!r} is not supported; use http, https or socks5: {shown}"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{name} has no host: {shown}")
    if parts.scheme.lower().startswith("socks"):
        try:
            import socksio  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                f"{name} {shown}: a SOCKS proxy needs the socksio package "
                "(pip install 'httpx[socks]')"
            ) from None
    return text


def ssl_context_for(ca_bundle: str | os.PathLike[str]) -> ssl.SSLContext:
    """A verifying TLS context trusting the CAs of *ca_bundle* (a PEM file or a directory)."""
    path = os.path.expanduser(os.fspath(ca_bundle))
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigurationError(
            f"ca_bundle {path}: cannot load the CA certificates ({reason}); give a PEM file"
        ) from None
