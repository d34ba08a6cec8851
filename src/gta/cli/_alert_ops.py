"""What the ``gta alerts`` commands do, as plain functions over a :class:`gta.Client`.

The Typer declarations in :mod:`gta.cli._alerts` only parse flags and call these. Everything works
on the API's JSON dicts (the SDK's ``.raw()`` pagers), which is both the cheapest path and the
shape the script-facing output keeps.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gta.cli._durations import format_rfc3339, parse_instant
from gta.cli._errors import CommandError, UsageError

if TYPE_CHECKING:
    from gta import Client

__all__ = [
    "CLOSING_REASONS",
    "RISKS",
    "STATUSES",
    "AlertDetails",
    "AlertFilter",
    "alert_details",
    "as_dict",
    "completer",
    "get_alert",
    "iter_alerts",
    "normalise_choices",
    "resolve_id",
]

RISKS = ("Critical", "High", "Medium", "Low")
STATUSES = ("New", "Open", "Closed")
# The closing reasons the API knows (the emulator's list; a test keeps the two equal).
CLOSING_REASONS = ("Remediated", "FalsePositive", "AcceptedRisk", "Duplicate", "Other")
PAGE_SIZE = 1000  # the API's maximum: client-side filters read whole pages anyway


def normalise_choices(values: Sequence[str], valid: Sequence[str], what: str) -> frozenset[str]:
    """Map user spellings (any case, comma lists allowed) to the API's values, or fail clearly."""
    by_lower = {item.lower(): item for item in valid}
    chosen: set[str] = set()
    for value in values:
        for part in value.split(","):
            key = part.strip().lower()
            if key not in by_lower:
                raise UsageError(f"invalid {what} {part.strip()!r}: choose from {', '.join(valid)}")
            chosen.add(by_lower[key])
    return frozenset(chosen)


def completer(valid: Sequence[str]) -> Callable[[str], list[str]]:
    """A shell-completion callback offering the *valid* values that start with what was typed
    (any case; after the last comma of a comma list)."""

    def complete(incomplete: str) -> list[str]:
        head, comma, last = incomplete.rpartition(",")
        prefix = head + comma
        return [prefix + item for item in valid if item.lower().startswith(last.lower())]

    return complete


def as_dict(value: Any) -> dict[str, Any]:
    """An SDK model or a dict as the API's camelCase JSON dict.

    Datetimes are written back the way the API writes them (UTC, milliseconds, ``Z``), so a
    single alert reads the same as one from a raw listing.
    """
    if isinstance(value, Mapping):
        return dict(value)
    dumped: dict[str, Any] = _json_times(value.model_dump(by_alias=True))
    return dumped


