"""gta: a toolkit for the Cisco Global Threat Alerts API.

The public SDK surface is re-exported here; implementation modules are private
(underscore-prefixed) and may change without notice. ``Client`` and ``errors`` are imported on
first use (PEP 562), so ``import gta.cli`` (every ``gta`` command) does not pay for the SDK's
imports unless the command talks to the API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gta._version import __version__

if TYPE_CHECKING:
    from gta import errors
    from gta.client import Client

__all__ = ["Client", "__version__", "errors"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from gta.client import Client

        return Client
    if name == "errors":
        return importlib.import_module("gta.errors")
    raise AttributeError(f"module 'gta' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
