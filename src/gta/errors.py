"""The one exception tree of gta: every error a library module raises derives from ``GtaError``.

::

    GtaError
     +-- the SDK's errors (gta.client): ConfigurationError, ApiError, ApiStatusError and its
     |   status classes, ApiConnectionError, ApiTimeoutError (picture in gta.client._exceptions),
     |   CursorStuckError (also ValueError)
     +-- SinkError (gta.sinks)                  a sink could not deliver
     |    +-- SinkConfigError                   a sink URL or option that cannot work (*)
     +-- StateError (gta.sync)                  the checkpoint store; LeaseHeldError, ...
     +-- InputError                             what the user gave cannot work; nothing was done
          +-- SecretError (gta._secrets)        a secret reference that cannot be read
          +-- ConfigError (gta.sync)            the sync configuration file
          +-- UnknownStreamError, CursorFormatError, MetricsAddressError, DemoDirError (gta.sync)
          +-- UnknownFormatError (gta.formats)

(*) SinkConfigError is an ``InputError`` too. Those that were ``ValueError`` before the tree had
one root keep that base, so code that catches them as ``ValueError`` still does. The command
line maps the tree to exit codes in one table (``gta.cli._errors.EXIT_CODES``): an
``InputError`` is a usage error (2), any other ``GtaError`` a failure (1). The emulator keeps
its own exceptions: it is a separate program that meets gta only over HTTP.

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
    "InputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
]


_SDK_NAMES = frozenset(__all__) - {"GtaError", "InputError"}


class GtaError(Exception):
    """Base of every error raised by gta."""


class InputError(GtaError):
    """What the user gave (a flag, a setting, a file, a reference) cannot work; nothing was
    done. The command line exits 2 on it, as on any usage error."""


def __getattr__(name: str) -> Any:
    """The SDK's error classes, loaded with the SDK on first use (PEP 562)."""
    if name in _SDK_NAMES:
        value = getattr(importlib.import_module("gta.client"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
