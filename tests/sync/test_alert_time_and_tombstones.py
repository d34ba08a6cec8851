"""Issue #12, alerts: a cursor no timestamp can poison, and tombstones for removed alerts.

- The alerts checkpoint never moves past the server's present (the page's ``Date``), however an
  alert's ``modifiedAt`` reads: a 2099 stamp, or one alert 15 minutes ahead, must not hide later
  changes; a skewed server clock (ahead of or behind ours) loses nothing.
- An alert the service removed (45-day timeout, 404) reaches the SIEM as one tombstone record,
  in every format, with its last status and risk; once only; never for an alert that a risk
  change merely moved during the listing.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sync_fakes import FakeApi, FakeClient, seed
from tests._support.clients import emulator_client

import gta
from gta.cli import main
from gta.cli._progress import plural
from gta.client._pagination import server_time
from gta.emulator import RunningEmulator
from gta.formats import get_format
from gta.formats._cef import encode_cef
from gta.formats._ids import Tombstone
from gta.formats.ocsf_schema import load_schema
from gta.sync import AlertCursor, CheckpointStore, Job, load_config, run_job
from gta.sync._alert_removals import removals, tombstone
from gta.sync._alert_set import AlertSet
from gta.sync._enrich import PageContext

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert(aid: str, modified: datetime | str, **extra: Any) -> dict[str, Any]:
    stamp = modified if isinstance(modified, str) else iso(modified)
    return {"id": aid, "modifiedAt": stamp, **extra}


def scan(
    cursor: AlertCursor, pages: list[list[dict[str, Any]]], now: datetime
) -> tuple[AlertCursor, list[dict[str, Any]]]:
    """One whole scan, every page served at server time ``now``."""
    state = cursor.begin()
    delivered: list[dict[str, Any]] = []
    for number, page in enumerate(pages):
        state, fresh = state.accept(page, f"c{number}", now=now)
        delivered += fresh
    return state.finish(), delivered


def api_filter(alerts: list[dict[str, Any]], cursor: AlertCursor) -> list[dict[str, Any]]:
    """What the server returns for the scan's ``modifiedAfter`` (strictly greater)."""
    lower = cursor.begin().scan
    assert lower is not None
    if lower.modified_after is None:
        return list(alerts)
    floor = datetime.fromisoformat(lower.modified_after)
    return [a for a in alerts if datetime.fromisoformat(a["modifiedAt"]) > floor]


# -- pure: the cursor never passes the server's present -------------------------------------


def test_a_2099_modified_at_does_not_move_the_cursor_and_later_changes_still_arrive() -> None:
    world = {f"a{i}": alert(f"a{i}", T0 - timedelta(minutes=i)) for i in range(5)}
    world["a3"] = alert("a3", "2099-01-01T00:00:00.000Z")  # a clock bug on the server
    cur, first = scan(AlertCursor(), [list(world.values())], now=T0)
    assert {a["id"] for a in first} == set(world)
    assert cur.since is not None and datetime.fromisoformat(cur.since) <= T0
    assert ("a3", "2099-01-01T00:00:00.000Z") in cur.boundary  # remembered: not re-delivered

    later = T0 + timedelta(minutes=30)
    world["a1"] = alert("a1", later - timedelta(minutes=1), note="looked at")  # a real change
    world["new"] = alert("new", later - timedelta(seconds=5))
    cur, second = scan(cur, [api_filter(list(world.values()), cur)], now=later)
    assert sorted(a["id"] for a in second) == ["a1", "new"]  # the 2099 alert is not repeated
    assert datetime.fromisoformat(cur.since or "") <= later

    # The bogus alert changes for real: its new modifiedAt is earlier than 2099, yet delivered;
    # the 2099 version, no longer seen, is forgotten (the boundary stays bounded).
    third_time = later + timedelta(minutes=10)
    world["a3"] = alert("a3", third_time - timedelta(minutes=2), note="fixed")
    cur, third = scan(cur, [api_filter(list(world.values()), cur)], now=third_time)
    assert [a["id"] for a in third] == ["a3"]
    cur, fourth = scan(cur, [api_filter(list(world.values()), cur)], now=third_time)
    assert fourth == []
    assert not any(v[1].startswith("2099") for v in cur.boundary)


