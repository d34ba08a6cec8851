"""Streams as data: one registry (``gta.sync.STREAMS``), formats as tables keyed by record kind.

Everything that names a stream derives from the registry, a format need not have every kind,
and a new stream is one ``StreamSpec`` plus its format entries (docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sync_fakes import FakeApi, FakeClient, FakePager, seed

from gta.formats import (
    FLOWS,
    FORMAT_NAMES,
    RECORD_KINDS,
    ApiObject,
    FormatContext,
    FormatTable,
    UnsupportedKindError,
    get_format,
    records_for,
)
from gta.formats.ocsf_schema import SCHEMA_PATH
from gta.sinks import Record
from gta.sync import (
    STREAM_NAMES,
    STREAMS,
    CheckpointStore,
    JobConfig,
    MsnCursor,
    StreamSpec,
    get_stream,
    run_stream,
)


class ListSink:
    name = "list"
    rejected = 0  # the Sink protocol: it never drops a record

    def __init__(self) -> None:
        self.flushed: list[Record] = []
        self.pending: list[Record] = []

    def write(self, records: Sequence[Record]) -> None:
        self.pending.extend(records)

    def flush(self) -> None:
        self.flushed.extend(self.pending)
        self.pending.clear()

    def close(self) -> None:
        self.flush()


def test_every_stream_name_derives_from_the_registry() -> None:
    assert tuple(spec.name for spec in STREAMS) == STREAM_NAMES
    assert len(set(STREAM_NAMES)) == len(STREAMS)
    assert all(get_stream(spec.name) is spec for spec in STREAMS)
    assert JobConfig(sink="-").streams == list(STREAM_NAMES)  # the config file's default
    with pytest.raises(ValueError, match="choose one of: events, alerts"):
        JobConfig(sink="-", streams=["evnts"])
    # Every kind a stream emits is a record kind every built-in format can write.
    for spec in STREAMS:
        assert spec.kind in RECORD_KINDS
        for name in FORMAT_NAMES:
            assert callable(records_for(get_format(name), spec.kind))
    # The OCSF schema's ``stream`` values are the record kinds, in their order.
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    enums = {json.dumps(d["properties"]["stream"]) for d in schema["$defs"].values()
             if "stream" in d["properties"]}  # fmt: skip
    assert enums == {json.dumps({"enum": list(RECORD_KINDS)})}


def test_a_sync_job_takes_every_registered_format() -> None:
    # docs/sync.md: the ``format`` key of a sync job takes every record schema ``--schema`` does.
    for name in FORMAT_NAMES:
        assert JobConfig(sink="-", format=name).format == name
    with pytest.raises(ValueError, match="unknown format 'xml'; choose one of: annotation"):
        JobConfig(sink="-", format="xml")


def _flow_records(flow: ApiObject, ctx: FormatContext) -> list[Record]:
    return [{"recordId": str(flow["id"]), "stream": FLOWS, "indexTime": ctx.index_time}]


def test_a_format_need_not_have_every_kind(tmp_path: Path) -> None:
    api = FakeApi()
    seed(api, events=12)
    client = FakeClient(api)
    flows_only = FormatTable("flows-only", {FLOWS: _flow_records})
    store, sink = CheckpointStore(tmp_path / "s.db"), ListSink()
    result = run_stream(client=client, stream=get_stream("flows"), fmt=flows_only, sink=sink,
                        store=store, job="t", page_size=5)  # fmt: skip
    assert result.records == len(api.flows) > 0
    assert [r["recordId"] for r in sink.flushed] == sorted(
        api.flows, key=lambda f: api.flows[f]["_msn"]
    )

    sink.flushed.clear()
    with pytest.raises(
        UnsupportedKindError, match="'flows-only' has no 'events' records; it has: flows"
    ):
        run_stream(client=client, stream=get_stream("events"), fmt=flows_only, sink=sink,
                   store=store, job="t", page_size=5)  # fmt: skip
    # Refused before anything was read, written or saved.
    assert sink.flushed == [] and api.searches == []
    assert store.get("t", client.customer_id, "events") is None
    store.close()


def test_a_new_stream_is_one_spec_plus_its_format_entry(tmp_path: Path) -> None:
    """A toy stream over a listing the engine has never heard of, with a one-entry format."""
    notes = [{"id": f"note-{n}", "text": f"n{n}", "_msn": n} for n in range(7)]

    def fetch(after: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
        start = 0 if after is None else int(after) + 1
        page = notes[start : start + 3]
        return page, (str(page[-1]["_msn"]) if page else after), start + 3 < len(notes)

    class Notes:
        def listing(self, *, after: str | None = None, size: int | None = None) -> FakePager:
            return FakePager(fetch, after)

    client = FakeClient(FakeApi())
    client.notes = Notes()  # type: ignore[attr-defined]
    spec = StreamSpec(
        name="notes",
        kind="notes",
        cursor=MsnCursor(lambda c: c.notes.listing),  # type: ignore[attr-defined]
        enrich=lambda enricher, items: enricher.bare(),
    )
    fmt = FormatTable(
        "plain", {"notes": lambda obj, ctx: [{"recordId": obj["id"], "stream": "notes"}]}
    )
    store, sink = CheckpointStore(tmp_path / "s.db"), ListSink()
    result = run_stream(client=client, stream=spec, fmt=fmt, sink=sink, store=store, job="t",
                        page_size=3)  # fmt: skip
    assert [r["recordId"] for r in sink.flushed] == [n["id"] for n in notes]
    assert result.pages == 3 and result.cursor == "6"
    saved = store.get("t", client.customer_id, "notes")
    assert saved is not None and saved.cursor == "6"
    # A second run starts from the saved cursor and delivers nothing again.
    again = run_stream(client=client, stream=spec, fmt=fmt, sink=sink, store=store, job="t",
                       page_size=3)  # fmt: skip
    assert again.records == 0 and len(sink.flushed) == len(notes)
    store.close()
