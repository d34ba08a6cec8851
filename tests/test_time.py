"""The one duration parser and the one RFC 3339 formatter (``gta._time``), from tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gta._time import duration_seconds, format_rfc3339


@pytest.mark.parametrize(
    ("text", "bare", "seconds"),
    [
        ("30s", False, 30.0),
        ("1.5h", False, 5400.0),
        (" 7D ", False, 604800.0),
        ("2w", True, 1209600.0),
        ("90", True, 90.0),
        ("90", False, None),
        ("0s", False, 0.0),
        ("7y", True, None),
        ("-1m", True, None),
        ("1e3s", True, None),
        ("5 minutes", True, None),
        ("", True, None),
    ],
)
def test_duration_seconds(text: str, bare: bool, seconds: float | None) -> None:
    assert duration_seconds(text, bare_seconds=bare) == seconds


def test_both_duration_syntaxes_share_the_parser() -> None:
    """The sync file's intervals now take weeks and any case, as the commands' durations do."""
    from gta.cli._durations import parse_duration
    from gta.sync._config import parse_interval

    assert parse_interval("1W") == parse_duration("1w").total_seconds() == 604800.0
    assert parse_interval("90") == 90.0


def test_format_rfc3339_is_utc_with_z_and_truncates() -> None:
    moment = datetime(2026, 1, 31, 14, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_rfc3339(moment) == "2026-01-31T12:00:00.123Z"
    assert format_rfc3339(moment, "seconds") == "2026-01-31T12:00:00Z"
    assert format_rfc3339(moment, "microseconds") == "2026-01-31T12:00:00.123999Z"
    assert format_rfc3339(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"