def test_one_alert_fifteen_minutes_ahead_does_not_hide_a_note_change() -> None:
    world = {
        "a": alert("a", T0 - timedelta(minutes=1)),
        "b": alert("b", T0 + timedelta(minutes=15)),  # ahead of the others (and of the server)
    }
    cur, _ = scan(AlertCursor(), [list(world.values())], now=T0)
    assert datetime.fromisoformat(cur.since or "") <= T0
    world["a"] = alert("a", T0 + timedelta(minutes=2), note="changed")  # before b's stamp
    cur, delivered = scan(
        cur, [api_filter(list(world.values()), cur)], now=T0 + timedelta(minutes=3)
    )
    assert [a["id"] for a in delivered] == ["a"]


@pytest.mark.parametrize("skew", [timedelta(hours=-1), timedelta(hours=1)])
def test_a_server_clock_ahead_or_behind_ours_loses_nothing(skew: timedelta) -> None:
    """Stamps and Date both come from the server's clock; ours plays no part."""
    server_now = datetime.now(UTC) + skew
    world = {f"a{i}": alert(f"a{i}", server_now - timedelta(seconds=10 * i)) for i in range(4)}
    cur, first = scan(AlertCursor(), [list(world.values())], now=server_now)
    assert len(first) == 4
    # Nothing was clamped: since is the newest stamp, exactly (neither our clock nor the skew).
    assert cur.since == world["a0"]["modifiedAt"]
    changed_at = server_now + timedelta(seconds=1)
    world["a2"] = alert("a2", changed_at, note="after the scan")
    cur, second = scan(cur, [api_filter(list(world.values()), cur)], now=changed_at)
    assert [a["id"] for a in second] == ["a2"]


def test_the_scan_start_and_a_saved_high_water_mark_are_clamped_to_the_page_time() -> None:
    poisoned = AlertCursor(since="2099-01-01T00:00:00.000Z")  # saved by an older gta
    state = poisoned.begin()
    state, _ = state.accept([alert("x", "2099-01-01T00:00:00.000Z")], "c", now=T0)
    assert state.scan is not None
    assert state.scan.started == iso(T0) and state.scan.high_water == iso(T0)
    assert state.finish().since == iso(T0)


def test_server_time_reads_the_date_header_and_refuses_garbage() -> None:
    assert server_time("Sun, 06 Nov 1994 08:49:37 GMT") == datetime(
        1994, 11, 6, 8, 49, 37, tzinfo=UTC
    )
    for bad in (None, "", "yesterday", "Sun, 99 Nov 1994 08:49:37 GMT", "x" * 500):
        assert server_time(bad) is None


# -- against the emulator -----------------------------------------------------------------


def _client(emu: RunningEmulator) -> gta.Client:
    return emulator_client(emu)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _emulator_now(emu: RunningEmulator) -> datetime:
    stats = httpx.get(f"{emu.url}/_emulator/stats").raise_for_status().json()
    return datetime.fromisoformat(stats["now"])


def _stamp(emu: RunningEmulator, alert_id: str, when: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{emu.url}/_emulator/alerts/{alert_id}/modified-at", json={"modified_at": when}
    )
    result: dict[str, Any] = answer.raise_for_status().json()
    return result


def test_pages_carry_the_emulated_clock_as_server_time(make_emulator: Any) -> None:
    emu: RunningEmulator = make_emulator(seed=3, events=100)
    httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 30}).raise_for_status()
    with _client(emu) as client:
        page = next(client.alerts.list(size=5).raw().pages())
    assert page.server_time is not None
    assert abs(page.server_time - _emulator_now(emu)) < timedelta(seconds=30)
    assert abs(page.server_time - datetime.now(UTC)) > timedelta(days=1)  # not the host's clock


