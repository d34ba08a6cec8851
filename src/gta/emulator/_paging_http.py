"""The HTTP side of pagination: query parameters in, ``items``/``pageInfo`` response out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from starlette.responses import Response

from gta.emulator._clock import parse_rfc3339
from gta.emulator._pagination import (
    MAX_PAGE_SIZE,
    CursorError,
    Order,
    PageRequest,
    decode_cursor,
    encode_cursor,
    page_link,
    render_page,
)
from gta.emulator._problems import Problem
from gta.emulator._store import Page

SizeParam = Annotated[
    int | None,
    Query(
        ge=1,
        description="Items per page: default 1000; larger values are capped at 1000.",
    ),
]
AfterParam = Annotated[
    str | None, Query(description="Cursor: the page after this item (an endCursor).")
]
BeforeParam = Annotated[
    str | None, Query(description="Cursor: the page before this item (a startCursor).")
]


MsnSortParam = Annotated[
    Literal["modificationSequenceNumber"] | None,
    Query(description="The only order: by modification sequence number (the default)."),
]
AlertSortParam = Annotated[
    Literal["triggeredAt:asc"] | None,
    Query(description="triggeredAt:asc, or absent for risk (Critical first) then id."),
]


def DateTimeParam(description: str) -> Any:
    """An RFC 3339 query parameter (validated by ``parse_instant`` into a clear 400)."""
    return Query(description=description, json_schema_extra={"format": "date-time"})


def page_request(
    order: Order, size: int | None, after: str | None, before: str | None
) -> PageRequest:
    """Validate paging parameters into a PageRequest (400 Problem when malformed)."""
    if after is not None and before is not None:
        raise Problem(400, "use either 'after' or 'before', not both")
    if size is None:
        size = MAX_PAGE_SIZE
    if size < 1:
        raise Problem(400, "size must be at least 1")
    size = min(size, MAX_PAGE_SIZE)
    try:
        return PageRequest(
            size=size,
            after=None if after is None else decode_cursor(order, after),
            before=None if before is None else decode_cursor(order, before),
        )
    except CursorError as exc:
        name = "after" if after is not None else "before"
        raise Problem(400, f"malformed '{name}' cursor: {exc}") from None


def parse_instant(name: str, value: str | None) -> int | None:
    """An RFC 3339 query parameter as epoch milliseconds, or a 400 Problem."""
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except (ValueError, OverflowError):
        raise Problem(
            400, f"'{name}' must be an RFC 3339 date-time, e.g. 2020-10-14T13:59:54.047Z"
        ) from None


def page_response(request: Request, order: Order, page: Page) -> Response:
    """Render a page: relative next/previous links for GET, always null for POST."""
    start = None if page.first is None else encode_cursor(order, page.first)
    end = None if page.last is None else encode_cursor(order, page.last)
    previous = next_ = None
    if request.method == "GET":
        query = request.query_params.multi_items()
        path = request.url.path
        if page.has_next and end is not None:
            next_ = page_link(path, query, "after", end)
        if page.has_previous and start is not None:
            previous = page_link(path, query, "before", start)
    body = render_page(
        page.docs,
        start_cursor=start,
        end_cursor=end,
        has_previous=page.has_previous,
        has_next=page.has_next,
        previous=previous,
        next_=next_,
    )
    return Response(body, media_type="application/json")
