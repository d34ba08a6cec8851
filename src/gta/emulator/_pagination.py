"""Cursors and ``pageInfo``: pure functions, no I/O.

A cursor names the sort key of one item, so a page is a keyset query (``key > cursor``), never
an OFFSET: its cost does not grow with the size of the collection.

| order | cursor | example |
|---|---|---|
| modificationSequenceNumber | the MSN in decimal | ``25717281`` |
| alerts, default (risk, then id) | ``Risk,id`` | ``High,b641415c...`` |
| alerts, ``triggeredAt:asc`` | ``triggeredAt,id`` | ``2026-01-01T10:00:00.000Z,b6414...`` |
| assets, threat-intel records | the id | ``0f3c...`` |
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlencode

import orjson

from gta.emulator._catalog import RISK_BY_RANK, RISK_RANK
from gta.emulator._clock import format_ms, parse_rfc3339

MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
_MSN = re.compile(r"^\d{1,18}$")
_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")

Key = tuple[int | str, ...]


class Order(Enum):
    """The orders a collection can be read in; each has its own cursor format."""

    MSN = "msn"
    RISK = "risk"
    TRIGGERED = "triggered"
    ID = "id"


class CursorError(ValueError):
    """A cursor that this order cannot have produced."""


def encode_cursor(order: Order, key: Key) -> str:
    if order is Order.MSN:
        return str(key[0])
    if order is Order.RISK:
        return f"{RISK_BY_RANK[int(key[0])]},{key[1]}"
    if order is Order.TRIGGERED:
        return f"{format_ms(int(key[0]))},{key[1]}"
    return str(key[0])


def decode_cursor(order: Order, text: str) -> Key:
    """Parse a cursor into the sort key it names; CursorError when malformed."""
    if order is Order.MSN:
        if not _MSN.match(text):
            raise CursorError("expected a modificationSequenceNumber (a decimal integer)")
        return (int(text),)
    if order is Order.ID:
        if not _ID.match(text):
            raise CursorError("expected an object id")
        return (text,)
    head, sep, item_id = text.rpartition(",")
    if not sep or not _ID.match(item_id):
        raise CursorError("expected 'sortValue,id'")
    if order is Order.RISK:
        if head not in RISK_RANK:
            raise CursorError("expected 'Risk,id' with Risk one of Critical, High, Medium, Low")
        return (RISK_RANK[head], item_id)
    try:
        return (parse_rfc3339(head), item_id)
    except ValueError as exc:
        raise CursorError("expected 'triggeredAt,id'") from exc


@dataclass(frozen=True)
class PageRequest:
    """What the client asked for: a page size and at most one of ``after``/``before``."""

    size: int
    after: Key | None = None
    before: Key | None = None


def page_link(path: str, query: Sequence[tuple[str, str]], name: str, cursor: str) -> str:
    """A relative link to a neighbouring page: the same query, with a new after/before."""
    kept = [(k, v) for k, v in query if k not in ("after", "before")]
    kept.append((name, cursor))
    return f"{path}?{urlencode(kept)}"


def render_page(
    docs: Sequence[bytes],
    *,
    start_cursor: str | None,
    end_cursor: str | None,
    has_previous: bool,
    has_next: bool,
    previous: str | None,
    next_: str | None,
) -> bytes:
    """Splice stored JSON documents into a collection response, encoding only ``pageInfo``."""
    page_info = orjson.dumps(
        {
            "previous": previous,
            "next": next_,
            "hasPreviousPage": has_previous,
            "hasNextPage": has_next,
            "startCursor": start_cursor,
            "endCursor": end_cursor,
        }
    )
    return b"".join((b'{"items":[', b",".join(docs), b'],"pageInfo":', page_info, b"}"))
