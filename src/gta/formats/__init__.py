"""Record formats, chosen by name: ``annotation`` (the vendor's flat rows), ``nested``, ``ocsf``,
``ecs``. Each is a table of record functions keyed by record kind (``EVENTS``, ``ALERTS``,
``THREAT_DETECTIONS``, ``FLOWS``)."""

from __future__ import annotations

import importlib

from gta.formats._base import (
    ApiObject,
    Format,
    FormatContext,
    FormatTable,
    RecordFn,
    UnknownFormatError,
    UnsupportedKindError,
    records_for,
)
from gta.formats._cef import encode_cef, record_risk
from gta.formats._ids import Tombstone, is_tombstone, string_list, unique
from gta.formats._kinds import ALERTS, EVENTS, FLOWS, RECORD_KINDS, THREAT_DETECTIONS

# name -> "module:attribute" of a Format instance; imported lazily so a format's
# dependencies load only when it is used.
_FORMATS: dict[str, str] = {
    "annotation": "gta.formats._annotation:ANNOTATION",
    "nested": "gta.formats._nested:NESTED",
    "ocsf": "gta.formats._ocsf:OCSF",
    "ecs": "gta.formats._ecs:ECS",
}

FORMAT_NAMES = tuple(_FORMATS)


def get_format(name: str) -> Format:
    """Return the format called ``name``; an unknown name lists the valid ones."""
    try:
        target = _FORMATS[name]
    except KeyError:
        valid = ", ".join(_FORMATS)
        raise UnknownFormatError(f"unknown format {name!r}; choose one of: {valid}") from None
    module_name, attribute = target.split(":")
    fmt: Format = getattr(importlib.import_module(module_name), attribute)
    return fmt


__all__ = [
    "ALERTS",
    "EVENTS",
    "FLOWS",
    "FORMAT_NAMES",
    "RECORD_KINDS",
    "THREAT_DETECTIONS",
    "ApiObject",
    "Format",
    "FormatContext",
    "FormatTable",
    "RecordFn",
    "Tombstone",
    "UnknownFormatError",
    "UnsupportedKindError",
    "encode_cef",
    "get_format",
    "is_tombstone",
    "record_risk",
    "records_for",
    "string_list",
    "unique",
]
