"""The API's collections as resource objects, one method per row of API.md §4.

Resources build requests and pagers and nothing else: no request is sent until a pager is
iterated (list/search) or a single-object method is called. Paths are built when sent, so the
customer id is discovered on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
from pydantic import ValidationError

from gta.client._exceptions import ApiError, ConfigurationError
from gta.client._models import Alert, Asset, Event, Flow, ThreatDetection, ThreatIntelRecord
from gta.client._pagination import (
    Pager,
    PageRequest,
    SearchResults,
    model_parser,
)
from gta.client._params import path_id, query, search_ids, validate_size
from gta.client._transport import Transport

__all__ = [
    "Alerts",
    "Assets",
    "Events",
    "Flows",
    "ThreatDetections",
    "ThreatIntel",
]

MSN = "modificationSequenceNumber"


class _Context(Protocol):
    """What a resource needs from the client."""

    @property
    def transport(self) -> Transport: ...

    @property
    def api_url(self) -> str: ...

    @property
    def customer_id(self) -> str: ...


class _Resource:
    def __init__(self, context: _Context) -> None:
        self._context = context

    def _customer_url(self, suffix: str) -> Callable[[], str]:
        """A URL under ``/{service}/customer/{cid}/``, resolved when the request is sent."""
        service, _, rest = suffix.partition("/")

        def url() -> str:
            cid = path_id(self._context.customer_id, "customer_id")
            return f"{self._context.api_url}/{service}/customer/{cid}/{rest}"

        return url

    def _pager(
        self,
        model: type[Any],
        url: Callable[[], str],
        params: tuple[tuple[str, str], ...],
        *,
        after: str | None,
        before: str | None = None,
        body: Any = None,
    ) -> Pager[Any]:
        if after is not None and before is not None:
            raise ConfigurationError("give after or before, not both")
        for name, cursor in (("after", after), ("before", before)):
            if cursor is not None and (not isinstance(cursor, str) or not cursor):
                raise ConfigurationError(f"{name} must be a non-empty cursor string")
        request = PageRequest(
            method="GET" if body is None else "POST",
            url=url,
            params=params,
            body=None if body is None else orjson.dumps(body),
            cursor_param="before" if before is not None else "after",
        )
        return Pager(
            self._context.transport,
            request,
            model_parser(model),
            start=before if before is not None else after,
        )

    def _object(self, model: type[Any], method: str, url: str, body: Any = None) -> Any:
        content = None if body is None else orjson.dumps(body)
        data = self._context.transport.request_json(method, url, content=content)
        return _build(model, data, f"{method} {urlsplit(url).path}")


def _build(model: type[Any], data: Any, where: str) -> Any:
    """A model from a single-object answer; anything else is an ApiError, not a crash."""
    if not isinstance(data, dict):
        raise ApiError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ApiError(f"{where}: not a valid {model.__name__} ({field}: {first['msg']})") from None


def _filter_body(filter: dict[str, Any] | None) -> dict[str, Any]:
    if filter is not None and not isinstance(filter, dict):
        raise ConfigurationError(f"filter must be a dict, not {type(filter).__name__}")
    return {"filter": filter or {}}


class Alerts(_Resource):
    """``/alert-management/customer/{cid}/alerts``: list, read, search and triage alerts."""

    def list(
        self,
        *,
        sort: str | None = None,
        triggered_after: datetime | str | None = None,
        modified_after: datetime | str | None = None,
        size: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Pager[Alert]:
        """Alerts, paged (``sort="triggeredAt:asc"`` for time order; default is by risk)."""
        params = query(
            sort=sort,
            triggeredAfter=triggered_after,
            modifiedAfter=modified_after,
            size=validate_size(size),
        )
        url = self._customer_url("alert-management/alerts")
        return self._pager(Alert, url, params, after=after, before=before)

    def get(self, alert_id: str) -> Alert:
        """One alert; NotFoundError once it has been removed."""
        url = self._customer_url(f"alert-management/alerts/{path_id(alert_id, 'alert_id')}")
        result: Alert = self._object(Alert, "GET", url())
        return result

    def search(self, alert_ids: Iterable[str]) -> SearchResults[Alert]:
        """Alerts by id (``{"filter": {"alertIds": [...]}}``), 1000 ids per request."""
        ids = search_ids(alert_ids, "alert_ids")
        url = self._customer_url("alert-management/alerts/search")
        return SearchResults(self._context.transport, url, "alertIds", ids, model_parser(Alert))

    def set_status(self, alert_id: str, status: str, closing_reasons: Any = None) -> Alert:
        """Set the workflow status (``New``/``Open``/``Closed``); returns the updated alert.

        ``closing_reasons`` (any JSON, usually a list such as ``["FalsePositive"]``) is sent
        inside the status object when given.
        """
        if not isinstance(status, str) or not status.strip():
            raise ConfigurationError(f"status must be a non-empty string, not {status!r}")
        value: dict[str, Any] = {"value": status}
        if closing_reasons is not None:
            value["closingReasons"] = closing_reasons
        return self._patch(alert_id, "status", {"status": value})

    def set_note(self, alert_id: str, note: str) -> Alert:
        """Replace the alert's note; returns the updated alert."""
        if not isinstance(note, str):
            raise ConfigurationError(f"note must be a string, not {type(note).__name__}")
        return self._patch(alert_id, "note", {"note": note})

    def delete_note(self, alert_id: str) -> None:
        """Remove the alert's note."""
        quoted = path_id(alert_id, "alert_id")
        url = self._customer_url(f"alert-management/alerts/{quoted}/note")
        self._context.transport.request_json("DELETE", url())

    def _patch(self, alert_id: str, field: str, body: dict[str, Any]) -> Alert:
        quoted = path_id(alert_id, "alert_id")
        url = self._customer_url(f"alert-management/alerts/{quoted}/{field}")()
        data = self._context.transport.request_json("PATCH", url, content=orjson.dumps(body))
        if data is None:
            # A server that answers 204 instead of the updated alert: read it back.
            return self.get(alert_id)
        result: Alert = _build(Alert, data, f"PATCH {urlsplit(url).path}")
        return result


