"""Types shared by sibling layers (formats make records, sinks deliver them)."""

from typing import Any

Record = dict[str, Any]
"""One output record: a JSON-able dict with at least ``recordId``, ``stream`` and ``indexTime``."""
