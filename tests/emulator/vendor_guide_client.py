"""A client written from the vendor's public guide and example scripts (test code).

It reproduces the behaviour of CiscoSecurity/gta-03-api-use-cases (``api_client.py``,
``get_all_alerts.py``, ``get_security_annotations.py``): ``requests``, a token fetched with
Basic client credentials and reused until 30 s before expiry, the header value built as
``"Bearer " + token`` (the guide warns that ``token_type`` is lower case), URLs built by string
concatenation with unencoded query strings, paging by following ``pageInfo.next`` or by
``after=<endCursor>``, bulk loads in chunks of 1000, one JSON row printed per event (with the
script's own ``for ... else`` that prints convicting events again), and the end cursor saved
in a file. Its defects are kept on purpose: the point is to show that a client written only
from the guide works against the emulator unchanged.

The only adaptations: the host names (``API_HOST_NAME``, ``APP_HOST_NAME`` and the SecureX
host come from the environment, pointed at the emulator), the credentials placeholders
(filled from the vendor's own variable names) and the cursor file's location.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from typing import Any

import requests
from requests.auth import AuthBase

TOKEN_PATH = "/iroh/oauth2/token"
AUTH_ME_PATH = "/auth/api-clients/me"

# Adapted: the vendor hard-codes the EU hosts; the test points them at the emulator.
API_HOST_NAME = os.environ.get("GTA_API_URL", "https://api.cta.eu.amp.cisco.com")
APP_HOST_NAME = os.environ.get("GTA_APP_URL", "https://cta.eu.amp.cisco.com")

# Placeholders in the vendor's scripts ("YOUR_SECUREX_CLIENT_ID", ...), same names.
SECUREX_CLIENT_ID = os.environ.get("SECUREX_CLIENT_ID", "YOUR_SECUREX_CLIENT_ID")
SECUREX_CLIENT_PASSWORD = os.environ.get("SECUREX_CLIENT_PASSWORD", "YOUR_SECUREX_CLIENT_PASSWORD")
SECUREX_VISIBILITY_HOST_NAME = os.environ.get(
    "SECUREX_VISIBILITY_HOST_NAME", "YOUR_SECUREX_VISIBILITY_HOST_NAME"
)
CUSTOMER_ID = os.environ.get("GTA_CUSTOMER_ID", "YOUR_CUSTOMER_ID")

EVENTS_END_CURSOR_FILENAME = "/events_end_cursor.txt"  # the test points it at tmp_path
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
CHUNK_SIZE = 1000

# -- api_client.py (function form, used by get_all_alerts.py) ------------------------------

_token_value: str | None = None
_token_validity: datetime.datetime | None = None


def _fetch_token(host: str, client_id: str, password: str) -> dict[str, Any]:
    response = requests.post(
        host + TOKEN_PATH,
        data="grant_type=client_credentials",
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        auth=(client_id, password),
    )
    data: dict[str, Any] = response.json()
    return data


def get_authorization(host: str, client_id: str, password: str) -> str:
    """The Authorization header value, cached in module globals until 30 s before expiry."""
    global _token_value, _token_validity
    if (
        _token_value is not None
        and _token_validity is not None
        and datetime.datetime.now() < _token_validity
    ):
        return _token_value
    data = _fetch_token(host, client_id, password)
    _token_validity = datetime.datetime.now() + datetime.timedelta(seconds=data["expires_in"] - 30)
    _token_value = "Bearer " + data["access_token"]
    return _token_value


# -- api_client.py (class form, used by get_security_annotations.py) ------------------------


class GtaAuth(AuthBase):
    """Adds the bearer token to every request, fetching a new one when the old one is stale."""

    def __init__(self, host: str, client_id: str, password: str) -> None:
        self._host = host
        self._client_id = client_id
        self._password = password
        self._token_value: str | None = None
        self._token_validity: datetime.datetime | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if (
            self._token_value is None
            or self._token_validity is None
            or datetime.datetime.now() >= self._token_validity
        ):
            data = _fetch_token(self._host, self._client_id, self._password)
            self._token_validity = datetime.datetime.now() + datetime.timedelta(
                seconds=data["expires_in"] - 30
            )
            self._token_value = "Bearer " + data["access_token"]
        request.headers["Authorization"] = self._token_value
        return request


class ApiClient:
    def __init__(
        self,
        host: str,
        client_id: str,
        password: str,
        api_host_name: str = API_HOST_NAME,
        app_host_name: str = APP_HOST_NAME,
    ) -> None:
        self._api_host_name = api_host_name
        self._app_host_name = app_host_name
        self._customer_id: str | None = None
        self._session = requests.Session()
        self._session.auth = GtaAuth(host, client_id, password)
        self._session.headers.update({"Accept": "application/json"})

    def get_customer_id(self) -> str:
        if self._customer_id is None:
            me = self._session.get(self._app_host_name + AUTH_ME_PATH).json()
            self._customer_id = str(me["identity"]["customerId"])
        return self._customer_id

    def create_collection_iterator(
        self,
        collection_url_path: str,
        query_params: dict[str, str] | None = None,
        cursor: str | None = None,
        request_body: dict[str, Any] | None = None,
    ) -> CollectionIterator:
        return CollectionIterator(self, collection_url_path, query_params, cursor, request_body)

    def api_session(self) -> requests.Session:
        return self._session

    def api_host_name(self) -> str:
        return self._api_host_name


class CollectionIterator:
    """Items of a paged collection, GET or POST, following ``next`` or ``after=endCursor``."""

    def __init__(
        self,
        api_client: ApiClient,
        collection_url_path: str,
        query_params: dict[str, str] | None = None,
        cursor: str | None = None,
        request_body: dict[str, Any] | None = None,
    ) -> None:
        self._client = api_client
        self._path = collection_url_path
        self._query_params = query_params or {}
        self._request_body = request_body
        self._has_api_response = False
        self._has_next_page: bool | None = None
        self._end_cursor = cursor
        self._next_page_url: str | None = self._url_from_variables(cursor)
        self._items: list[dict[str, Any]] = []
        self._pointer = 0

    def __iter__(self) -> CollectionIterator:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._has_api_response or (
            self._pointer >= len(self._items) and self._has_next_page
        ):
            self._fetch_next_page()
        if self._pointer < len(self._items):
            item = self._items[self._pointer]
            self._pointer += 1
            return item
        raise StopIteration

    def _fetch_next_page(self) -> None:
        session = self._client.api_session()
        url = self._client.api_host_name() + str(self._next_page_url)
        if self._request_body:
            response = session.post(url, json=self._request_body)
        else:
            response = session.get(url)
        data = response.json()
        self._items = data["items"]
        self._has_api_response = True
        self._pointer = 0
        if "endCursor" in data["pageInfo"]:
            self._end_cursor = data["pageInfo"]["endCursor"]
        self._has_next_page = data["pageInfo"]["hasNextPage"]
        self._next_page_url = data["pageInfo"]["next"]
        if self._has_next_page and self._next_page_url is None:
            self._next_page_url = self._url_from_variables(self._end_cursor)

    def _url_from_variables(self, end_cursor: str | None = None) -> str:
        params = dict(self._query_params)
        if end_cursor:
            params["after"] = end_cursor
        if not params:
            return self._path
        # As the vendor does: no URL-encoding of the values.
        return self._path + "?" + "&".join(k + "=" + str(v or "") for k, v in params.items())

    def end_cursor(self) -> str | None:
        return self._end_cursor


# -- get_all_alerts.py -------------------------------------------------------------------


def get_all_alerts() -> list[dict[str, Any]]:
    """Every alert, following ``pageInfo.next`` until ``hasNextPage`` is false."""
    fetch_url = "/alert-management/customer/" + CUSTOMER_ID + "/alerts"
    alerts: list[dict[str, Any]] = []
    while True:
        response = requests.get(
            API_HOST_NAME + fetch_url,
            headers={
                "Authorization": get_authorization(
                    SECUREX_VISIBILITY_HOST_NAME, SECUREX_CLIENT_ID, SECUREX_CLIENT_PASSWORD
                ),
                "Accept": "application/json",
            },
        )
        data = response.json()
        alerts = alerts + data["items"]
        fetch_url = data["pageInfo"]["next"]
        if not data["pageInfo"]["hasNextPage"]:
            break
    return alerts


# -- get_security_annotations.py -----------------------------------------------------------


def read_events_end_cursor() -> str | None:
    if os.path.isfile(EVENTS_END_CURSOR_FILENAME):
        with open(EVENTS_END_CURSOR_FILENAME) as handle:
            return handle.readline()
    return None


def write_events_end_cursor(cursor: str) -> None:
    with open(EVENTS_END_CURSOR_FILENAME, "w") as handle:
        handle.write(cursor)


def log_event_attributes(
    event: dict[str, Any],
    asset: dict[str, Any] | None = None,
    threat_detection: dict[str, Any] | None = None,
    threat_intel_record: dict[str, Any] | None = None,
    alert: dict[str, Any] | None = None,
) -> None:
    row: dict[str, Any] = {
        "indexTime": datetime.datetime.now().strftime(DATETIME_FORMAT),
        "eventId": event["id"],
        "eventDetectedAt": event["detectedAt"],
        "eventModifiedAt": event["modifiedAt"],
        "securityEventTypeId": event["securityEventTypeId"],
        "eventTitle": event["title"],
        "eventSubtitle": event["subtitle"],
    }
    if asset:
        row["assumedOwner"] = asset["assumedOwner"]
    if alert:
        row.update({"alertId": alert["id"], "alertState": alert["state"], "risk": alert["risk"]})
    if threat_intel_record:
        row.update(
            {
                "threatTitle": threat_intel_record["title"],
                "threatCategory": threat_intel_record["category"],
                "threatSubCategory": threat_intel_record["subcategory"],
                "severity": threat_intel_record["severity"],
            }
        )
    if threat_detection:
        row.update(
            {
                "affectedAssetId": threat_detection["affectedAssetId"],
                "threatDetectionId": threat_detection["id"],
                "confidence": threat_detection["confidence"],
            }
        )
    if event["securityAnnotation"]:
        row.update(
            {
                "securityAnnotationId": event["securityAnnotation"]["id"],
                "securityAnnotationAttributes": event["securityAnnotation"]["requiredAttributes"],
            }
        )
    print(json.dumps(row))


def chunk_list(items: list[str], size: int = CHUNK_SIZE) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    client = ApiClient(SECUREX_VISIBILITY_HOST_NAME, SECUREX_CLIENT_ID, SECUREX_CLIENT_PASSWORD)
    cid = client.get_customer_id()
    events: list[dict[str, Any]] = []
    cache: dict[str, dict[str, Any]] = {}
    td_ids: list[str] = []
    asset_ids: list[str] = []
    events_iterator = client.create_collection_iterator(
        "/threat-detection/customer/" + cid + "/enriched-events-with-threat-detection-ids",
        query_params={"sort": "modificationSequenceNumber"},
        cursor=read_events_end_cursor(),
    )
    for event in events_iterator:
        events.append(event)
        td_ids.extend(event["threatDetectionIds"])
        asset_ids.append(event["affectedAssetId"])

    alert_ids: list[str] = []
    record_ids: list[str] = []
    for chunk in chunk_list(list(set(td_ids))):
        for td in client.create_collection_iterator(
            "/alert-management/customer/"
            + cid
            + "/enriched-threat-detections-with-alert-ids/search",
            request_body={"filter": {"threatDetectionIds": chunk}},
        ):
            cache[td["id"]] = td
            alert_ids.extend(td["alertIds"])
            record_ids.append(td["threatIntelRecordId"])
    for chunk in chunk_list(list(set(asset_ids))):
        for asset in client.create_collection_iterator(
            "/asset-management/customer/" + cid + "/assets/search",
            request_body={"filter": {"assetId": chunk}},
        ):
            cache[asset["id"]] = asset
    for alert in client.create_collection_iterator(
        "/alert-management/customer/" + cid + "/alerts/search",
        request_body={"filter": {"alertIds": list(set(alert_ids))}},
    ):
        cache[alert["id"]] = alert
    for record in client.create_collection_iterator(
        "/threat-catalog/records",
        request_body={"filter": {"threatIntelRecordId": list(set(record_ids))}},
    ):
        cache[record["id"]] = record

    for event in events:
        affected = cache.get(event["affectedAssetId"])
        for td_id in event["threatDetectionIds"]:
            detection = cache.get(td_id)
            found = cache.get(detection["threatIntelRecordId"]) if detection else None
            for alert_id in detection["alertIds"] if detection else []:
                log_event_attributes(event, affected, detection, found, cache.get(alert_id))
            else:  # the vendor's for...else, kept on purpose (no break: always runs)
                log_event_attributes(event, affected, detection, found)
        else:
            log_event_attributes(event, affected)

    cursor = events_iterator.end_cursor()
    if cursor:
        write_events_end_cursor(cursor)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "alerts":
        print(get_all_alerts())
    else:
        main()