class ThreatDetections(_Resource):
    """Threat detections, and the bulk search that adds their alert ids."""

    def list(
        self,
        *,
        sort: str | None = MSN,
        size: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Pager[ThreatDetection]:
        """Threat detections, by modification sequence number unless told otherwise."""
        params = query(sort=sort, size=validate_size(size))
        url = self._customer_url("threat-detection/threat-detections")
        return self._pager(ThreatDetection, url, params, after=after, before=before)

    def search_with_alert_ids(
        self, threat_detection_ids: Iterable[str]
    ) -> SearchResults[ThreatDetection]:
        """Threat detections by id, each with its ``alert_ids``, 1000 ids per request."""
        ids = search_ids(threat_detection_ids, "threat_detection_ids")
        url = self._customer_url(
            "alert-management/enriched-threat-detections-with-alert-ids/search"
        )
        return SearchResults(
            self._context.transport,
            url,
            "threatDetectionIds",
            ids,
            model_parser(ThreatDetection),
        )


class Events(_Resource):
    """Security events: plain, searched, or enriched with their threat detection ids."""

    def list(
        self,
        *,
        sort: str | None = None,
        size: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> Pager[Event]:
        """Events, paged."""
        params = query(sort=sort, size=validate_size(size))
        url = self._customer_url("event-detection/events")
        return self._pager(Event, url, params, after=after, before=before)

    def search(
        self,
        filter: dict[str, Any] | None = None,
        *,
        sort: str | None = MSN,
        size: int | None = None,
        after: str | None = None,
    ) -> Pager[Event]:
        """Events matching ``filter`` (POST; the body is re-sent for every page)."""
        params = query(sort=sort, size=validate_size(size))
        url = self._customer_url("event-detection/events/search")
        return self._pager(Event, url, params, after=after, body=_filter_body(filter))

    def enriched(
        self,
        *,
        sort: str | None = MSN,
        after: str | None = None,
        detected_or_modified_after: datetime | str | None = None,
        size: int | None = None,
    ) -> Pager[Event]:
        """Events with ``threat_detection_ids``: the SIEM recipe's source (API.md §7)."""
        params = query(
            sort=sort,
            detectedOrModifiedAfter=detected_or_modified_after,
            size=validate_size(size),
        )
        url = self._customer_url("threat-detection/enriched-events-with-threat-detection-ids")
        return self._pager(Event, url, params, after=after)


class Flows(_Resource):
    """Network flows (immutable, numerous)."""

    def search(
        self,
        filter: dict[str, Any] | None = None,
        *,
        sort: str | None = MSN,
        size: int | None = None,
        after: str | None = None,
    ) -> Pager[Flow]:
        """Flows matching ``filter`` (POST; the body is re-sent for every page)."""
        params = query(sort=sort, size=validate_size(size))
        url = self._customer_url("event-detection/flows/search")
        return self._pager(Flow, url, params, after=after, body=_filter_body(filter))


class Assets(_Resource):
    """Assets, by id."""

    def search(self, asset_ids: Iterable[str]) -> SearchResults[Asset]:
        """Assets by id (``{"filter": {"assetId": [...]}}``, singular key)."""
        ids = search_ids(asset_ids, "asset_ids")
        url = self._customer_url("asset-management/assets/search")
        return SearchResults(self._context.transport, url, "assetId", ids, model_parser(Asset))


class ThreatIntel(_Resource):
    """The threat catalog (not customer-scoped)."""

    def search(self, record_ids: Iterable[str]) -> SearchResults[ThreatIntelRecord]:
        """Threat-intel records by id (``{"filter": {"threatIntelRecordId": [...]}}``)."""
        ids = search_ids(record_ids, "record_ids")

        def url() -> str:
            return f"{self._context.api_url}/threat-catalog/records/search"

        return SearchResults(
            self._context.transport,
            url,
            "threatIntelRecordId",
            ids,
            model_parser(ThreatIntelRecord),
        )
