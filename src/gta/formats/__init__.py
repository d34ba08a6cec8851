"""Record formats, chosen by name: ``annotation`` (the vendor's flat rows), ``nested``, ``ocsf``,
``ecs``."""

from __future__ import annotations

import importlib

from gta.formats._base import ApiObject, Format, FormatContext, UnknownFormatError
from gta.formats._cef import encode_cef, record_risk

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
    "FORMAT_NAMES",
    "ApiObject",
    "Format",
    "FormatContext",
    "UnknownFormatError",
    "encode_cef",
    "get_format",
    "record_risk",
]
