"""The watch loop over the real SDK and a scripted API (httpx.MockTransport): no real waiting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from tests._support.fake_api import CUSTOMER, FakeApi, json_response, make_client

from gta import Client
from gta.cli._alert_ops import AlertFilter
from gta.cli._watch import watch
from gta.errors import AuthenticationError


def _alert(
    alert_id: str, modified: str, *, triggered: str | None = None, risk: str = "High"
) -> Any:
    return {
        "id": alert_id,
        "risk": risk,
        "status": {"value": "New", "closingReasons": None},
        "triggeredAt": triggered or modified,
        "modifiedAt": modified,
        "note": None,
    }


class AlertsApi:
    """Alerts in memory behind the shared fake API; ``modifiedAfter`` is strictly greater-than,
    as documented. ``http.fail`` scripts answers to the next alert listings."""

    def __init__(self, alerts: list[dict[str, Any]]) -> None:
        self.alerts = {a["id"]: a for a in alerts}
        self.queries: list[str | None] = []
        self.http = FakeApi()
        self.http.route("GET", f"/alert-management/customer/{CUSTOMER}/alerts", self._list)

    def fail(self, *statuses: int) -> None:
        self.http.fail.extend(json_response(status, {"title": "boom"}) for status in statuses)

    def _list(self, request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("modifiedAfter")
        self.queries.append(after)
        items = [
            a
            for a in self.alerts.values()
            if after is None or _instant(a["modifiedAt"]) > _instant(after)
        ]
        info = {"hasNextPage": False, "hasPreviousPage": False, "next": None, "previous": None}
        info |= {"startCursor": "s" if items else None, "endCursor": "e" if items else None}
        return httpx.Response(200, content=orjson.dumps({"items": items, "pageInfo": info}))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _client(api: AlertsApi) -> Client:
    return make_client(api.http, max_retries=0)


def _steps(*actions: Callable[[], None]) -> Callable[[float], None]:
    """A fake sleep that performs the next scripted change instead of waiting."""
    pending = list(actions)

    def sleep(_: float) -> None:
        if pending:
            pending.pop(0)()

    return sleep


def test_reports_each_new_or_changed_version_once_after_a_baseline() -> None:
    api = AlertsApi(
        [_alert("a", "2024-05-01T10:00:00.000Z"), _alert("b", "2024-05-01T10:00:01.000Z")]
    )
    seen: list[tuple[str, str, str]] = []

    def change_b() -> None:
        api.alerts["b"] = {**api.alerts["b"], "modifiedAt": "2024-05-01T10:00:02.000Z", "note": "x"}

    def add_c() -> None:
        api.alerts["c"] = _alert("c", "2024-05-01T10:00:02.000Z")  # same instant as b's change

    with _client(api) as client:
        state = watch(
            client,
            lambda alert, kind: seen.append((alert["id"], alert["modifiedAt"], kind)),
            where=AlertFilter(),
            interval=30,
            count=2,
            duration=30,  # a safety net: a bug must fail the test, not hang it
            sleep=_steps(change_b, lambda: None, add_c),
        )
    assert seen == [
        ("b", "2024-05-01T10:00:02.000Z", "changed"),
        ("c", "2024-05-01T10:00:02.000Z", "new"),
    ]
    assert state.reported == 2
    # Polls reach back by the overlap before the newest modifiedAt seen.
    assert api.queries[1] == "2024-05-01T09:59:56.000Z"


def test_filters_apply_to_reported_versions() -> None:
    api = AlertsApi([_alert("a", "2024-05-01T10:00:00.000Z")])
    seen: list[str] = []

    def add_two() -> None:
        api.alerts["low"] = _alert("low", "2024-05-01T10:01:00.000Z", risk="Low")
        api.alerts["high"] = _alert("high", "2024-05-01T10:01:01.000Z", risk="High")

    with _client(api) as client:
        watch(
            client,
            lambda alert, kind: seen.append(alert["id"]),
            where=AlertFilter(risks=frozenset({"High"})),
            interval=1,
            count=1,
            duration=30,  # a safety net: a bug must fail the test, not hang it
            sleep=_steps(add_two),
        )
    assert seen == ["high"]


def test_transient_errors_are_logged_and_polling_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    api = AlertsApi([_alert("a", "2024-05-01T10:00:00.000Z")])
    seen: list[str] = []

    def fail_then_add() -> None:
        api.fail(503)
        api.alerts["n"] = _alert("n", "2024-05-01T10:05:00.000Z")

    problems: list[str | None] = []
    api.fail(502)  # the baseline itself fails once and is tried again
    with caplog.at_level(logging.WARNING), _client(api) as client:
        watch(
            client,
            lambda alert, kind: seen.append(alert["id"]),
            where=AlertFilter(),
            interval=1,
            count=1,
            duration=30,  # a safety net: a bug must fail the test, not hang it
            sleep=_steps(lambda: None, fail_then_add),
            on_poll=lambda state, problem: problems.append(problem),
        )
    assert seen == ["n"]
    assert problems[0] is not None and "502" in problems[0]
    assert problems[1] is None  # the baseline
    assert problems[2] is not None and "503" in problems[2]
    assert any("poll failed, will retry" in r.getMessage() for r in caplog.records)


def test_duration_stops_the_watch_and_bad_credentials_do_not_loop() -> None:
    api = AlertsApi([])
    ticks = iter([0.0, 0.0, 5.0, 10.0, 15.0, 20.0])
    with _client(api) as client:
        state = watch(
            client,
            lambda alert, kind: None,
            where=AlertFilter(),
            interval=5,
            duration=10,
            sleep=lambda _: None,
            monotonic=lambda: next(ticks),
        )
    assert state.reported == 0 and state.cursor is None
    assert len(api.queries) == 3  # the baseline at 0 s, then polls at 5 and 10 s

    api.fail(401, 401, 401)
    with _client(api) as client, pytest.raises(AuthenticationError):
        watch(client, lambda a, k: None, where=AlertFilter(), interval=1, sleep=lambda _: None)


class DatedApi(AlertsApi):
    """The same API, answering with an HTTP ``Date`` (the server's present)."""

    def __init__(self, alerts: list[dict[str, Any]], date: str) -> None:
        self.date = date
        super().__init__(alerts)

    def _list(self, request: httpx.Request) -> httpx.Response:
        response = super()._list(request)
        response.headers["Date"] = self.date
        return response


def test_a_future_modified_at_does_not_move_the_watch_past_the_servers_present() -> None:
    # The watch shares the alerts stream's cursor (gta.sync.AlertCursor): a clock bug on one
    # alert must not make every later real change fall behind the cursor.
    api = DatedApi(
        [_alert("a", "2024-05-01T10:00:00.000Z"), _alert("bogus", "2030-01-01T00:00:00.000Z")],
        date="Wed, 01 May 2024 10:00:05 GMT",
    )
    seen: list[tuple[str, str]] = []

    def change_a() -> None:
        api.alerts["a"] = {**api.alerts["a"], "modifiedAt": "2024-05-01T10:00:03.000Z"}

    with _client(api) as client:
        state = watch(
            client,
            lambda alert, kind: seen.append((alert["id"], alert["modifiedAt"])),
            where=AlertFilter(),
            interval=1,
            count=1,
            duration=30,  # a safety net: a bug must fail the test, not hang it
            sleep=_steps(change_a, lambda: None),
        )
    assert seen == [("a", "2024-05-01T10:00:03.000Z")]  # the bogus one is not reported again
    assert api.queries[1] == "2024-05-01T10:00:00.000Z"  # the present, minus the overlap
    assert state.cursor == datetime.fromisoformat("2024-05-01T10:00:05+00:00")