def test_2099_alert_end_to_end_later_alerts_and_notes_are_delivered(
    make_emulator: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu: RunningEmulator = make_emulator(seed=5, events=300)
    out = tmp_path / "alerts.jsonl"
    job = Job(name="t", streams=["alerts"], format="nested", sink_url=str(out), page_size=7)
    with _client(emu) as client, CheckpointStore(tmp_path / "state.db") as store:
        run_job(client, job, store)
        ids = [a["id"] for a in _rows(out)]
        bogus = _stamp(emu, ids[0], "2099-01-01T00:00:00.000Z")
        with caplog.at_level(logging.WARNING, logger="gta.sync"):
            run_job(client, job, store)
        warned = [r.getMessage() for r in caplog.records if "after the server's time" in r.message]
        assert len(warned) == 1 and ids[0] in warned[0] and "2099-01-01" in warned[0]
        saved = store.get("t", emu.customer_id, "alerts")
        assert saved is not None
        since = AlertCursor.loads(saved.cursor).since
        assert since is not None and datetime.fromisoformat(since) <= _emulator_now(emu)

        httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 0.01}).raise_for_status()
        made = httpx.post(f"{emu.url}/_emulator/activity", json={"new_events": 40}).json()
        assert made["newAlertIds"], "the seed must raise at least one new alert"
        noted = client.alerts.set_note(ids[1], "a change after the 2099 stamp")
        fixed = client.alerts.set_note(ids[0], "the 2099 alert changes for real")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gta.sync"):
            run_job(client, job, store)
            run_job(client, job, store)
        assert not [r for r in caplog.records if "after the server's time" in r.message]
    rows = _rows(out)
    delivered = {(r["id"], r["modifiedAt"]) for r in rows}
    assert (bogus["id"], bogus["modifiedAt"]) in delivered
    assert sum(1 for r in rows if r["modifiedAt"] == bogus["modifiedAt"]) == 1  # once
    assert set(made["newAlertIds"]) <= {r["id"] for r in rows}
    assert noted.modified_at is not None and fixed.modified_at is not None
    notes = {(r["id"], r.get("note")) for r in rows}
    assert (ids[1], "a change after the 2099 stamp") in notes
    assert (ids[0], "the 2099 alert changes for real") in notes


def test_one_alert_fifteen_minutes_ahead_end_to_end(make_emulator: Any, tmp_path: Path) -> None:
    """The emulated clock (seeded, early 2026) is months behind the host's: clamping to our own
    clock instead of the server's ``Date`` would let the skewed stamp through, and fail here."""
    emu: RunningEmulator = make_emulator(seed=6, events=200)
    out = tmp_path / "alerts.jsonl"
    job = Job(name="t", streams=["alerts"], format="annotation", sink_url=str(out))
    with _client(emu) as client, CheckpointStore(tmp_path / "state.db") as store:
        run_job(client, job, store)
        ids = [r["alertId"] for r in _rows(out)]
        ahead = iso(_emulator_now(emu) + timedelta(minutes=15))
        _stamp(emu, ids[0], ahead)
        run_job(client, job, store)
        client.alerts.set_note(ids[-1], "noted 15 minutes before the skewed stamp")
        run_job(client, job, store)
    assert ("noted 15 minutes before the skewed stamp", ids[-1]) in {
        (r.get("note"), r["alertId"]) for r in _rows(out)
    }


# -- tombstones -----------------------------------------------------------------------------

OCSF_VALIDATOR = None


def _ocsf_errors(record: dict[str, Any]) -> list[str]:
    import jsonschema

    global OCSF_VALIDATOR
    if OCSF_VALIDATOR is None:
        OCSF_VALIDATOR = jsonschema.Draft202012Validator(load_schema())
    return [e.message for e in OCSF_VALIDATOR.iter_errors(record)]


def _export(emu: RunningEmulator, fmt: str, out: Path, state: Path) -> int:
    env = emu.env()
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        main(["export", "alerts", "--output", str(out), "--format", fmt,
              "--state", str(state), "--quiet"])  # fmt: skip
        return 0
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _current_list(rows: list[dict[str, Any]]) -> dict[str, str]:
    """docs/sinks.md's Splunk search for annotation/nested records, in Python: the newest record
    of each alert by ``modifiedAt``, alerts with a ``removed`` record dropped."""
    newest: dict[str, dict[str, Any]] = {}
    removals: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r["modifiedAt"], reverse=True):  # sort 0 - modifiedAt
        alert_id = row.get("alertId", row.get("id"))
        newest.setdefault(alert_id, row)
        removals[alert_id] = removals.get(alert_id, 0) + ("removed" in row)
    return {
        aid: row.get("alertStatus", row.get("status.value", (row.get("status") or {}).get("value")))
        for aid, row in newest.items()
        if removals[aid] == 0
    }


