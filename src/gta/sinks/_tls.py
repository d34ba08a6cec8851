"""TLS for every sink: the CA bundle option checked once, and one builder of the context
(HEC, Elasticsearch and Sentinel over httpx; syslog over a socket)."""

from __future__ import annotations

import os
import ssl

from gta.sinks._base import SinkConfigError


def ca_file(sink: str, ca_bundle: str | None) -> str | None:
    """The ``ca_bundle`` option: ``None`` when not given, else a file that exists."""
    if not ca_bundle:
        return None
    if not os.path.isfile(ca_bundle):
        raise SinkConfigError(f"{sink} ca_bundle {ca_bundle!r} is not a readable file")
    return ca_bundle


def verify_setting(sink: str, ca_bundle: str | None, insecure: bool = False) -> bool | str:
    """What a sink config keeps: ``False`` (insecure), a CA file, or ``True`` (system trust)."""
    cafile = ca_file(sink, ca_bundle)
    if insecure:
        return False
    return cafile if cafile is not None else True


def tls_context(sink: str, cafile: str | None, *, insecure: bool = False) -> ssl.SSLContext:
    """A client context trusting ``cafile`` (or the system's CAs); ``insecure`` turns
    verification off. A bundle that cannot be loaded is a ``SinkConfigError``."""
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise SinkConfigError(f"{sink} ca_bundle could not be loaded: {exc}") from None
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def http_verify(sink: str, verify: bool | str) -> bool | ssl.SSLContext:
    """What httpx wants for ``verify``: a context trusting the CA file when one is given
    (``True`` keeps httpx's own default trust)."""
    if isinstance(verify, str):
        return tls_context(sink, verify)
    return verify
