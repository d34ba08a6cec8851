"""Guarantee 5, server side: whatever the server sends, a clear error or a tolerant parse, never
a skipped record and never a checkpoint past data that was not delivered.

The server is ``fake_api.FakeApi`` behind ``httpx.MockTransport``: honest, except for one lie per
test. SDK tests page through enriched events; sync tests run ``gta.sync.run_job`` into a JSON
lines file and then read the file and the state store.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.reliability.rel_fake_api import (
    PASSWORD,
    TOKEN,
    FakeApi,
    Lie,
    _info,
    _public,
    event,
    raw_response,
)
from tests.reliability.rel_support import record_figures

from gta.errors import ApiError, GtaError
from gta.sync import CheckpointStore, Job, run_job

pytestmark = pytest.mark.reliability

PAGE = 10
GOOD_PAGE = orjson.dumps(
    {"items": [_public(event(m)) for m in range(11, 21)], "pageInfo": _info("11", "20", True)}
)
BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "malformed-json": (b'{"items": [ {"id": "ev-11", ', "application/json"),
    "truncated-body": (GOOD_PAGE[: len(GOOD_PAGE) * 3 // 5], "application/json"),
    "html-200": (b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html"),
    "empty-200": (b"", "application/json"),
    "items-missing": (b'{"pageInfo": {"hasNextPage": false}}', "application/json"),
    "items-null": (b'{"items": null, "pageInfo": {"hasNextPage": false}}', "application/json"),
    "items-object": (b'{"items": {"id": "x"}, "pageInfo": {}}', "application/json"),
    "pageinfo-null": (b'{"items": [], "pageInfo": null}', "application/json"),
    "pageinfo-missing": (b'{"items": [{"id": "ev-11"}]}', "application/json"),
    "top-level-list": (b"[]", "application/json"),
    "invalid-utf8": (b'{"items": [{"id": "ev-\xff\xfe"}], "pageInfo": {}}', "application/json"),
    "more-but-no-cursor": (
        orjson.dumps({"items": [_public(event(11))], "pageInfo": _info(None, None, True)}),
        "application/json",
    ),
}
FIGURES: dict[str, Any] = {"sdk": {}, "sync": {}}


def _secret_free(text: str) -> None:
    assert PASSWORD not in text and TOKEN not in text
    assert "\n" not in text.strip(), f"not one line: {text!r}"


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_sdk_bad_page_is_a_clear_error(name: str) -> None:
    content, ctype = BAD_BODIES[name]
    api = FakeApi(lies={"events": raw_response(content, ctype)})
    with api.client() as client:
        pager = client.events.enriched(size=PAGE).raw()
        seen: list[str] = []
        with pytest.raises(ApiError) as caught:
            for page in pager.pages():
                seen += [item["id"] for item in page.items]
    good = [f"ev-{m}" for m in range(1, 11)]
    # the good page, nothing invented (a page whose only fault is a missing cursor is usable)
    assert seen == good or (name == "more-but-no-cursor" and seen == [*good, "ev-11"])
    assert pager.end_cursor == "10"  # not advanced by the bad answer
    _secret_free(str(caught.value))
    FIGURES["sdk"][name] = str(caught.value)


def _run(api: FakeApi, tmp: Path) -> tuple[BaseException | None, list[dict[str, Any]], Any]:
    out, state = tmp / "out.jsonl", tmp / "state.db"
    job = Job(
        name="rel", streams=["events"], format="annotation", sink_url=f"jsonl:{out}", page_size=PAGE
    )
    error: BaseException | None = None
    with api.client() as client, CheckpointStore(state) as store:
        try:
            run_job(client, job, store)
        except GtaError as exc:
            error = exc
        saved = store.get("rel", "CTA123456789", "events")
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()] if out.exists() else []
    return error, rows, saved.cursor if saved else None


# A cursor lie ("more-but-no-cursor") only means something on the paged events collection.
SYNC_CASES = [
    (name, where)
    for where in ("events", "detections")
    for name in sorted(BAD_BODIES)
    if not (where == "detections" and name == "more-but-no-cursor")
]


@pytest.mark.parametrize(("name", "where"), SYNC_CASES)
def test_sync_stops_on_bad_answer_without_advancing(name: str, where: str, tmp_path: Path) -> None:
    content, ctype = BAD_BODIES[name]
    api = FakeApi(lies={where: raw_response(content, ctype)})
    error, rows, cursor = _run(api, tmp_path)
    assert isinstance(error, ApiError), error
    _secret_free(str(error))
    delivered = {r["eventId"] for r in rows}
    # Two pages are enriched at once, so the second detections lookup (the one that lies) may
    # belong to page 2 or page 3: the checkpoint must stop just before whichever page it was.
    allowed = {"10"} if where == "events" else {"10", "20"}
    assert cursor in allowed
    good = {f"ev-{m}" for m in range(1, int(cursor) + 1)}
    assert delivered == good or (name == "more-but-no-cursor" and delivered == {*good, "ev-11"})
    # the next run, against an honest server, goes on from there and loses nothing
    error, rows, cursor = _run(FakeApi(), tmp_path)
    assert error is None
    assert cursor == "30"
    assert {r["eventId"] for r in rows} == {f"ev-{m}" for m in range(1, 31)}
    duplicates = len(rows) - len({r["recordId"] for r in rows})
    assert duplicates <= 1, "a re-run duplicated more than the page in flight"
    FIGURES["sync"][f"{where}/{name}"] = f"stopped at cursor {cursor}, resumed, 0 lost"


def _rewrite_events(mutate: Any) -> Lie:
    """A lie: the events of the second page, changed by ``mutate`` (a dict -> dict)."""

    def lie(request: httpx.Request, call: int) -> httpx.Response | None:
        if call != 2:
            return None
        items = [mutate(_public(event(m))) for m in range(11, 21)]
        body = {"items": items, "pageInfo": _info("11", "20", True)}
        return httpx.Response(200, content=orjson.dumps(body))

    return lie


ODD_ITEMS: dict[str, Any] = {
    "unknown-fields-and-enums": lambda e: {
        **e,
        "securityEventTypeId": 999_999,
        "newField": {"x": [1, 2]},
        "kind": "Unheard-Of",
    },
    "nulls-everywhere": lambda e: {
        **e,
        "threatDetectionIds": None,
        "securityAnnotation": None,
        "title": None,
        "affectedAssetId": None,
        "detectedAt": None,
    },
    "wrong-types": lambda e: {
        **e,
        "securityAnnotation": "not-an-object",
        "threatDetectionIds": "td-1",
        "affectedAssetId": 5,
        "title": ["a", "b"],
    },
    "missing-fields": lambda e: {"id": e["id"]},
    "huge-strings": lambda e: {**e, "title": "x" * 2_000_000, "subtitle": "é" * 100_000},
}


@pytest.mark.parametrize("name", sorted(ODD_ITEMS))
def test_sync_tolerates_odd_items_or_stops_cleanly(name: str, tmp_path: Path) -> None:
    api = FakeApi(lies={"events": _rewrite_events(ODD_ITEMS[name])})
    error, rows, cursor = _run(api, tmp_path)
    delivered = {r["eventId"] for r in rows}
    if error is None:  # tolerated: every event is there, the odd ones included
        assert cursor == "30"
        assert delivered == {f"ev-{m}" for m in range(1, 31)}
        if name == "huge-strings":
            titles = {len(r.get("eventTitle") or "") for r in rows if r["eventId"] == "ev-11"}
            assert titles == {2_000_000}
        outcome = "tolerated, all delivered"
    else:  # refused: clearly, and without moving past the page
        assert isinstance(error, GtaError)
        _secret_free(str(error))
        assert cursor == "10"
        assert {f"ev-{m}" for m in range(1, 11)} <= delivered
        outcome = f"refused: {error}"
    FIGURES["sync"][f"item/{name}"] = outcome


def test_cursor_that_repeats_stops_without_advancing(tmp_path: Path) -> None:
    def repeat(request: httpx.Request, call: int) -> httpx.Response | None:
        if call != 2:
            return None  # page 2 says "more" but gives back the cursor it was sent
        body = {
            "items": [_public(event(m)) for m in range(11, 21)],
            "pageInfo": _info("11", "10", True),
        }
        return httpx.Response(200, content=orjson.dumps(body))

    error, rows, cursor = _run(FakeApi(lies={"events": repeat}), tmp_path)
    assert isinstance(error, ApiError)
    assert cursor == "10"
    error, rows, cursor = _run(FakeApi(), tmp_path)
    assert error is None and cursor == "30"
    assert {r["eventId"] for r in rows} == {f"ev-{m}" for m in range(1, 31)}
    FIGURES["sync"]["cursor-repeats"] = "clear error, checkpoint kept at 10, resumed, 0 lost"


def test_cursor_that_goes_backward_loses_nothing(tmp_path: Path) -> None:
    def backward(request: httpx.Request, call: int) -> httpx.Response | None:
        if call != 3:
            return None  # page 3 (after=20) gives events 21-30 but endCursor 5
        body = {
            "items": [_public(event(m)) for m in range(21, 31)],
            "pageInfo": _info("21", "5", True),
        }
        return httpx.Response(200, content=orjson.dumps(body))

    error, rows, cursor = _run(FakeApi(lies={"events": backward}), tmp_path)
    if error is not None:
        assert isinstance(error, ApiError)
        assert cursor in ("10", "20")
        error, rows, cursor = _run(FakeApi(), tmp_path)
    assert error is None and cursor == "30"
    assert {r["eventId"] for r in rows} == {f"ev-{m}" for m in range(1, 31)}
    FIGURES["sync"]["cursor-backward"] = (
        f"0 lost, {len(rows) - len({r['recordId'] for r in rows})} re-delivered"
    )


def test_cursor_cycle_is_detected_not_followed_forever() -> None:
    """A server whose endCursor alternates between two values (hasNextPage always true) must
    not make the pager loop forever (each loop re-delivers the same records: unbounded
    duplicates, and ``gta sync`` never finishes)."""

    def cycle(request: httpx.Request, call: int) -> httpx.Response | None:
        after = request.url.params.get("after")
        end = "20" if after in (None, "10") else "10"
        body = {
            "items": [_public(event(m)) for m in range(1, 11)],
            "pageInfo": _info("1", end, True),
        }
        return httpx.Response(200, content=orjson.dumps(body))

    api = FakeApi(lies={"events": cycle})
    with api.client() as client:
        pages = client.events.enriched(size=PAGE).raw().pages()
        try:
            fetched = sum(1 for _ in itertools.islice(pages, 50))
        except ApiError as exc:
            FIGURES["sdk"]["cursor-cycle"] = str(exc)
            return
    FIGURES["sdk"]["cursor-cycle"] = f"followed a 2-cursor cycle for {fetched} pages (bug)"
    pytest.fail(f"the pager followed a cursor cycle for {fetched} pages without an error")


def test_zz_record_figures() -> None:
    """Runs last in this module (name order): store what the tests above saw."""
    assert FIGURES["sdk"] and FIGURES["sync"]
    record_figures("bad_server_input", FIGURES)
