"""The soak's judgement: the truth at the end (over plain httpx, never ``gta.client``), what the
delivered JSON lines hold against it and the emulator's history, and the broken promises."""

from __future__ import annotations

from collections import Counter
from typing import Any


def truth(api: Any) -> dict[str, dict[str, str]]:
    """Latest version (id -> modifiedAt) of every object that exists now, per stream."""
    cid = api.cid
    events = api.objects(
        f"/threat-detection/customer/{cid}/enriched-events-with-threat-detection-ids",
        {"sort": "modificationSequenceNumber"},
    )
    tds = api.objects(
        f"/threat-detection/customer/{cid}/threat-detections",
        {"sort": "modificationSequenceNumber"},
    )
    alerts = api.objects(f"/alert-management/customer/{cid}/alerts")
    return {
        "events": {o["id"]: o["modifiedAt"] for o in events},
        "threat-detections": {o["id"]: o["modifiedAt"] for o in tds},
        "alerts": {o["id"]: o["modifiedAt"] for o in alerts},
    }


_VERSION_KEYS = {
    "events": ("eventId", "eventModifiedAt"),
    "threat-detections": ("threatDetectionId", "modifiedAt"),
    "alerts": ("alertId", "modifiedAt"),
}


def is_tombstone(row: dict[str, Any]) -> bool:
    return row.get("removed") is True


def compare(
    rows: list[dict[str, Any]],
    latest: dict[str, dict[str, str]],
    history: list[dict[str, Any]],
    notes: list[tuple[str, str]],
) -> dict[str, Any]:
    """Figures of the end state: what was lost, tombstoned, duplicated (see the test)."""
    delivered: dict[str, set[tuple[str, str]]] = {s: set() for s in _VERSION_KEYS}
    rows_per_version: Counter[tuple[str, str]] = Counter()
    tombstoned: set[str] = set()
    for row in rows:
        stream = row.get("stream")
        if is_tombstone(row):
            tombstoned.add(str(row.get("alertId") or row.get("id")))
            continue
        if stream in _VERSION_KEYS:
            id_key, version_key = _VERSION_KEYS[stream]
            version = (str(row.get(id_key)), str(row.get(version_key)))
            delivered[stream].add(version)
            if stream == "events":
                rows_per_version[version] += 1
    lost = {
        stream: sorted(set(versions.items()) - delivered[stream])
        for stream, versions in latest.items()
    }
    removed = {r["id"] for r in history if r["kind"] == "alert" and "removedAt" in r}
    alert_rows = [r for r in history if r["kind"] == "alert"]
    notes_lost, notes_superseded = [], 0
    for alert_id, version in notes:
        if (alert_id, version) in delivered["alerts"]:
            continue
        made = next(
            (
                r["seq"]
                for r in alert_rows
                if r["id"] == alert_id and r.get("modifiedAt") == version
            ),
            None,
        )
        later = made is not None and any(
            r["id"] == alert_id and r["seq"] > made for r in alert_rows
        )
        if later:
            notes_superseded += 1
        else:
            notes_lost.append((alert_id, version))
    ids = Counter(str(r.get("recordId")) for r in rows)
    history_latest: dict[tuple[str, str], str] = {}
    for r in history:
        if "modifiedAt" in r and r["kind"] in ("event", "threatDetection", "alert"):
            history_latest[(r["kind"], r["id"])] = r["modifiedAt"]
        elif "removedAt" in r:
            history_latest.pop((r["kind"], r["id"]), None)
    kinds = {"event": "events", "threatDetection": "threat-detections", "alert": "alerts"}
    history_disagrees = sorted(
        (kind, oid)
        for (kind, oid), version in history_latest.items()
        if latest[kinds[kind]].get(oid) != version
    )
    return {
        "lines": len(rows),
        "distinct_records": len(ids),
        "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        "latest_versions": {s: len(v) for s, v in latest.items()},
        "lost": {s: len(v) for s, v in lost.items()},
        "lost_examples": {s: v[:5] for s, v in lost.items() if v},
        "removed_alerts": len(removed),
        "tombstoned": len(removed & tombstoned),
        "untombstoned": sorted(removed - tombstoned)[:10],
        "notes": len(notes),
        "notes_delivered": len(notes) - notes_superseded - len(notes_lost),
        "notes_superseded": notes_superseded,
        "notes_lost": notes_lost[:10],
        "notes_lost_count": len(notes_lost),
        "history_rows": len(history),
        "history_disagrees": history_disagrees[:10],
        "max_rows_per_event": max(rows_per_version.values(), default=1),
    }


def problems_of(figures: dict[str, Any]) -> list[str]:
    """Each broken promise, one line each (empty when the soak passed)."""
    problems: list[str] = []
    for stream, count in figures["lost"].items():
        if count:
            examples = figures["lost_examples"][stream]
            problems.append(f"{count} latest {stream} versions lost, e.g. {examples}")
    if figures["removed_alerts"] == 0:
        problems.append("no alert was removed: the tombstone check measured nothing")
    if figures["untombstoned"]:
        problems.append(f"removed alerts without a tombstone: {figures['untombstoned']}")
    if figures["notes_lost"]:
        problems.append(
            f"{figures['notes_lost_count']} note changes never delivered, e.g. "
            f"{figures['notes_lost'][:3]}"
        )
    if figures["history_disagrees"]:
        problems.append(f"emulator history disagrees with its data: {figures['history_disagrees']}")
    if figures["duplicates"] > figures["duplicate_bound"]:
        problems.append(f"{figures['duplicates']} duplicates > bound {figures['duplicate_bound']}")
    for episode in figures["episodes"]:
        if episode["episode"].startswith("a second service"):
            if not episode["recovered_within_one_pass"]:
                problems.append(f"two services synced at once: {episode['first_pass_after']}")
        elif not episode["recovered_within_one_pass"]:
            problems.append(
                f"not back within one pass after {episode['episode']}: "
                f"{episode['first_pass_after']}"
            )
    # A kill aimed inside a pass can still land just after it ended (a pass may take a few
    # tens of milliseconds): a majority inside is enough to exercise the takeover, and every
    # kill is checked for recovery and losses all the same.
    if figures["kills_in_a_pass"] * 2 <= figures["kills"]:
        problems.append(
            f"only {figures['kills_in_a_pass']} of {figures['kills']} kills landed inside a pass"
            " (holding leases): the takeover was hardly exercised"
        )
    if figures["sigterm_exit_code"] != 0:
        problems.append(f"SIGTERM: exit code {figures['sigterm_exit_code']}")
    return problems
