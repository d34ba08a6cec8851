"""The vendor's SIEM recipe, written plainly: the baseline a user would otherwise write.

What the "Using Global Threat Alerts API" guide describes and its example script does: page through
enriched events sorted by modification sequence number from the saved cursor, bulk-load the
ThreatDetections (with alert ids), Assets, Alerts and threat-intel records they reference, emit
one row per (event x detection x alert) (a contextual event as one row with its asset), and save
the ``endCursor``. Written the way such a script is: ``requests``, one request at a time, stdlib
``json``, every event of the run held in memory, the rows and the cursor written at the end. Per
page, the referenced objects are looked up anew (deduplicated within the page only).

The vendor script's triple emission of convicting events (a ``for ... else``) is not reproduced:
the rows here are the ones the guide intends, so their count can be compared with ``gta``'s.

Run as a script, with the same environment variables as ``gta``::

    python benchmarks/recipe.py --output rows.jsonl --cursor-file cursor.txt
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import requests

PAGE_SIZE = 1000
CHUNK_SIZE = 1000
EVENTS_PATH = "/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids"
DETECTIONS_PATH = (
    "/alert-management/customer/{cid}/enriched-threat-detections-with-alert-ids/search"
)
ASSETS_PATH = "/asset-management/customer/{cid}/assets/search"
ALERTS_PATH = "/alert-management/customer/{cid}/alerts/search"
INTEL_PATH = "/threat-catalog/records/search"


class TokenAuth(requests.auth.AuthBase):
    """Fetches a client-credentials token and renews it 30 s before it expires (as the vendor)."""

    def __init__(self, host: str, client_id: str, client_password: str) -> None:
        if not host.startswith(("http://", "https://")):
            host = "https://" + host
        self.token_url = host.rstrip("/") + "/iroh/oauth2/token"
        self.client_id = client_id
        self.client_password = client_password
        self.header = ""
        self.valid_until = 0.0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if time.monotonic() >= self.valid_until:
            response = requests.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_password),
                headers={"Accept": "application/json"},
                timeout=60,
            )
            response.raise_for_status()
            token = response.json()
            self.valid_until = time.monotonic() + token["expires_in"] - 30
            self.header = "Bearer " + token["access_token"]
        request.headers["Authorization"] = self.header
        return request


class ApiClient:
    """A ``requests`` session with the token, the API host and the customer id."""

    def __init__(self) -> None:
        self.api_url = os.environ.get("GTA_API_URL", "https://api.cta.eu.amp.cisco.com")
        app_url = os.environ.get("GTA_APP_URL", "https://cta.eu.amp.cisco.com")
        self.session = requests.Session()
        self.session.auth = TokenAuth(
            os.environ["SECUREX_VISIBILITY_HOST_NAME"],
            os.environ["SECUREX_CLIENT_ID"],
            os.environ["SECUREX_CLIENT_PASSWORD"],
        )
        self.session.headers["Accept"] = "application/json"
        self.customer_id = os.environ.get("GTA_CUSTOMER_ID") or ""
        if not self.customer_id:
            me = self.session.get(app_url + "/auth/api-clients/me", timeout=60)
            me.raise_for_status()
            self.customer_id = me.json()["identity"]["customerId"]

    def pages(
        self, path: str, params: dict[str, Any], body: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``after=<endCursor>`` (GET, or POST with body)."""
        url = self.api_url + path.format(cid=self.customer_id)
        params = dict(params)
        while True:
            if body is None:
                response = self.session.get(url, params=params, timeout=60)
            else:
                response = self.session.post(url, params=params, json=body, timeout=60)
            response.raise_for_status()
            page = response.json()
            yield page
            if not page["items"] or not page["pageInfo"]["hasNextPage"]:
                return
            params["after"] = page["pageInfo"]["endCursor"]

    def search(self, path: str, key: str, ids: set[str]) -> Iterator[dict[str, Any]]:
        """Bulk-load objects by id, in chunks of 1000 ids."""
        id_list = sorted(ids)
        for start in range(0, len(id_list), CHUNK_SIZE):
            body = {"filter": {key: id_list[start : start + CHUNK_SIZE]}}
            for page in self.pages(path, {"size": PAGE_SIZE}, body):
                yield from page["items"]


