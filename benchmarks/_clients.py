"""What each client of the benchmark is, in the words of the report (one line each)."""

from __future__ import annotations

CLIENTS: dict[str, str] = {
    "limit": (
        "**limit** (`benchmarks/limit.py`): the **one-cursor limit**. Every page of enriched "
        "events (size 1000, `sort=modificationSequenceNumber`, `after=endCursor`, one page after "
        "another) and the bulk lookups the rows need (detections with alert ids, assets, alerts, "
        "threat intel; POST searches of at most 1000 ids, each id once), decoded and dropped. "
        "httpx with a token, each page's lookups on {concurrency} threads while the next page is "
        "fetched: the ceiling for any client that reads through one cursor."
    ),
    "gta": (
        "**gta**: `gta export events --schema annotation --output FILE --state STATE`, from an "
        "empty state; gta chooses its readers (partitioned backfill, docs/sync.md)."
    ),
    "gta-1": "**gta-1**: the same with `--readers 1`: gta through one cursor.",
    "vendor": (
        "**vendor** (`benchmarks/vendor.py`): the vendor's example script as written (`requests`, "
        "one request at a time): every page of events from the saved cursor into memory, the "
        "distinct detection and asset ids of the whole run, detections and assets in chunks of "
        "1000 ids, then all the alerts those detections name in **one** search and all their "
        "threat-intel records in **one** search, rows and cursor written at the end. The API "
        "refuses a filter of more than 1000 ids, so it fails once a run names more than 1000 "
        "distinct alerts (or threat-intel records)."
    ),
    "vendor-chunked": (
        "**vendor-chunked** (`vendor.py --chunked`): the same with every lookup chunked at 1000 "
        "ids, so it runs at every size. Its rows are the rows gta writes."
    ),
    "recipe": (
        "**recipe** (`benchmarks/recipe.py`): the old baseline, a **per-page recipe**: the same "
        "rows, but each page's referenced objects looked up anew (deduplicated within the page "
        "only), one request at a time. Not the vendor's algorithm; measured only when asked "
        "(`--scenarios ...,recipe`)."
    ),
}
