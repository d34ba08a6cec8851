"""Lazy cursor pagination: ``Pager`` for collections, ``SearchResults`` for bulk id searches.

The API pages with opaque cursors (API.md §3). We follow ``after=<endCursor>`` and never the
``pageInfo.next`` link (the vendor stopped trusting it, and it is null for POST). The decision
of what to ask next is the pure function :func:`next_cursor`; the classes are thin loops
around it. ``raw()`` variants skip model building: the sync engine's hot path gets the decoded
dicts exactly as received, with no per-item work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar

import orjson
from pydantic import TypeAdapter, ValidationError

from gta.client._exceptions import ApiError, describe
from gta.client._models import Page, PageInfo
from gta.client._transport import Transport, decode_json
from gta.errors import GtaError

__all__ = [
    "SEARCH_CHUNK_SIZE",
    "PageRequest",
    "Pager",
    "SearchResults",
    "model_parser",
    "next_cursor",
    "raw_parser",
    "server_time",
]

T = TypeVar("T")
M = TypeVar("M")
RawItem = dict[str, Any]
Parser = Callable[[list[Any]], list[T]]

#: Most ids the API accepts in one search filter (API.md §4).
SEARCH_CHUNK_SIZE = 1000


class CursorStuckError(GtaError, ValueError):
    """The server's answer gives no way forward although it says there is more."""


def next_cursor(
    sent: str | None,
    has_more: bool | None,
    cursor: str | None,
    item_count: int,
    seen: Collection[str] = (),
) -> str | None:
    """The cursor for the next request, or ``None`` to stop.

    ``sent`` is the cursor of the request just answered; ``has_more`` and ``cursor`` are the
    page's ``hasNextPage``/``endCursor`` (or ``hasPreviousPage``/``startCursor`` when paging
    backwards). An empty page stops, so does ``has_more`` false. A page that claims more but
    repeats the cursor we sent, or one already followed (``seen``: a cycle), or gives none,
    raises CursorStuckError instead of looping.
    """
    if item_count == 0 or not has_more:
        return None
    if cursor is None:
        raise CursorStuckError("the page says there is more but gives no cursor")
    if cursor == sent:
        raise CursorStuckError(f"the cursor did not advance (still {cursor!r})")
    if cursor in seen:
        raise CursorStuckError(f"the cursor went back to {cursor!r}, already followed")
    return cursor


class _RecentCursors:
    """The last ``limit`` cursors a pager followed: enough to catch a server that cycles,
    while memory stays bounded however long the collection is."""

    def __init__(self, limit: int = 4096) -> None:
        self._order: deque[str] = deque()
        self._set: set[str] = set()
        self._limit = limit

    def __contains__(self, cursor: object) -> bool:
        return cursor in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def add(self, cursor: str) -> None:
        if cursor in self._set:
            return
        self._order.append(cursor)
        self._set.add(cursor)
        if len(self._order) > self._limit:
            self._set.discard(self._order.popleft())


@dataclass(frozen=True)
class PageRequest:
    """What a pager sends for every page; only the cursor parameter changes between pages.

    ``url`` is called when the first page is fetched (so a customer id is discovered lazily);
    ``body`` is the JSON body encoded once and re-sent for every page of a POST.
    """

    method: str
    url: Callable[[], str]
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    cursor_param: Literal["after", "before"] = "after"


def raw_parser(items: list[Any]) -> list[RawItem]:
    """Items as received: no copy, no validation."""
    return items


_ADAPTERS: dict[type[Any], TypeAdapter[list[Any]]] = {}


def _adapter(model: type[Any]) -> TypeAdapter[list[Any]]:
    """One TypeAdapter per model (building one is costly; using one is cheap)."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS.setdefault(model, TypeAdapter(list[model]))  # type: ignore[valid-type]
    return adapter


class ModelParser(Generic[M]):
    """Builds ``model`` instances from a page's items in one validation pass.

    The validator is built when the first page comes: a pager turned into ``raw()`` (the CLI's
    listings) never pays for it.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model

    def __call__(self, items: list[Any]) -> list[M]:
        result: list[M] = _adapter(self.model).validate_python(items)
        return result


def model_parser(model: type[M]) -> Parser[M]:
    """A parser building ``model`` instances (see :class:`ModelParser`)."""
    return ModelParser(model)