def test_removed_alerts_become_one_tombstone_each_in_every_format(
    make_emulator: Any, tmp_path: Path
) -> None:
    emu: RunningEmulator = make_emulator(seed=7, events=150)
    state = tmp_path / "state.db"
    outs = {fmt: tmp_path / f"{fmt}.jsonl" for fmt in ("annotation", "nested", "ocsf")}
    for fmt, out in outs.items():
        assert _export(emu, fmt, out, state) == 0
    live = {r["alertId"]: r for r in _rows(outs["annotation"])}
    with _client(emu) as client:
        first = next(iter(live))
        client.alerts.set_status(first, "Open")  # the last status the SIEM sees is Open
    for fmt, out in outs.items():
        assert _export(emu, fmt, out, state) == 0
    last = {r["alertId"]: r for r in _rows(outs["annotation"])}
    assert last[first]["alertStatus"] == "Open"

    for fmt in ("annotation", "nested"):
        assert _current_list(_rows(outs[fmt])) == {a: r["alertStatus"] for a, r in last.items()}
    moved = httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 60}).json()
    removed = set(moved["removedAlertIds"])
    assert removed == set(live)  # every delivered alert timed out
    sizes = {fmt: len(_rows(out)) for fmt, out in outs.items()}
    for fmt, out in outs.items():
        assert _export(emu, fmt, out, state) == 0

    emulator_now = _emulator_now(emu)
    tomb = {fmt: _rows(out)[sizes[fmt] :] for fmt, out in outs.items()}
    annotation = {r["alertId"]: r for r in tomb["annotation"]}
    assert len(tomb["annotation"]) == len(removed) and set(annotation) == removed
    for aid, row in annotation.items():
        assert row["removed"] is True and row["stream"] == "alerts"
        assert row["alertStatus"] == last[aid]["alertStatus"] and row["risk"] == last[aid]["risk"]
        assert row["removedAt"] == row["modifiedAt"]
        noticed = datetime.fromisoformat(row["removedAt"])  # the server's time, not ours
        assert timedelta(0) <= emulator_now - noticed < timedelta(minutes=5)
        assert row["recordId"] not in {
            r["recordId"] for r in _rows(outs["annotation"])[: -len(removed)]
        }
        cef = encode_cef(row)
        assert "act=removed" in cef and f"cs1={aid}" in cef and "removed|" in cef
        assert f"cs4={last[aid]['alertStatus']}" in cef
    nested = {r["id"]: r for r in tomb["nested"]}
    assert set(nested) == removed
    assert all(r["removed"] is True and r["status"]["value"] == last[a]["alertStatus"]
               for a, r in nested.items())  # fmt: skip
    ocsf = {r["finding_info"]["uid"]: r for r in tomb["ocsf"]}
    assert set(ocsf) == removed
    for rec in ocsf.values():
        assert _ocsf_errors(rec) == []
        assert rec["activity_id"] == 3 and rec["type_uid"] == 200403
        assert (rec["status_id"], rec["status"]) == (99, "Removed")
        assert rec["unmapped"]["removed"] is True
        assert rec["unmapped"]["lastStatus"] in ("New", "In Progress", "Resolved")
        assert "act=removed" in encode_cef(rec)

    for fmt in ("annotation", "nested"):
        assert _current_list(_rows(outs[fmt])) == {}  # the search shows no removed alert
    for fmt, out in outs.items():  # a third run: nothing more
        assert _export(emu, fmt, out, state) == 0
        assert len(_rows(out)) == sizes[fmt] + len(removed)
    with CheckpointStore(state) as store:
        for fmt in outs:
            job = next(cp.job for cp in store.list(stream="alerts") if f":{fmt}:" in cp.job)
            assert AlertSet(store, job, emu.customer_id).live() == {}


