"""The pure functions behind retries, token refresh, cursors and parameters, from tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gta.client._client import normalize_url
from gta.client._exceptions import ConfigurationError
from gta.client._pagination import CursorStuckError, next_cursor
from gta.client._params import format_datetime, path_id, query, search_ids, validate_size
from gta.client._retry import (
    Runtime,
    backoff_delay,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
    token_refresh_delay,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 1.0, 0.5),
        (0, 0.5, 0.25),
        (1, 1.0, 1.0),
        (3, 1.0, 4.0),
        (3, 0.0, 0.0),
        (6, 1.0, 30.0),  # 0.5 * 64 = 32 -> capped at 30
        (500, 0.5, 15.0),  # no overflow for a huge attempt number
    ],
)
def test_backoff_full_jitter(attempt: int, rand: float, expected: float) -> None:
    assert backoff_delay(attempt, rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("100000", 120.0),  # capped
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:59:00 GMT", 0.0),  # in the past
        ("Fri, 02 Jan 2026 12:00:00 GMT", 120.0),  # a day ahead, capped
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_delay_prefers_server_word() -> None:
    assert retry_delay(5, 3.0, 0.9) == 3.0
    assert retry_delay(2, None, 0.5) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (200, False),
        (400, False),
        (401, False),
        (404, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (600, False),
    ],
)
def test_retryable_status(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadError("reset by peer"), True),
        (httpx.RemoteProtocolError("server disconnected"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.ConnectTimeout("slow"), True),
        (httpx.PoolTimeout("busy"), True),
        (httpx.UnsupportedProtocol("ftp"), False),
        (httpx.DecodingError("gzip"), False),
    ],
)
def test_retryable_exception(exc: Exception, retry: bool) -> None:
    assert is_retryable_exception(exc) is retry


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        (600, 480.0),
        (3600, 2880.0),
        (200, 140.0),
        (100, 50.0),
        (10, 5.0),
        (2, 1.0),
        (0, 0.0),
        (-5, 0.0),
    ],
)
def test_token_refresh_delay(expires_in: float, expected: float) -> None:
    assert token_refresh_delay(expires_in) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sent", "has_more", "cursor", "count", "expected"),
    [
        (None, True, "c1", 10, "c1"),
        ("c1", True, "c2", 10, "c2"),
        ("c1", False, "c2", 10, None),
        ("c1", None, "c2", 10, None),
        ("c1", True, None, 0, None),  # empty page stops
        ("c1", True, "c9", 0, None),
    ],
)
def test_next_cursor(
    sent: str | None, has_more: bool | None, cursor: str | None, count: int, expected: str | None
) -> None:
    assert next_cursor(sent, has_more, cursor, count) == expected


@pytest.mark.parametrize(("sent", "cursor"), [("c1", "c1"), ("c1", None), (None, None)])
def test_next_cursor_refuses_to_loop(sent: str | None, cursor: str | None) -> None:
    with pytest.raises(CursorStuckError):
        next_cursor(sent, True, cursor, 5)


PLUS2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2020, 10, 14, 13, 59, 54, 47000, tzinfo=UTC), "2020-10-14T13:59:54.047Z"),
        (datetime(2020, 10, 14, 15, 0, 0, tzinfo=PLUS2), "2020-10-14T13:00:00.000Z"),
        ("2020-10-14T15:00:00+02:00", "2020-10-14T15:00:00+02:00"),
        ("yesterday-ish", "yesterday-ish"),  # strings are the caller's business
    ],
)
def test_format_datetime(value: datetime | str, expected: str) -> None:
    assert format_datetime(value, "triggeredAfter") == expected


@pytest.mark.parametrize("bad", [datetime(2020, 1, 1), "", "  ", 12])
def test_format_datetime_rejects(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="triggeredAfter"):
        format_datetime(bad, "triggeredAfter")  # type: ignore[arg-type]


def test_query_drops_none_and_formats() -> None:
    when = datetime(2021, 1, 1, tzinfo=UTC)
    assert query(sort="x", size=5, after=None, modifiedAfter=when) == (
        ("sort", "x"),
        ("size", "5"),
        ("modifiedAfter", "2021-01-01T00:00:00.000Z"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), ("a/b?c#d", "a%2Fb%3Fc%23d"), ("../x", "..%2Fx"), ("é", "%C3%A9")],
)
def test_path_id_quotes(value: str, expected: str) -> None:
    assert path_id(value, "alert_id") == expected


@pytest.mark.parametrize("bad", ["", "   ", None, 5])
def test_path_id_rejects(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="alert_id"):
        path_id(bad, "alert_id")


def test_search_ids_dedupes_and_validates() -> None:
    assert search_ids(["b", "a", "b", "c", "a"], "ids") == ["b", "a", "c"]
    assert search_ids(iter(()), "ids") == []
    with pytest.raises(ConfigurationError, match="single string"):
        search_ids("abc", "ids")
    with pytest.raises(ConfigurationError, match="non-empty"):
        search_ids(["a", ""], "ids")


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_validate_size_rejects(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="size"):
        validate_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("visibility.eu.amp.cisco.com", "https://visibility.eu.amp.cisco.com"),
        ("https://visibility.amp.cisco.com/", "https://visibility.amp.cisco.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        (" 127.0.0.1:9000 ", "https://127.0.0.1:9000"),
        ("http://127.0.0.1:8123/prefix/", "http://127.0.0.1:8123/prefix"),
    ],
)
def test_normalize_url(value: str, expected: str) -> None:
    assert normalize_url(value, "GTA_API_URL") == expected


@pytest.mark.parametrize("bad", ["", "ftp://host", "https://", "https://h/?q=1"])
def test_normalize_url_rejects(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="GTA_API_URL"):
        normalize_url(bad, "GTA_API_URL")


@given(attempt=st.integers(min_value=0, max_value=10_000), rand=st.floats(0.0, 1.0))
def test_backoff_always_within_cap(attempt: int, rand: float) -> None:
    assert 0.0 <= backoff_delay(attempt, rand) <= 30.0


@settings(max_examples=60, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.timezones(),
    )
)
def test_format_datetime_is_the_same_instant_in_utc(when: datetime) -> None:
    text = format_datetime(when, "after")
    assert text.endswith("Z")
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() == timedelta(0)
    # Truncated to milliseconds, never later: a strictly-greater-than filter loses nothing.
    assert timedelta(0) <= when - parsed < timedelta(milliseconds=1)


def test_default_runtime_is_real() -> None:
    runtime = Runtime()
    assert 0.0 <= runtime.random() < 1.0
    assert runtime.now().tzinfo is not None
    assert runtime.monotonic() <= runtime.monotonic()
