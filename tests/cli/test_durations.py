"""Relative ages and RFC 3339 instants, from tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gta.cli._durations import format_rfc3339, parse_duration, parse_instant
from gta.cli._errors import UsageError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7y", "-7d", "0s", "7 days", "1e3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ("2026-01-31T12:00:00.250z", datetime(2026, 1, 31, 12, 0, 0, 250000, tzinfo=UTC)),
        ("2026-01-31T14:00:00+02:00", datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    parsed = parse_instant(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-01-31", "2026-01-31T12:00:00", "2026-13-01T00:00:00Z"]
)
def test_parse_instant_rejects(text: str) -> None:
    with pytest.raises(UsageError, match=r"invalid time"):
        parse_instant(text, now=NOW)


def test_format_rfc3339_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 1, 31, 14, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=0)
    assert format_rfc3339(moment) == "2026-01-31T14:00:00.123Z"
