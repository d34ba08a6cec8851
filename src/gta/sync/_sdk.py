"""The SDK calls the sync engine makes, as a typed seam.

``gta.Client`` satisfies ``SyncClient`` structurally (a mypy-checked assignment below holds
it to that), and so does any test double with the same calls. Only raw pages are used: the hot
path takes the JSON objects exactly as received, never models. Renaming an SDK method, or
changing what it returns, fails ``mypy --strict`` here instead of at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gta.formats import ApiObject


class RawPage(Protocol):
    """One page of raw objects, and the server's present when it answered (its ``Date``)."""

    @property
    def items(self) -> list[ApiObject]: ...

    @property
    def server_time(self) -> datetime | None: ...


class RawPager(Protocol):
    """Pages of raw objects; ``end_cursor`` is where to resume after those fetched so far."""

    @property
    def end_cursor(self) -> str | None: ...

    def pages(self) -> Iterator[RawPage]: ...


class Listing(Protocol):
    """What a collection call returns (``Pager``): its raw form is what sync reads."""

    def raw(self) -> RawPager: ...


class Search(Protocol):
    """What a bulk search by ids returns (``SearchResults``): chunked and paged by the SDK."""

    def raw(self) -> Iterable[ApiObject]: ...


class AlertsApi(Protocol):
    def list(
        self,
        *,
        modified_after: str | None = None,
        size: int | None = None,
        after: str | None = None,
    ) -> Listing: ...

    def search(self, alert_ids: Iterable[str]) -> Search: ...


class ThreatDetectionsApi(Protocol):
    def list(self, *, size: int | None = None, after: str | None = None) -> Listing: ...

    def search_with_alert_ids(self, threat_detection_ids: Iterable[str]) -> Search: ...


class EventsApi(Protocol):
    def enriched(self, *, after: str | None = None, size: int | None = None) -> Listing: ...


class FlowsApi(Protocol):
    def search(self, *, size: int | None = None, after: str | None = None) -> Listing: ...


class SearchApi(Protocol):
    def search(self, ids: Iterable[str], /) -> Search: ...


class SyncClient(Protocol):
    """Exactly the SDK surface ``gta.sync`` uses."""

    @property
    def customer_id(self) -> str: ...

    @property
    def alerts(self) -> AlertsApi: ...

    @property
    def threat_detections(self) -> ThreatDetectionsApi: ...

    @property
    def events(self) -> EventsApi: ...

    @property
    def flows(self) -> FlowsApi: ...

    @property
    def assets(self) -> SearchApi: ...

    @property
    def threat_intel(self) -> SearchApi: ...


if TYPE_CHECKING:  # the real client must fit the seam (checked by mypy, costs nothing at run)
    from gta.client import Client

    def _client_fits(client: Client) -> SyncClient:
        return client
