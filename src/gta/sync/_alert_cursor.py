"""The alerts stream's cursor: a timestamp with a bounded memory of the boundary.

Alerts have no modification sequence number; the only incremental filter is ``modifiedAfter``
(strictly greater), so a plain timestamp cursor would lose an alert modified in the same
millisecond as the last one delivered but committed after our read. We re-read an overlap window
before the saved timestamp and drop versions (id, modifiedAt) already delivered: equal
timestamps lose nothing, and the set to remember is only the versions inside that window (capped;
forgetting one can only cause a duplicate, never a loss).

Alert pages are ordered by risk and id, not by time, so a scan commits page by page with the
scan's own lower bound and page cursor (``scan``): a crash resumes the same scan where it
stopped. An alert that sorts before the page cursor and changes while the scan is stopped (or
during a long scan) is not in this scan, and its new ``modifiedAt`` may be older than the
scan's high-water mark. So a scan also records when it started, in server terms (``started``:
the newest ``modifiedAt`` on its first page, never earlier than the previous ``since``; every
change made after the first page was served is newer than that). When the scan ends,
``since`` becomes the earlier of the high-water mark and that start, and the versions delivered
from the overlap window before it on become the ``boundary``: re-reading the scan's own
versions next time is deduplicated, not lost.

No timestamp from the server can move the cursor past the server's present. Every page comes
with the server's own time (its HTTP ``Date``; our clock when it sends none), and each
``modifiedAt`` counts towards the high-water mark and the scan's start only up to that time. An
alert stamped in the future (a clock bug, a proxy) is delivered once per version, but ``since``
stays at the present; the alert keeps matching ``modifiedAfter``, so its version stays in the
boundary (a version ahead of ``since`` is kept only while scans still see it) and a later real
change, even one stamped *earlier* than the bogus time, is a new version and is delivered.

Everything here is pure; the stream module does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gta._time import format_rfc3339
from gta.errors import InputError

DEFAULT_OVERLAP = timedelta(minutes=5)
DEFAULT_BOUNDARY_CAP = 10_000

Version = tuple[str, str]  # (alert id, modifiedAt)


class CursorFormatError(InputError, ValueError):
    """A saved or user-given alerts cursor cannot be read."""


def parse_time(value: str) -> datetime:
    """RFC 3339 to an aware UTC datetime (``Z`` or an offset; any fraction digits)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CursorFormatError(f"not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise CursorFormatError(f"time {value!r} has no time zone; add Z")
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds and ``Z`` (truncating, so a window never shrinks)."""
    return format_rfc3339(value)


@dataclass(frozen=True)
class Scan:
    """A scan in progress: its ``modifiedAfter`` lower bound and the page cursor reached."""

    modified_after: str | None
    after: str | None = None
    high_water: str | None = None
    delivered: tuple[Version, ...] = ()
    started: str | None = None  # server time the scan began, at the latest (see the module doc)


@dataclass(frozen=True)
class AlertCursor:
    """What the alerts stream has delivered: every version modified up to ``since``, plus the
    ``boundary`` versions (modified in the overlap window before ``since``)."""

    since: str | None = None
    boundary: tuple[Version, ...] = ()
    scan: Scan | None = field(default=None)

    # -- text form (stored in the checkpoint) -----------------------------------------------

    def dumps(self) -> str:
        data: dict[str, Any] = {"since": self.since, "boundary": [list(v) for v in self.boundary]}
        if self.scan is not None:
            data["scan"] = {
                "modifiedAfter": self.scan.modified_after,
                "after": self.scan.after,
                "highWater": self.scan.high_water,
                "delivered": [list(v) for v in self.scan.delivered],
                "started": self.scan.started,
            }
        return orjson.dumps(data).decode()

    @classmethod
    def loads(cls, text: str | None) -> AlertCursor:
        """A saved cursor; also accepts a bare RFC 3339 time (as typed in ``gta state set``)."""
        if text is None or not text.strip():
            return cls()
        text = text.strip()
        if not text.startswith("{"):
            return cls(since=format_time(parse_time(text)))
        try:
            data = orjson.loads(text)
            scan = data.get("scan")
            loaded = cls(
                since=data.get("since"),
                boundary=_versions(data.get("boundary", [])),
                scan=None
                if scan is None
                else Scan(
                    modified_after=scan.get("modifiedAfter"),
                    after=scan.get("after"),
                    high_water=scan.get("highWater"),
                    delivered=_versions(scan.get("delivered", [])),
                    started=scan.get("started"),
                ),
            )
            loaded._check_times()
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, IndexError):
            raise CursorFormatError("the alerts cursor is malformed") from None
        return loaded

    def _check_times(self) -> None:
        """Every time in the cursor must be RFC 3339 (CursorFormatError, a ValueError, if not)."""
        times = [self.since, *(v[1] for v in self.boundary)]
        if self.scan is not None:
            scan = self.scan
            times += [scan.modified_after, scan.high_water, scan.started]
            times += [v[1] for v in scan.delivered]
        for value in times:
            if value is not None and not isinstance(value, str):
                raise TypeError("a time must be a string")
            if value is not None:
                parse_time(value)

    # -- the protocol -------------------------------------------------------------------------

    def begin(self, overlap: timedelta = DEFAULT_OVERLAP) -> AlertCursor:
        """Start a scan (or keep the one a crash interrupted)."""
        if self.scan is not None:
            return self
        lower = None if self.since is None else format_time(parse_time(self.since) - overlap)
        return replace(self, scan=Scan(modified_after=lower, high_water=self.since))

    def accept(
        self,
        items: Iterable[dict[str, Any]],
        page_cursor: str | None,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        cap: int = DEFAULT_BOUNDARY_CAP,
        now: datetime | None = None,
    ) -> tuple[AlertCursor, list[dict[str, Any]]]:
        """Take one page of a scan: the alerts to deliver, and the cursor after them.

        ``now`` is the server's present when it served the page (its ``Date``; our clock when
        ``None``): no time beyond it enters the high-water mark or the scan's start.
        """
        scan = self.scan or self.begin(overlap).scan
        assert scan is not None
        present = now.astimezone(UTC) if now is not None else datetime.now(UTC)
        items = list(items)
        started = scan.started
        if started is None and scan.after is None:  # the scan's first page
            started = _started(items, self.since, present)
        known = set(self.boundary)
        fresh: list[dict[str, Any]] = []
        delivered = list(scan.delivered)
        in_scan = set(delivered)
        high = parse_time(scan.high_water) if scan.high_water else None
        if high is not None and high > present:
            high = present
        for alert in items:
            version = _version_of(alert)
            if version is not None and version in known:
                if version not in in_scan:  # seen again: stays remembered (see finish)
                    delivered.append(version)
                    in_scan.add(version)
                continue
            fresh.append(alert)
            if version is None:
                continue
            delivered.append(version)
            modified = min(parse_time(version[1]), present)
            if high is None or modified > high:
                high = modified
        kept = _window(delivered, _earlier(high, started), overlap, cap)
        new_scan = Scan(
            modified_after=scan.modified_after,
            after=page_cursor if page_cursor is not None else scan.after,
            high_water=format_time(high) if high else scan.high_water,
            delivered=tuple(kept),
            started=started,
        )
        return replace(self, scan=new_scan), fresh

    def finish(
        self, *, overlap: timedelta = DEFAULT_OVERLAP, cap: int = DEFAULT_BOUNDARY_CAP
    ) -> AlertCursor:
        """End the scan: ``since`` becomes the earlier of its high-water mark and its start (a
        change made during the scan, or while it was stopped, is newer than the start), and the
        versions delivered from the overlap window before ``since`` on become the boundary."""
        if self.scan is None:
            return self
        scan = self.scan
        high_text = scan.high_water or self.since
        high = parse_time(high_text) if high_text else None
        started = scan.started
        if started is None and scan.after is not None:
            # A scan saved before starts were recorded: its lower bound is a safe start.
            started = scan.modified_after or ""
        since = _earlier(high, started)
        if since is None:
            return AlertCursor()
        # Versions of the previous boundary still inside the new window stay known too; one
        # stamped after ``since`` (a future ``modifiedAt``) matched this scan's filter, so it
        # stays only if the scan saw it again (``delivered``): otherwise it has changed since.
        merged = [v for v in self.boundary if parse_time(v[1]) <= since]
        merged += list(scan.delivered)
        kept = _window(merged, since, overlap, cap)
        return AlertCursor(since=format_time(since), boundary=tuple(dict.fromkeys(kept)))


def _started(items: list[dict[str, Any]], since: str | None, present: datetime) -> str | None:
    """The scan's start in server terms, at the latest: the newest ``modifiedAt`` its first
    page shows, or the previous ``since`` (itself before the previous scan began) if later;
    never later than the server's present when it served that page."""
    times = [parse_time(v[1]) for v in map(_version_of, items) if v is not None]
    if since is not None:
        times.append(parse_time(since))
    return format_time(min(max(times), present)) if times else None