class Pager(Generic[T]):
    """A lazy iterator over every item of a collection, fetching pages on demand.

    Iterate it for items, or call :meth:`pages` for whole pages. :attr:`end_cursor` is the
    last non-null ``endCursor`` of a non-empty page seen so far (or the starting cursor):
    save it after processing a page to resume later with ``after=``. Each iteration starts
    again from the starting cursor.
    """

    def __init__(
        self,
        transport: Transport,
        request: PageRequest,
        parse: Parser[T],
        *,
        start: str | None = None,
    ) -> None:
        self._transport = transport
        self._request = request
        self._parse = parse
        self._start = start
        self._end_cursor = start if request.cursor_param == "after" else None

    @property
    def end_cursor(self) -> str | None:
        """The cursor to resume from after the pages fetched so far."""
        return self._end_cursor

    @property
    def start_cursor(self) -> str | None:
        """The cursor this pager starts from."""
        return self._start

    def __repr__(self) -> str:
        return (
            f"Pager({self._request.method} {self._request.params!r}, "
            f"start={self._start!r}, end_cursor={self._end_cursor!r})"
        )

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def raw(self) -> Pager[RawItem]:
        """The same request, yielding the JSON objects exactly as received."""
        return Pager(self._transport, self._request, raw_parser, start=self._start)

    def pages(self) -> Iterator[Page[T]]:
        """Fetch and yield one page at a time until the collection is exhausted."""
        request = self._request
        backwards = request.cursor_param == "before"
        cursor = self._start
        self._end_cursor = None if backwards else self._start
        followed = _RecentCursors()
        while True:
            params = dict(request.params)
            if cursor is not None:
                params[request.cursor_param] = cursor
            http_request = self._transport.build(
                request.method, request.url(), params=params, content=request.body
            )
            response = self._transport.send(http_request)
            items, info = _decode_page(decode_json(response), describe(http_request))
            try:
                parsed = self._parse(items)
            except ValidationError as exc:
                parser = self._parse
                model = parser.model.__name__ if isinstance(parser, ModelParser) else "item"
                first = exc.errors()[0]
                where = "items" + "".join(
                    f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
                )
                raise ApiError(
                    f"{describe(http_request)}: not a valid {model} at {where}: {first['msg']} "
                    f"({exc.error_count()} error{'s' if exc.error_count() > 1 else ''})",
                    request=http_request,
                ) from None
            if items and info.end_cursor is not None:
                self._end_cursor = info.end_cursor
            yield Page[Any].model_construct(
                items=parsed, page_info=info, server_time=server_time(response.headers.get("date"))
            )
            has_more, new = (
                (info.has_previous_page, info.start_cursor)
                if backwards
                else (info.has_next_page, info.end_cursor)
            )
            try:
                if cursor is not None:
                    followed.add(cursor)
                cursor = next_cursor(cursor, has_more, new, len(items), followed)
            except CursorStuckError as exc:
                raise ApiError(f"{describe(http_request)}: {exc}", request=http_request) from None
            if cursor is None:
                return


def server_time(date_header: str | None) -> datetime | None:
    """The instant of an HTTP ``Date`` header (RFC 9110 IMF-fixdate, or the obsolete forms the
    standard library reads), as aware UTC; ``None`` when absent or unreadable."""
    if not date_header or len(date_header) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC with no claim about the local zone
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _decode_page(body: Any, where: str) -> tuple[list[Any], PageInfo]:
    """Check the collection shape ``{"items": [...], "pageInfo": {...}}``."""
    if not isinstance(body, dict):
        raise ApiError(f"{where}: expected a JSON object with items, got {type(body).__name__}")
    items = body.get("items")
    if not isinstance(items, list):
        raise ApiError(f"{where}: 'items' is {type(items).__name__}, not a list")
    raw_info = body.get("pageInfo")
    if not isinstance(raw_info, dict):
        raise ApiError(f"{where}: 'pageInfo' is {type(raw_info).__name__}, not an object")
    try:
        info = PageInfo.model_validate(raw_info)
    except ValidationError as exc:
        raise ApiError(f"{where}: 'pageInfo' is malformed ({exc.errors()[0]['msg']})") from None
    return items, info


class SearchResults(Generic[T]):
    """Results of a bulk id search: ids deduplicated, sent in chunks of 1000, each paged.

    Nothing is sent for an empty id list. Iterate for items, or :meth:`pages` for pages.
    """

    def __init__(
        self,
        transport: Transport,
        url: Callable[[], str],
        filter_key: str,
        ids: Sequence[str],
        parse: Parser[T],
        *,
        chunk_size: int = SEARCH_CHUNK_SIZE,
    ) -> None:
        self._transport = transport
        self._url = url
        self._filter_key = filter_key
        self._ids = list(dict.fromkeys(ids))
        self._parse = parse
        self._chunk_size = chunk_size

    @property
    def ids(self) -> list[str]:
        """The distinct ids searched, in first-seen order."""
        return list(self._ids)

    @property
    def chunks(self) -> list[list[str]]:
        """The id lists sent, one search request (plus its further pages) each."""
        size = self._chunk_size
        return [self._ids[i : i + size] for i in range(0, len(self._ids), size)]

    def __repr__(self) -> str:
        return f"SearchResults({self._filter_key}: {len(self._ids)} ids)"

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def raw(self) -> SearchResults[RawItem]:
        """The same searches, yielding the JSON objects exactly as received."""
        return SearchResults(
            self._transport,
            self._url,
            self._filter_key,
            self._ids,
            raw_parser,
            chunk_size=self._chunk_size,
        )

    def pages(self) -> Iterator[Page[T]]:
        """Fetch every page of every chunk's search."""
        base = PageRequest(method="POST", url=self._url)
        for chunk in self.chunks:
            body = orjson.dumps({"filter": {self._filter_key: chunk}})
            pager = Pager(self._transport, replace(base, body=body), self._parse)
            yield from pager.pages()
