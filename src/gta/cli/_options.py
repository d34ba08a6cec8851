"""Options shared by every command that talks to the API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gta.cli._durations import parse_duration

__all__ = ["CaBundleOpt", "ProxyOpt", "TimeoutOpt", "api_options", "timeout_option"]

TimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="DURATION",
        help="Deadline of each API request attempt, answer included: 30s, 2m (default 60s).",
    ),
]


def timeout_option(text: str | None) -> dict[str, Any]:
    """``--timeout`` as client options: ``{"timeout": seconds}``, or nothing when not given."""
    if text is None:
        return {}
    return {"timeout": parse_duration(text).total_seconds()}


ProxyOpt = Annotated[
    str | None,
    typer.Option(
        "--proxy",
        metavar="URL",
        help="Proxy for the API, http://[user:pass@]host:port; overrides GTA_PROXY, the "
        "profile or config file, and HTTPS_PROXY/NO_PROXY.",
    ),
]
CaBundleOpt = Annotated[
    str | None,
    typer.Option(
        "--ca-bundle",
        metavar="FILE",
        help="PEM file of the CAs to trust for the API (a TLS-inspecting proxy's); overrides "
        "GTA_CA_BUNDLE, the profile or config file, and the system's.",
    ),
]


def api_options(timeout: str | None, proxy: str | None, ca_bundle: str | None) -> dict[str, Any]:
    """``--timeout``, ``--proxy`` and ``--ca-bundle`` as ``make_client`` options."""
    options = timeout_option(timeout)
    if proxy is not None:
        options["proxy"] = proxy
    if ca_bundle is not None:
        options["ca_bundle"] = ca_bundle
    return options