def _json_times(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_rfc3339(value)
    if isinstance(value, dict):
        return {key: _json_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_times(item) for item in value]
    return value


def status_of(alert: Mapping[str, Any]) -> str | None:
    status = alert.get("status")
    value = status.get("value") if isinstance(status, Mapping) else status
    return None if value is None else str(value)


@dataclass(frozen=True)
class AlertFilter:
    """The client-side part of a listing: the API filters only by time, so risk, status and
    ``triggered_before`` are checked here, page by page."""

    risks: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    triggered_before: datetime | None = None

    def matches(self, alert: Mapping[str, Any]) -> bool:
        if self.risks and alert.get("risk") not in self.risks:
            return False
        if self.statuses and status_of(alert) not in self.statuses:
            return False
        if self.triggered_before is not None:
            triggered = alert.get("triggeredAt")
            if not triggered:
                return False
            try:
                moment = parse_instant(str(triggered))
            except UsageError:
                return False
            if moment >= self.triggered_before:
                return False
        return True

    @property
    def is_empty(self) -> bool:
        return not (self.risks or self.statuses or self.triggered_before)


def iter_alerts(
    client: Client,
    where: AlertFilter,
    *,
    sort: str | None = None,
    triggered_after: datetime | None = None,
    modified_after: datetime | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Alerts as dicts, filtered client-side while paging lazily; stops at *limit* matches.

    Without a client-side filter a small limit asks for a small page, so ``--limit 5`` costs
    one short request rather than a page of 1000.
    """
    size = PAGE_SIZE
    if where.is_empty and limit:
        size = min(limit, PAGE_SIZE)
    pager = client.alerts.list(
        sort=sort, triggered_after=triggered_after, modified_after=modified_after, size=size
    ).raw()
    matching = (dict(alert) for alert in pager if where.matches(alert))
    return itertools.islice(matching, limit) if limit else matching


FULL_ID_LENGTH = 64  # alert ids are 64 hex characters (API.md section 5)
_HEX = frozenset("0123456789abcdef")


def resolve_id(client: Client, text: str) -> str:
    """A full alert id from a full id or a unique prefix (the table shows 12 characters).

    A prefix costs one pass over the alerts, the smallest collection; a full id costs nothing.
    """
    candidate = text.strip().lower()
    if len(candidate) >= FULL_ID_LENGTH or not candidate or not set(candidate) <= _HEX:
        return text.strip()
    if len(candidate) < 6:
        raise UsageError(f"alert id prefix {text!r} is too short: give at least 6 characters")
    matches = [
        str(alert["id"])
        for alert in client.alerts.list(size=PAGE_SIZE).raw()
        if str(alert.get("id", "")).lower().startswith(candidate)
    ]
    if not matches:
        raise CommandError(
            f"alert {text} not found (it may have been removed after its detections timed out)"
        )
    if len(matches) > 1:
        raise UsageError(f"alert id prefix {text!r} matches {len(matches)} alerts: give more of it")
    return matches[0]


def get_alert(client: Client, alert_id: str) -> dict[str, Any]:
    """One alert; a 404 becomes the one-line explanation the vendor guide implies."""
    from gta.errors import NotFoundError

    try:
        return as_dict(client.alerts.get(alert_id))
    except NotFoundError:
        raise CommandError(
            f"alert {alert_id} not found (it may have been removed after its detections timed out)"
        ) from None


@dataclass
class AlertDetails:
    """An alert with what a person needs to triage it."""

    alert: dict[str, Any]
    detections: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "threatDetections": [
                {**td, "threatIntelRecord": self.records.get(str(td.get("threatIntelRecordId")))}
                for td in self.detections
            ],
            "assets": list(self.assets.values()),
            "events": self.events,
        }


def alert_details(client: Client, alert_id: str, *, events: int = 10) -> AlertDetails:
    """Gather an alert, its detections (with threat-intel records), assets and recent events.

    The API cannot search detections by alert: the enriched search takes detection ids only.
    So we page the threat detections (1000 a page, ids only needed) and ask the enriched search
    for each page's ids, keeping those whose ``alertIds`` name this alert: two requests per
    thousand detections, and detections are an order of magnitude fewer than events, which is
    why we do not scan enriched events for this. Events are then found by scanning enriched events
    detected or modified since the alert's first detection (see :func:`recent_events`).
    """
    alert_id = resolve_id(client, alert_id)
    alert = get_alert(client, alert_id)
    detections = find_detections(client, alert_id)
    record_ids = sorted(
        {str(td["threatIntelRecordId"]) for td in detections if td.get("threatIntelRecordId")}
    )
    asset_ids = sorted(
        {str(td["affectedAssetId"]) for td in detections if td.get("affectedAssetId")}
    )
    records = (
        {str(r["id"]): dict(r) for r in client.threat_intel.search(record_ids).raw()}
        if record_ids
        else {}
    )
    assets = (
        {str(a["id"]): dict(a) for a in client.assets.search(asset_ids).raw()} if asset_ids else {}
    )
    found = recent_events(client, detections, limit=events) if events > 0 else []
    return AlertDetails(alert, detections, records, assets, found)


def find_detections(client: Client, alert_id: str) -> list[dict[str, Any]]:
    """The threat detections whose ``alertIds`` contain *alert_id* (see :func:`alert_details`)."""
    found: list[dict[str, Any]] = []
    for page in client.threat_detections.list(size=PAGE_SIZE).raw().pages():
        ids = [str(td["id"]) for td in page.items if td.get("id")]
        if not ids:
            continue
        for enriched in client.threat_detections.search_with_alert_ids(ids).raw():
            if alert_id in (enriched.get("alertIds") or []):
                found.append(dict(enriched))
    found.sort(key=lambda td: str(td.get("detectedAt") or ""))
    return found


def recent_events(
    client: Client, detections: Sequence[Mapping[str, Any]], *, limit: int
) -> list[dict[str, Any]]:
    """The *limit* most recent events that convict one of *detections*, newest first.

    Enriched events carry ``threatDetectionIds``; we page them sorted by sequence number, starting
    from the earliest detection's time (an event that convicts a detection cannot be older than
    the detection's first activity by more than the margin the API's strict ``After`` needs), and
    keep only the newest *limit* matches in a heap, so memory stays bounded however long the scan.
    """
    wanted = {str(td["id"]) for td in detections if td.get("id")}
    if not wanted:
        return []
    starts = [str(td["detectedAt"]) for td in detections if td.get("detectedAt")]
    since = _minus_a_day(min(starts)) if starts else None
    newest: list[tuple[str, int, dict[str, Any]]] = []
    counter = itertools.count()
    for event in client.events.enriched(detected_or_modified_after=since, size=PAGE_SIZE).raw():
        if wanted.isdisjoint(str(i) for i in event.get("threatDetectionIds") or []):
            continue
        item = (str(event.get("detectedAt") or ""), next(counter), dict(event))
        if len(newest) < limit:
            heapq.heappush(newest, item)
        else:
            heapq.heappushpop(newest, item)
    return [entry[2] for entry in sorted(newest, reverse=True)]


def _minus_a_day(instant: str) -> datetime | None:
    try:
        return parse_instant(instant) - timedelta(days=1)
    except UsageError:
        return None


@dataclass(frozen=True)
class Outcome:
    """What happened to one alert in a multi-alert command."""

    alert_id: str
    ok: bool
    detail: str
    alert: dict[str, Any] | None = None


def apply_each(
    alert_ids: Iterable[str],
    action: Callable[[str], dict[str, Any]],
    describe: Callable[[dict[str, Any]], str],
) -> list[Outcome]:
    """Run *action* on each alert, collecting successes and API failures instead of stopping."""
    from gta.errors import GtaError, NotFoundError

    outcomes: list[Outcome] = []
    for alert_id in alert_ids:
        try:
            alert = action(alert_id)
        except (CommandError, UsageError) as exc:  # e.g. a prefix that matches no alert
            outcomes.append(Outcome(alert_id, False, str(exc).removeprefix(f"alert {alert_id} ")))
        except NotFoundError:
            outcomes.append(Outcome(alert_id, False, "not found (it may have been removed)"))
        except GtaError as exc:
            outcomes.append(
                Outcome(
                    alert_id, False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                )
            )
        else:
            outcomes.append(Outcome(alert_id, True, describe(alert), alert))
    return outcomes


def annotate(
    client: Client, alert_id: str, text: str, *, open_new: bool
) -> tuple[dict[str, Any], bool]:
    """Set a note; returns the alert and whether it is still ``New`` (its note may be dropped).

    With *open_new*, a ``New`` alert is moved to ``Open`` first, so the note is never on a
    ``New`` alert; an ``Open`` or ``Closed`` alert keeps its status.
    """
    alert = get_alert(client, alert_id)
    is_new = status_of(alert) == "New"
    if is_new and open_new:
        client.alerts.set_status(alert_id, "Open")
    updated = as_dict(client.alerts.set_note(alert_id, text))
    return updated, is_new and not open_new


def set_status(
    client: Client, alert_id: str, status: str, reasons: Sequence[str], note: str | None
) -> dict[str, Any]:
    """Set one alert's status (with closing reasons when closing), then its note if given."""
    alert = as_dict(
        client.alerts.set_status(alert_id, status, closing_reasons=list(reasons) or None)
    )
    if note is not None:
        alert = as_dict(client.alerts.set_note(alert_id, note))
    return alert
