"""How alerts look: Rich tables and panels for people, fixed columns for scripts.

Everything here takes plain JSON dicts (camelCase, as the API sends them), so the same functions
render SDK models (``model_dump(by_alias=True)``) and test fixtures, and nothing here does I/O
beyond writing to the stream or console it is given.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import orjson
from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gta._text import cell, for_terminal, visible

__all__ = [
    "ALERT_COLUMNS",
    "FORMATS",
    "RISK_STYLES",
    "alert_row",
    "alert_table",
    "alert_view",
    "plural",
    "write_json",
    "write_rows",
]

FORMATS = ("table", "json", "jsonl", "csv")
# The columns scripts rely on, in this order, for json, jsonl and csv alike.
ALERT_COLUMNS = (
    "id",
    "risk",
    "status",
    "closingReasons",
    "etaFlag",
    "triggeredAt",
    "modifiedAt",
    "note",
)
RISK_STYLES: dict[str, str] = {
    "Critical": "bold white on red",
    "High": "bold red",
    "Medium": "yellow",
    "Low": "green",
}
STATUS_STYLES: dict[str, str] = {"New": "bold", "Open": "cyan", "Closed": "dim"}
SHORT_ID = 12


def plural(count: int, noun: str) -> str:
    """``1 alert``, ``2 alerts``, ``1,000 alerts``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def short_id(value: Any) -> str:
    """The first characters of an id, with an ellipsis when some were cut (a prefix is enough
    for every command that takes an id)."""
    text = str(value or "")
    return text if len(text) <= SHORT_ID else text[:SHORT_ID] + "…"


