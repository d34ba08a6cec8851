"""The JSON Schema of the OCSF records gta emits (``--format ocsf``), with the OCSF version it
follows. Regenerate with ``python -m gta.formats.ocsf_schema._generate`` after changing
``_definitions.py``; a test checks the committed file matches."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from gta.formats.ocsf_schema._definitions import OCSF_VERSION

SCHEMA_PATH = Path(__file__).with_name(f"ocsf-{OCSF_VERSION}.schema.json")


@cache
def load_schema() -> dict[str, Any]:
    """The committed schema as a dict (read once)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


__all__ = ["OCSF_VERSION", "SCHEMA_PATH", "load_schema"]