def rows_for(
    event: dict[str, Any], context: dict[str, dict[str, Any]], index_time: str
) -> list[dict[str, Any]]:
    """The rows of one event: one per (detection x alert), or one for a contextual event."""
    base = {
        "indexTime": index_time,
        "eventId": event["id"],
        "eventDetectedAt": event["detectedAt"],
        "eventModifiedAt": event["modifiedAt"],
        "securityEventTypeId": event["securityEventTypeId"],
        "eventTitle": event["title"],
        "eventSubtitle": event["subtitle"],
    }
    asset = context.get(event["affectedAssetId"])
    if asset:
        base["assumedOwner"] = asset["assumedOwner"]
    annotation = event.get("securityAnnotation")
    if annotation:
        base["securityAnnotationId"] = annotation["id"]
        base["securityAnnotationAttributes"] = annotation["requiredAttributes"]
    rows = []
    for detection_id in event["threatDetectionIds"]:
        detection = context.get(detection_id)
        row = dict(base)
        row["affectedAssetId"] = event["affectedAssetId"]
        row["threatDetectionId"] = detection_id
        alert_ids = []
        if detection:
            alert_ids = detection["alertIds"]
            row["affectedAssetId"] = detection["affectedAssetId"]
            row["threatDetectionId"] = detection["id"]
            row["confidence"] = detection["confidence"]
            intel = context.get(detection["threatIntelRecordId"])
            if intel:
                row["threatTitle"] = intel["title"]
                row["threatCategory"] = intel["category"]
                row["threatSubCategory"] = intel["subcategory"]
                row["severity"] = intel["severity"]
        if not alert_ids:
            rows.append(row)  # a detection that is missing, or names no alert
        for alert_id in alert_ids:
            alert_row = dict(row)
            alert_row["alertId"] = alert_id
            alert = context.get(alert_id)
            if alert:
                alert_row["alertStatus"] = alert["status"]["value"]
                alert_row["risk"] = alert["risk"]
            rows.append(alert_row)
    if not event["threatDetectionIds"]:
        base["affectedAssetId"] = event["affectedAssetId"]
        rows.append(base)  # a contextual event: one row with its asset
    return rows


def read_cursor(path: str) -> str | None:
    if os.path.isfile(path):
        with open(path) as f:
            return f.readline().strip() or None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="file to write the rows to (JSON lines)")
    parser.add_argument("--cursor-file", required=True, help="where the endCursor is kept")
    args = parser.parse_args(argv)

    api = ApiClient()
    events: list[dict[str, Any]] = []
    context: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"sort": "modificationSequenceNumber", "size": PAGE_SIZE}
    end_cursor = read_cursor(args.cursor_file)
    if end_cursor:
        params["after"] = end_cursor
    for page in api.pages(EVENTS_PATH, params):
        page_events = page["items"]
        if not page_events:
            break
        events.extend(page_events)
        end_cursor = page["pageInfo"]["endCursor"] or end_cursor
        detection_ids = {d for e in page_events for d in e["threatDetectionIds"]}
        asset_ids = {e["affectedAssetId"] for e in page_events}
        alert_ids: set[str] = set()
        intel_ids: set[str] = set()
        for detection in api.search(DETECTIONS_PATH, "threatDetectionIds", detection_ids):
            context[detection["id"]] = detection
            alert_ids.update(detection["alertIds"])
            intel_ids.add(detection["threatIntelRecordId"])
        for asset in api.search(ASSETS_PATH, "assetId", asset_ids):
            context[asset["id"]] = asset
        for alert in api.search(ALERTS_PATH, "alertIds", alert_ids):
            context[alert["id"]] = alert
        for intel in api.search(INTEL_PATH, "threatIntelRecordId", intel_ids):
            context[intel["id"]] = intel

    index_time = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = [row for event in events for row in rows_for(event, context, index_time)]
    with open(args.output, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    if end_cursor:
        with open(args.cursor_file, "w") as f:
            f.write(end_cursor)
    sys.stderr.write(f"recipe: {len(events)} events, {len(rows)} rows\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