def alert_row(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The stable script-facing shape of an alert: status flattened, unknown fields dropped."""
    status = alert.get("status")
    value = status.get("value") if isinstance(status, Mapping) else status
    reasons = status.get("closingReasons") if isinstance(status, Mapping) else None
    return {
        "id": alert.get("id"),
        "risk": alert.get("risk"),
        "status": value,
        "closingReasons": reasons,
        "etaFlag": alert.get("etaFlag"),
        "triggeredAt": alert.get("triggeredAt"),
        "modifiedAt": alert.get("modifiedAt"),
        "note": alert.get("note"),
    }


def write_json(stream: TextIO, value: Any) -> None:
    """One indented JSON document (for ``--format json``)."""
    shown = for_terminal(value, stream)
    stream.write(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode() + "\n")


def write_rows(stream: TextIO, rows: Iterable[Mapping[str, Any]], fmt: str) -> int:
    """Write alert rows as ``json`` (one array), ``jsonl`` or ``csv``, streaming; returns the count.

    Rows are written as they come so a long listing starts at once and a pipe sees progress.
    The values are exact in a file or a pipe; on a terminal, control characters are shown as
    escapes (:func:`gta._text.for_terminal`).
    """
    rows = (for_terminal(row, stream) for row in rows)
    count = 0
    if fmt == "jsonl":
        for row in rows:
            stream.write(orjson.dumps(row).decode() + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=ALERT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_cell(row.get(key)) for key in ALERT_COLUMNS})
            count += 1
    elif fmt == "json":
        stream.write("[")
        for row in rows:
            prefix = "\n  " if count == 0 else ",\n  "
            stream.write(prefix + orjson.dumps(row).decode())
            count += 1
        stream.write("\n]\n" if count else "]\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return count


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def risk_text(risk: Any) -> Text:
    return cell(risk, style=RISK_STYLES.get(str(risk), ""), default="?")


def status_text(row: Mapping[str, Any]) -> Text:
    status = row.get("status")
    text = cell(status, style=STATUS_STYLES.get(str(status), ""), default="?")
    reasons = row.get("closingReasons")
    if reasons:
        shown = ",".join(map(str, reasons)) if isinstance(reasons, list) else str(reasons)
        text.append(f" ({visible(shown)})", style="dim")
    return text


def short_time(value: Any) -> Text:
    """``2026-01-31T12:34:56.789Z`` -> ``2026-01-31 12:34`` (UTC): enough to triage, narrow."""
    text = str(value or "")
    return cell(text[:16].replace("T", " ") if len(text) >= 16 else text)


def alert_table(
    rows: Sequence[Mapping[str, Any]], *, title: str | None = None, wide: bool = False
) -> Table:
    """A table of alert rows readable on 80 columns: short ids, times to the minute, notes cut.

    The ``modified`` column is added only when *wide* (the caller knows the terminal's width).
    """
    shown_title = None if title is None else Text(visible(title))  # may quote a server error
    table = Table(title=shown_title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    table.add_column("id", no_wrap=True, style="bold", min_width=SHORT_ID + 1)
    table.add_column("risk", no_wrap=True, min_width=8)
    table.add_column("status", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("triggered (UTC)", no_wrap=True, min_width=16)
    if wide:
        table.add_column("modified (UTC)", no_wrap=True, min_width=16)
    table.add_column("note", no_wrap=True, overflow="ellipsis", ratio=1)
    for row in rows:
        cells: list[Any] = [
            cell(short_id(row.get("id"))),
            risk_text(row.get("risk")),
            status_text(row),
            short_time(row.get("triggeredAt")),
        ]
        if wide:
            cells.append(short_time(row.get("modifiedAt")))
        cells.append(cell(row.get("note")))
        table.add_row(*cells)
    return table


def alert_view(
    alert: Mapping[str, Any],
    detections: Sequence[Mapping[str, Any]],
    records: Mapping[str, Mapping[str, Any]],
    assets: Mapping[str, Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
) -> Group:
    """One alert laid out for a person: summary panel, detections, assets, recent events."""
    row = alert_row(alert)
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(overflow="fold")
    summary.add_row("id", cell(row["id"]))
    summary.add_row("risk", risk_text(row["risk"]))
    summary.add_row("status", status_text(row))
    summary.add_row("triggered", cell(row["triggeredAt"]))
    summary.add_row("modified", cell(row["modifiedAt"]))
    if row["etaFlag"]:
        summary.add_row("eta flag", cell(row["etaFlag"]))
    note = row["note"]
    summary.add_row("note", Text(visible(note, multiline=True)) if note else Text("(none)"))
    title = Text(f"alert {visible(short_id(row['id']))}")
    parts: list[Any] = [Panel(summary, title=title, border_style="blue")]
    parts.append(_detection_table(detections, records, assets))
    parts.append(_asset_table(assets))
    parts.append(_event_table(events, assets))
    return Group(*parts)


def _detection_table(
    detections: Sequence[Mapping[str, Any]],
    records: Mapping[str, Mapping[str, Any]],
    assets: Mapping[str, Mapping[str, Any]],
) -> Table:
    table = Table(
        title=f"threat detections ({len(detections)})", box=box.SIMPLE_HEAD, title_justify="left"
    )
    table.add_column("threat", overflow="fold")
    table.add_column("category", overflow="fold")
    table.add_column("severity", no_wrap=True)
    table.add_column("conf.", no_wrap=True)
    table.add_column("asset", overflow="fold")
    table.add_column("detected (UTC)", no_wrap=True)
    for detection in detections:
        record = records.get(str(detection.get("threatIntelRecordId")), {})
        category = "/".join(
            str(part) for part in (record.get("category"), record.get("subcategory")) if part
        )
        table.add_row(
            cell(record.get("title") or detection.get("threatIntelRecordId"), default="?"),
            cell(category),
            cell(record.get("severity")),
            cell(detection.get("confidence")),
            _asset_name(detection.get("affectedAssetId"), assets),
            short_time(detection.get("detectedAt")),
        )
    return table


def _asset_table(assets: Mapping[str, Mapping[str, Any]]) -> Table:
    table = Table(
        title=f"affected assets ({len(assets)})", box=box.SIMPLE_HEAD, title_justify="left"
    )
    table.add_column("asset id", overflow="fold")
    table.add_column("assumed owner", overflow="fold")
    for asset_id, asset in assets.items():
        table.add_row(cell(asset_id), cell(asset.get("assumedOwner")))
    return table


def _event_table(
    events: Sequence[Mapping[str, Any]], assets: Mapping[str, Mapping[str, Any]]
) -> Table:
    table = Table(
        title=f"most recent events ({len(events)})", box=box.SIMPLE_HEAD, title_justify="left"
    )
    table.add_column("detected (UTC)", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("subtitle", overflow="fold")
    table.add_column("asset", overflow="fold")
    for event in events:
        table.add_row(
            short_time(event.get("detectedAt")),
            cell(event.get("title")),
            cell(event.get("subtitle")),
            _asset_name(event.get("affectedAssetId"), assets),
        )
    return table


def _asset_name(asset_id: Any, assets: Mapping[str, Mapping[str, Any]]) -> Text:
    asset = assets.get(str(asset_id))
    owner = asset.get("assumedOwner") if asset else None
    return cell(owner or asset_id)
