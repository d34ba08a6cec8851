"""The one exception tree of gta: every error a library module raises derives from ``GtaError``.

::

    GtaError
     +-- the SDK's errors (gta.client): ConfigurationError, ApiError, ApiStatusError and its
     |   status classes, ApiConnectionError, ApiTimeoutError (picture in gta.client._exceptions)
     +-- SecretError (also ValueError)          a secret reference that cannot be read
     +-- SinkError (gta.sinks)                  a sink could not deliver
     |    +-- SinkConfigError (also ValueError) a sink URL or option that cannot work
     +-- UnknownFormatError (also ValueError)   gta.formats
     +-- StateError (gta.sync)                  the checkpoint store
     +-- ConfigError, UnknownStreamError, CursorFormatError, MetricsAddressError (also
          ValueError; gta.sync), CursorStuckError (gta.client), DemoDirError (gta.sync)

Those that were ``ValueError`` before the tree had one root keep that base, so code that
catches them as ``ValueError`` still does. The command line maps the tree to exit codes in one
table (``gta.cli._errors.exit_code``). The emulator keeps its own exceptions: it is a separate
program that meets gta only over HTTP.

This module itself is light: the SDK's classes load with the SDK, on first use of their name
here, so a package that only needs the root (the sinks, the formats) does not load httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gta.client import (
        ApiConnectionError,
        ApiError,
        ApiStatusError,
        ApiTimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        ServerError,
    )

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "GtaError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
]


class GtaError(Exception):
    """Base of every error raised by gta."""


def __getattr__(name: str) -> Any:
    """The SDK's error classes, loaded with the SDK on first use (PEP 562)."""
    if name in __all__:
        value = getattr(importlib.import_module("gta.client"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
