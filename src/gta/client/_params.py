"""Argument checks and encodings shared by the resources (pure functions).

Bad arguments raise ConfigurationError before any request, so a command line can print one
line. Query values are left to httpx to URL-encode (a ``+02:00`` offset arrives intact).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from gta._time import format_rfc3339
from gta.client._exceptions import ConfigurationError

__all__ = ["format_datetime", "path_id", "query", "search_ids", "validate_size"]

ParamValue = str | int | datetime | None


def format_datetime(value: datetime | str, name: str) -> str:
    """RFC 3339 in UTC with ``Z`` for an aware datetime; a string is sent as is.

    A naive datetime is rejected: guessing its zone is how the vendor's script came to label
    local time as ``Z``.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ConfigurationError(f"{name} must not be empty")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ConfigurationError(
                f"{name} is a naive datetime; pass an aware one, "
                "e.g. datetime(2024, 1, 1, tzinfo=timezone.utc)"
            )
        return format_rfc3339(value)
    raise ConfigurationError(f"{name} must be a datetime or a string, not {type(value).__name__}")


def validate_size(size: int | None) -> int | None:
    """A page size is a positive int (the server caps it at 1000)."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigurationError(f"size must be a positive integer, not {size!r}")
    return size


def query(**values: ParamValue) -> tuple[tuple[str, str], ...]:
    """Query parameters from camelCase keywords, dropping ``None`` and formatting datetimes."""
    result: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            result.append((key, format_datetime(value, key)))
        elif isinstance(value, bool):
            result.append((key, "true" if value else "false"))
        else:
            result.append((key, str(value)))
    return tuple(result)


def path_id(value: object, name: str) -> str:
    """A non-empty id, quoted so it stays one path segment (``/`` and ``?`` included)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a non-empty string, not {value!r}")
    return quote(value, safe="")


def search_ids(values: Iterable[str], name: str) -> list[str]:
    """Ids for a bulk search: non-empty strings, deduplicated, order kept.

    A bare string is refused: iterating it would search for its characters.
    """
    if isinstance(values, str | bytes):
        raise ConfigurationError(f"{name} must be a list of ids, not a single string")
    ids: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{name} must hold non-empty strings, not {value!r}")
        ids.append(value)
    return list(dict.fromkeys(ids))