def test_tombstones_reach_a_syslog_receiver_as_cef(
    make_emulator: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    """The syslog sink with ``format=cef``, as a SIEM receives it, and the run summary."""
    import os
    import socket

    from tests._support.cef_parser import parse_cef

    emu: RunningEmulator = make_emulator(seed=9, events=60)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    request.addfinalizer(receiver.close)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    target = f"syslog+udp://127.0.0.1:{receiver.getsockname()[1]}?format=cef"
    argv = ["export", "alerts", "--to", target, "--state", str(tmp_path / "s.db")]
    for key, value in emu.env().items():
        os.environ[key] = value  # the autouse fixture restores the environment

    def export() -> tuple[list[str], str]:
        try:
            main(argv)
        except SystemExit as exc:
            assert not exc.code
        messages: list[str] = []
        receiver.settimeout(0.5)
        try:
            while True:
                messages.append(receiver.recv(65536).decode())
        except TimeoutError:
            pass
        return messages, capsys.readouterr().err

    delivered, _ = export()
    alert_ids = {m.split("cs1=", 1)[1].split(" ", 1)[0] for m in delivered}
    moved = httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 60}).json()
    assert set(moved["removedAlertIds"]) == alert_ids
    tombstones, summary = export()
    events = [parse_cef(m[m.index("CEF:0|") :]) for m in tombstones]
    assert {e.extension["cs1"] for e in events} == alert_ids
    assert all(e.extension["act"] == "removed" and e.name.endswith("removed") for e in events)
    assert all(e.extension["cs4"] == "New" and e.severity != "0" for e in events)
    assert f"{plural(len(alert_ids), 'removed alert')} as tombstones" in " ".join(summary.split())
    assert export()[0] == []


def test_tombstone_record_ids_are_stable_and_distinct_from_versions() -> None:
    ctx = PageContext(index_time="2026-03-01T12:00:00.000Z")
    version = {"id": "a1", "risk": "High", "status": {"value": "Open"}, "modifiedAt": iso(T0)}
    for name in ("annotation", "nested", "ocsf"):
        fmt = get_format(name)
        once = fmt.alerts(tombstone("a1", "Open", "High", iso(T0)), ctx)[0]
        again = fmt.alerts(tombstone("a1", "Open", "High", iso(T0 + timedelta(hours=1))), ctx)[0]
        forged = fmt.alerts({**version, "removed": True, "modifiedAt": iso(T0)}, ctx)[0]
        assert once["recordId"] == again["recordId"]
        assert once["recordId"] != fmt.alerts(version, ctx)[0]["recordId"]
        assert forged["recordId"] != once["recordId"]  # a server cannot forge a tombstone
    assert isinstance(tombstone("a1", None, None, iso(T0)), Tombstone)


class _RiskMovingClient(FakeClient):
    """The alert list is paged by risk; after the first page one Low alert turns Critical,
    so it moves behind the cursor and the listing never shows it."""

    def __init__(self, api: FakeApi, moving: str) -> None:
        super().__init__(api)
        inner = self.alerts.list

        def listing(**kwargs: Any) -> Any:
            pager = inner(**kwargs)
            pages = pager.pages

            def moved_pages() -> Any:
                for number, page in enumerate(pages()):
                    yield page
                    if number == 0:
                        api.alerts[moving]["risk"] = "Critical"

            pager.pages = moved_pages  # type: ignore[method-assign]
            return pager

        self.alerts.list = listing  # type: ignore[method-assign]


def test_an_alert_moved_by_a_risk_change_during_the_listing_is_not_tombstoned(
    tmp_path: Path,
) -> None:
    api = FakeApi()
    seed(api, events=0)
    moving = next(a for a, v in api.alerts.items() if v["risk"] == "Low")
    client = _RiskMovingClient(api, moving)
    with CheckpointStore(tmp_path / "state.db") as store:
        alert_set = AlertSet(store, "j", client.customer_id)
        alert_set.remember(api.alerts.values())
        del api.alerts["alert-0"]  # really removed
        batches = list(removals(client, alert_set, every=0, batch=100, list_size=2))
    # The listing did miss the moved alert (a candidate), but the search by id found it.
    assert ("alerts", 2) in api.searches
    assert [[t["id"] for t in b] for b in batches] == [["alert-0"]]


