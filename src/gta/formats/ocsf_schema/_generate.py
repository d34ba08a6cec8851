"""Build ``ocsf-<version>.schema.json`` from ``_definitions.py``.

Run ``python -m gta.formats.ocsf_schema._generate`` to rewrite the committed file. The schema is
stricter than OCSF's own export in two ways that catch mistakes in our mapping: objects gta fills
reject unknown attributes (``additionalProperties: false``), and each class also requires the
three keys every gta record carries (``recordId``, ``stream``, ``indexTime``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from gta.formats._kinds import RECORD_KINDS
from gta.formats.ocsf_schema._definitions import CLASSES, OBJECTS, OCSF_VERSION

_GTA_KEYS: dict[str, Any] = {
    "recordId": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    "stream": {"enum": list(RECORD_KINDS)},
    "indexTime": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
}


def _fragment(spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"type": spec}
    kind, value = spec
    if kind == "object":
        if value in OBJECTS:
            return {"$ref": f"#/$defs/{value}"}
        return {"type": "object"}
    if kind == "array":
        return {"type": "array", "items": _fragment(value)}
    if kind == "enum":
        return {"type": "integer", "enum": list(value)}
    if kind == "const":
        return {"type": "integer", "const": value}
    raise ValueError(f"unknown attribute spec {spec!r}")


def _definition(spec: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {name: _fragment(s) for name, s in sorted(spec["properties"].items())}
    required = sorted(spec["required"])
    if extra:
        properties.update(extra)
        required = sorted([*required, *extra])
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def build_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {name: _definition(OBJECTS[name]) for name in sorted(OBJECTS)}
    for name in sorted(CLASSES):
        defs[name] = _definition(CLASSES[name], _GTA_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://gta.invalid/schemas/ocsf-{OCSF_VERSION}.schema.json",
        "title": f"gta OCSF {OCSF_VERSION} records",
        "description": (
            f"Records gta emits with --format ocsf: OCSF {OCSF_VERSION} Detection Finding "
            "(class_uid 2004) and Network Activity (class_uid 4001), without optional profiles, "
            "plus gta's recordId, stream and indexTime. Generated from _definitions.py."
        ),
        "x-ocsf-version": OCSF_VERSION,
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in sorted(CLASSES)],
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(build_schema(), indent=1, sort_keys=False) + "\n"


def main() -> None:
    from gta.formats.ocsf_schema import SCHEMA_PATH

    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")


if __name__ == "__main__":
    main()