def ahead_of(alert: dict[str, Any], present: datetime, tolerance: timedelta) -> bool:
    """Whether the alert's ``modifiedAt`` lies more than ``tolerance`` after ``present``."""
    version = _version_of(alert)
    return version is not None and parse_time(version[1]) > present + tolerance


def _earlier(high: datetime | None, started: str | None) -> datetime | None:
    """The earlier of the high-water mark and the scan's start; ``""`` (unknown start): None."""
    if started is None:
        return high
    if not started:
        return None
    start = parse_time(started)
    return start if high is None else min(high, start)


def _version_of(alert: dict[str, Any]) -> Version | None:
    aid, modified = alert.get("id"), alert.get("modifiedAt")
    if isinstance(aid, str) and isinstance(modified, str):
        try:
            parse_time(modified)
        except CursorFormatError:
            return None
        # Kept as sent: two versions within one millisecond must stay distinct.
        return aid, modified
    return None


def _window(
    versions: list[Version], high: datetime | None, overlap: timedelta, cap: int
) -> list[Version]:
    """The versions modified within ``overlap`` of ``high``, newest ``cap`` of them."""
    if high is None:
        return []
    floor = high - overlap
    inside = [v for v in versions if parse_time(v[1]) >= floor]
    inside.sort(key=lambda v: parse_time(v[1]))
    return inside[-cap:]


def _versions(raw: Any) -> tuple[Version, ...]:
    if not isinstance(raw, list):
        raise TypeError("versions must be a list")
    return tuple((str(v[0]), str(v[1])) for v in raw)
