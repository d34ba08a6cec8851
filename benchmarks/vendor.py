"""The vendor's example script, written plainly: the baseline a user would otherwise run.

What the vendor's script does on each run: read **every** page of enriched events (sorted by
modification sequence number) from the saved cursor into memory; collect the distinct
ThreatDetection and Asset ids of the whole run; load the detections (with their alert ids) in
chunks of 1000 ids, then the assets in chunks of 1000; then all the Alerts those detections name
in **one** search, and all their threat-intel records in **one** search; print one row per
(event x detection x alert) (a contextual event as one row with its asset) and save the
``endCursor``. ``requests``, one request at a time, stdlib ``json``.

Two variants:

- ``vendor`` (default): exactly that. The API refuses a search filter of more than 1000 ids, so
  once a run names more than 1000 distinct alerts (or threat-intel records) the single search
  is refused (HTTP 400) and the script fails without writing a row or saving its cursor.
- ``vendor-chunked`` (``--chunked``): the same, with every lookup chunked at 1000 ids, so it
  runs at every backlog size. Its rows are the ones ``gta export --schema annotation`` writes.

The vendor script's triple emission of convicting events (a ``for ... else``) is not
reproduced, so row counts compare with ``gta``'s. Run as a script, with the same environment
variables as ``gta``::

    python benchmarks/vendor.py [--chunked] --output rows.jsonl --cursor-file cursor.txt
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Iterator
from typing import Any

from recipe import (  # the same HTTP client and row layout as the per-page recipe
    ALERTS_PATH,
    ASSETS_PATH,
    CHUNK_SIZE,
    DETECTIONS_PATH,
    EVENTS_PATH,
    INTEL_PATH,
    PAGE_SIZE,
    ApiClient,
    read_cursor,
    rows_for,
)


def lookup(
    api: ApiClient, path: str, key: str, ids: set[str], chunk: int | None
) -> Iterator[dict[str, Any]]:
    """Objects by id: one search per ``chunk`` ids, or one search for them all (``None``)."""
    id_list = sorted(ids)
    step = chunk or max(1, len(id_list))
    for start in range(0, len(id_list), step):
        body = {"filter": {key: id_list[start : start + step]}}
        for page in api.pages(path, {"size": PAGE_SIZE}, body):
            yield from page["items"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="file to write the rows to (JSON lines)")
    parser.add_argument("--cursor-file", required=True, help="where the endCursor is kept")
    parser.add_argument(
        "--chunked",
        action="store_true",
        help="chunk the alert and threat-intel searches at 1000 ids too (vendor-chunked)",
    )
    args = parser.parse_args(argv)
    single = CHUNK_SIZE if args.chunked else None  # the vendor's one-search lookups

    api = ApiClient()
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"sort": "modificationSequenceNumber", "size": PAGE_SIZE}
    end_cursor = read_cursor(args.cursor_file)
    if end_cursor:
        params["after"] = end_cursor
    for page in api.pages(EVENTS_PATH, params):
        if not page["items"]:
            break
        events.extend(page["items"])
        end_cursor = page["pageInfo"]["endCursor"] or end_cursor

    context: dict[str, dict[str, Any]] = {}
    detection_ids = {d for e in events for d in e["threatDetectionIds"]}
    asset_ids = {e["affectedAssetId"] for e in events}
    alert_ids: set[str] = set()
    intel_ids: set[str] = set()
    for detection in lookup(api, DETECTIONS_PATH, "threatDetectionIds", detection_ids, CHUNK_SIZE):
        context[detection["id"]] = detection
        alert_ids.update(detection["alertIds"])
        intel_ids.add(detection["threatIntelRecordId"])
    for asset in lookup(api, ASSETS_PATH, "assetId", asset_ids, CHUNK_SIZE):
        context[asset["id"]] = asset
    for alert in lookup(api, ALERTS_PATH, "alertIds", alert_ids, single):
        context[alert["id"]] = alert
    for intel in lookup(api, INTEL_PATH, "threatIntelRecordId", intel_ids, single):
        context[intel["id"]] = intel

    index_time = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = 0
    with open(args.output, "w") as f:
        for event in events:
            for row in rows_for(event, context, index_time):
                f.write(json.dumps(row) + "\n")
                rows += 1
    if end_cursor:
        with open(args.cursor_file, "w") as f:
            f.write(end_cursor)
    name = "vendor-chunked" if args.chunked else "vendor"
    sys.stderr.write(f"{name}: {len(events)} events, {rows} rows\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
