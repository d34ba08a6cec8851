"""Seeded generation of a customer's history: assets, detections, alerts, events and flows.

Same seed and scale, same data: every random choice comes from a ``random.Random`` made from the
seed and the customer's index (never the global ``random``). The history spans the 30 days
before the clock's start, so nothing has timed out yet when the emulator starts.

Proportions follow the vendor guide: many threat detections, about ten times more events
(roughly 45 % convicting, the rest contextual) and ``flows_per_event`` flows per event.
A small share of references dangle on purpose (an event naming a detection that is gone, a
detection naming a removed alert), as they do in the real service.

Speed matters (a million events in a few minutes on two cores): documents are encoded once with
orjson, rows go in with ``executemany`` inside one transaction, and sequence numbers are given by
sorting one list of packed integer keys rather than tuples.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from gta.emulator import _catalog as cat
from gta.emulator._clock import DAY_MS
from gta.emulator._documents import (
    alert_doc,
    event_doc,
    event_text,
    flow_doc,
    new_alert_id,
    new_uuid,
    td_doc,
)

HISTORY_DAYS = 30
CONVICTING_SHARE = 0.45
_KIND_TD, _KIND_EVENT, _KIND_FLOWS = 0, 1, 2
_THREAT_WEIGHTS = [
    {"Critical": 2, "High": 4, "Medium": 5, "Low": 3}[t.severity] for t in cat.THREATS
]


_EventMeta = tuple[int, int, int, list[int], str | None, int]


@dataclass
class _Td:
    id: str
    asset: int
    threat: int
    confidence: str
    first: int
    last: int
    alert_ids: list[str] = field(default_factory=list)


def threat_intel_rows() -> list[tuple[str, bytes]]:
    return [(t.id, orjson.dumps(t.doc())) for t in cat.THREATS]


def generate_customer(
    conn: sqlite3.Connection,
    *,
    cust: int,
    seed: int,
    events: int,
    flows_per_event: float,
    start_ms: int,
    first_msn: int,
) -> int:
    """Generate and insert one customer's history; return the next free MSN."""
    rng = random.Random(f"gta-emulator:{seed}:{cust}")
    begin = start_ms - HISTORY_DAYS * DAY_MS
    span = start_ms - begin

    n_assets = max(3, events // 40)
    assets = [new_uuid(rng) for _ in range(n_assets)]
    owners: list[str | None] = []
    for _ in range(n_assets):
        if rng.random() < 0.12:
            owners.append(None)
        else:
            owners.append(f"{rng.choice(cat.FIRST_NAMES)}.{rng.choice(cat.LAST_NAMES)}")
    conn.executemany(
        "INSERT INTO assets (cust, id, doc) VALUES (?, ?, ?)",
        [
            (cust, aid, orjson.dumps({"id": aid, "assumedOwner": owner}))
            for aid, owner in zip(assets, owners, strict=True)
        ],
    )
    infected = list(range(max(1, n_assets * 35 // 100)))

    times = sorted(begin + int(rng.random() * span) for _ in range(events))
    n_convicting = int(events * CONVICTING_SHARE)
    td_target = max(1, events // 10) if events else 0
    tds: list[_Td] = []
    tds_of_asset: dict[int, list[int]] = {}
    # Per event: (detected, modified, type index, td indexes, dangling td id, asset index)
    ev_ids: list[str] = []
    ev_meta: list[_EventMeta] = []
    flow_counts = bytearray(events)
    whole_flows = int(flows_per_event)
    frac_flows = flows_per_event - whole_flows
    convicting_left = n_convicting
    for i, detected in enumerate(times):
        ev_ids.append(new_uuid(rng))
        remaining = events - i
        tdx: list[int] = []
        dangling: str | None = None
        if convicting_left and rng.random() < convicting_left / remaining:
            convicting_left -= 1
            need_new = td_target - len(tds)
            if not tds or (need_new > 0 and rng.random() < need_new / (convicting_left + 1)):
                asset = rng.choice(infected)
                threat = rng.choices(range(len(cat.THREATS)), _THREAT_WEIGHTS)[0]
                tds.append(
                    _Td(
                        new_uuid(rng),
                        asset,
                        threat,
                        rng.choice(cat.CONFIDENCES),
                        detected,
                        detected,
                    )
                )
                tds_of_asset.setdefault(asset, []).append(len(tds) - 1)
                tdx.append(len(tds) - 1)
            else:
                recent = rng.random() < 0.7
                pick = (
                    len(tds) - 1 - rng.randrange(min(len(tds), 300))
                    if recent
                    else (rng.randrange(len(tds)))
                )
                tdx.append(pick)
            td = tds[tdx[0]]
            td.last = detected
            asset_ix = td.asset
            siblings = tds_of_asset[asset_ix]
            if len(siblings) > 1 and rng.random() < 0.02:
                other = rng.choice(siblings)
                if other != tdx[0]:
                    tdx.append(other)
                    tds[other].last = detected
            if rng.random() < 0.005:
                dangling = new_uuid(rng)  # a detection that no longer exists
            etype = rng.randrange(len(cat.CONVICTING_TYPES))
        else:
            asset_ix = rng.randrange(n_assets)
            etype = -1 - rng.randrange(len(cat.CONTEXTUAL_TYPES))
        modified = detected
        if rng.random() < 0.08:
            modified = min(start_ms, detected + rng.randrange(60_000, 3 * DAY_MS))
            for t in tdx:
                tds[t].last = max(tds[t].last, modified)
        ev_meta.append((detected, modified, etype, tdx, dangling, asset_ix))
        flow_counts[i] = whole_flows + (1 if frac_flows and rng.random() < frac_flows else 0)

    alert_rows = _make_alerts(conn, rng, cust, tds, tds_of_asset, assets, start_ms)

    # Sequence numbers follow modification time across all three collections.
    keys: list[int] = [((td.last * 4 + _KIND_TD) << 32) | j for j, td in enumerate(tds)]
    keys.extend(((m[1] * 4 + _KIND_EVENT) << 32) | i for i, m in enumerate(ev_meta))
    keys.extend(
        ((m[0] * 4 + _KIND_FLOWS) << 32) | i for i, m in enumerate(ev_meta) if flow_counts[i]
    )
    keys.sort()
    td_msn = [0] * len(tds)
    ev_msn = [0] * events
    flow_msn = [0] * events
    msn = first_msn
    for key in keys:
        kind, idx = (key >> 32) & 3, key & 0xFFFFFFFF
        if kind == _KIND_TD:
            td_msn[idx] = msn
            msn += 1
        elif kind == _KIND_EVENT:
            ev_msn[idx] = msn
            msn += 1
        else:
            flow_msn[idx] = msn
            msn += flow_counts[idx]
    del keys

    conn.executemany(
        "INSERT INTO tds (cust, msn, id, asset_id, modified_at, alert_ids, doc)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                cust,
                td_msn[j],
                td.id,
                assets[td.asset],
                td.last,
                orjson.dumps(td.alert_ids),
                td_doc(
                    td.id,
                    assets[td.asset],
                    td.confidence,
                    cat.THREATS[td.threat].id,
                    td.first,
                    td.last,
                ),
            )
            for j, td in enumerate(tds)
        ),
    )
    conn.executemany("INSERT INTO td_alerts (cust, alert_id, td_id) VALUES (?, ?, ?)", alert_rows)
    conn.executemany(
        "INSERT INTO events (cust, msn, id, asset_id, modified_at, td_ids, doc)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        _event_rows(rng, cust, ev_ids, ev_meta, ev_msn, tds, assets),
    )
    flow_rng = random.Random(f"gta-emulator-flows:{seed}:{cust}")
    conn.executemany(
        "INSERT INTO flows (cust, msn, id, event_id, doc) VALUES (?, ?, ?, ?, ?)",
        _flow_rows(flow_rng, cust, ev_ids, ev_meta, flow_counts, flow_msn),
    )
    return msn


def _event_rows(
    rng: random.Random,
    cust: int,
    ev_ids: list[str],
    ev_meta: list[_EventMeta],
    ev_msn: list[int],
    tds: list[_Td],
    assets: list[str],
) -> Iterator[tuple[int, int, str, str, int, bytes, bytes]]:
    for i, (detected, modified, etype_ix, tdx, dangling, asset_ix) in enumerate(ev_meta):
        asset = assets[asset_ix]
        if etype_ix >= 0:
            etype = cat.CONVICTING_TYPES[etype_ix]
            td_ids = [tds[t].id for t in tdx]
            if dangling is not None:
                td_ids.append(dangling)
            annotate = rng.random() < 0.85
        else:
            etype = cat.CONTEXTUAL_TYPES[-1 - etype_ix]
            td_ids = []
            annotate = rng.random() < 0.3
        subtitle, annotation = event_text(rng, etype, annotate)
        yield (
            cust,
            ev_msn[i],
            ev_ids[i],
            asset,
            modified,
            orjson.dumps(td_ids),
            event_doc(ev_ids[i], detected, modified, etype, subtitle, asset, annotation),
        )


def _flow_rows(
    rng: random.Random,
    cust: int,
    ev_ids: list[str],
    ev_meta: list[_EventMeta],
    flow_counts: bytearray,
    flow_msn: list[int],
) -> Iterator[tuple[int, int, str, str, bytes]]:
    for i, count in enumerate(flow_counts):
        if not count:
            continue
        event_id, detected = ev_ids[i], ev_meta[i][0]
        for k in range(count):
            flow_id = new_uuid(rng)
            at = detected - int(flow_id[:5], 16) % 120_000  # seconds before the event
            yield cust, flow_msn[i] + k, flow_id, event_id, flow_doc(rng, flow_id, event_id, at)


def _make_alerts(
    conn: sqlite3.Connection,
    rng: random.Random,
    cust: int,
    tds: list[_Td],
    tds_of_asset: dict[int, list[int]],
    assets: list[str],
    start_ms: int,
) -> list[tuple[int, str, str]]:
    """Group each asset's detections into alerts; return the (cust, alert, detection) links."""
    links: list[tuple[int, str, str]] = []
    rows: list[tuple[int, str, int, int, int, str, bytes]] = []
    for asset_ix in sorted(tds_of_asset):
        members = tds_of_asset[asset_ix]
        pos = 0
        while pos < len(members):
            group = members[pos : pos + rng.choice((1, 1, 1, 2, 2, 3, 4))]
            pos += len(group)
            alert_id = new_alert_id(rng)
            for j in group:
                tds[j].alert_ids.append(alert_id)
                links.append((cust, alert_id, tds[j].id))
            if not rows or rng.random() < 0.02:
                tds[group[0]].alert_ids.append(new_alert_id(rng))  # an alert since removed
            rank = min(cat.RISK_RANK[cat.THREATS[tds[j].threat].severity] for j in group)
            if rank < 3 and rng.random() < 0.15:
                rank += 1
            triggered = min(tds[j].first for j in group)
            modified = max(tds[j].first for j in group)  # when the last detection joined
            draw = rng.random()
            status, reasons = "New", None
            if draw < 0.08:
                status, reasons = "Closed", [rng.choice(cat.CLOSING_REASONS)]
            elif draw < 0.22:
                status = "Open"
            note = None
            if status != "New" and rng.random() < 0.4:
                note = f"Ticket INC{rng.randrange(10**6):06d} opened by the SOC"
                modified = min(start_ms, modified + rng.randrange(1, DAY_MS))
            eta = "EtaBasedDetection" if rng.random() < 0.2 else None
            rows.append(
                (
                    cust,
                    alert_id,
                    rank,
                    triggered,
                    modified,
                    assets[asset_ix],
                    alert_doc(
                        alert_id,
                        cat.RISK_BY_RANK[rank],
                        status,
                        reasons,
                        eta,
                        note,
                        triggered,
                        modified,
                    ),
                )
            )
    conn.executemany(
        "INSERT INTO alerts (cust, id, risk_rank, triggered_at, modified_at, asset_id, doc)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return links