def test_sync_reconciles_at_most_once_per_reconcile_every(
    make_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu: RunningEmulator = make_emulator(seed=8, events=120)
    monkeypatch.setenv("EMU_PW", emu.client_password)
    config = tmp_path / "gta.toml"
    out = tmp_path / "out.jsonl"
    config.write_text(
        f"""
state = "{tmp_path / "state.db"}"
[tenants.emu]
client_id = "{emu.client_id}"
client_password = "env:EMU_PW"
visibility_host = "{emu.url}"
api_url = "{emu.url}"
app_url = "{emu.url}"
customer_id = "{emu.customer_id}"
[jobs.siem]
tenant = "emu"
streams = ["alerts"]
sink = "jsonl:{out}"
reconcile_every = "1h"
"""
    )
    assert load_config(config).jobs["siem"].reconcile_seconds() == 3600

    def sync_once() -> list[dict[str, Any]]:
        before = len(_rows(out)) if out.exists() else 0
        try:
            main(["sync", "--config", str(config), "--once", "--quiet"])
        except SystemExit as exc:
            assert not exc.code
        return [r for r in _rows(out)[before:] if r.get("removed") is True]

    assert sync_once() == []
    removed = httpx.post(f"{emu.url}/_emulator/clock", json={"advance_days": 60}).json()
    assert removed["removedAlertIds"]
    assert sync_once() == []  # reconciled less than an hour ago (the first pass)
    with CheckpointStore(tmp_path / "state.db") as store:
        alert_set = AlertSet(store, "siem", emu.customer_id)
        last = alert_set.last_reconcile()
        assert last is not None and abs(last - time.time()) < 600
        alert_set.mark_reconciled(last - 3601)  # as if an hour had passed
    tombs = sync_once()
    assert {r["alertId"] for r in tombs} == set(removed["removedAlertIds"])


def test_reconcile_every_must_be_an_interval(tmp_path: Path) -> None:
    from gta.sync import ConfigError

    config = tmp_path / "gta.toml"
    config.write_text(
        """
[tenants.t]
client_id = "x"
client_password = "y"
visibility_host = "h"
[jobs.j]
tenant = "t"
sink = "jsonl:/tmp/x.jsonl"
reconcile_every = "often"
"""
    )
    with pytest.raises(ConfigError, match="reconcile_every"):
        load_config(config)


def test_a_version_stamped_within_the_second_of_the_date_is_not_delivered_twice() -> None:
    """``Date`` has whole seconds, so a fresh stamp may lie just after it: it must stay known."""
    now = T0 + timedelta(milliseconds=500)
    world = {"a": alert("a", now), "b": alert("b", T0 - timedelta(minutes=1))}
    cur = AlertCursor()
    delivered: list[str] = []
    for minute in range(4):
        cur, fresh = scan(
            cur, [api_filter(list(world.values()), cur)], now=T0 + timedelta(minutes=minute)
        )
        delivered += [a["id"] for a in fresh]
    assert sorted(delivered) == ["a", "b"]


def test_a_crash_after_the_tombstone_flush_repeats_it_with_the_same_record_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeApi()
    seed(api, events=0)
    client = FakeClient(api)
    out = tmp_path / "out.jsonl"
    job = Job(name="j", streams=["alerts"], format="annotation", sink_url=str(out))
    with CheckpointStore(tmp_path / "state.db") as store:
        run_job(client, job, store)
        del api.alerts["alert-3"]
        forget = AlertSet.forget

        def crash(self: AlertSet, ids: Any) -> None:
            if list(ids):
                raise RuntimeError("killed between the flush and the delete")

        monkeypatch.setattr(AlertSet, "forget", crash)
        with pytest.raises(RuntimeError, match="killed"):
            run_job(client, job, store)
        monkeypatch.setattr(AlertSet, "forget", forget)
        results = run_job(client, job, store)
        assert results[0].tombstones == 1
        assert run_job(client, job, store)[0].tombstones == 0
    tombs = [r for r in _rows(out) if r.get("removed") is True]
    assert [t["alertId"] for t in tombs] == ["alert-3", "alert-3"]
    assert tombs[0]["recordId"] == tombs[1]["recordId"]
