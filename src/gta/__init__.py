"""gta: a toolkit for the Cisco Global Threat Alerts API.

The public SDK surface is re-exported here; implementation modules are private
(underscore-prefixed) and may change without notice. ``Client`` and ``errors`` are imported on
first use (PEP 562), so ``import gta.cli`` (every ``gta`` command) does not pay for the SDK's
imports unless the command talks to the API. ``ClientSettings`` (the one description of a
tenant) builds a client with ``Client.from_settings``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gta._version import __version__

if TYPE_CHECKING:
    from gta import errors
    from gta.client import Client, ClientSettings

__all__ = ["Client", "ClientSettings", "__version__", "errors"]


def __getattr__(name: str) -> Any:
    if name in ("Client", "ClientSettings"):
        return getattr(importlib.import_module("gta.client"), name)
    if name == "errors":
        return importlib.import_module("gta.errors")
    raise AttributeError(f"module 'gta' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
