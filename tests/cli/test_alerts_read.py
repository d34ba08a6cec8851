"""``gta auth check``, ``gta alerts list`` and ``gta alerts show`` against the emulator."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import httpx
from tests.cli.helpers import Gta, sdk

from gta.cli._render import ALERT_COLUMNS
from gta.emulator import RunningEmulator


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_auth_check_reports_region_customer_and_lifetime(
    gta: Gta, emulator: RunningEmulator
) -> None:
    run = gta("auth", "check", env=emulator.env())
    assert run.code == 0, run.both
    assert emulator.customer_id in run.out
    assert "600 s" in run.out
    assert f"custom ({emulator.url.removeprefix('http://')})" in run.out
    assert emulator.client_password not in run.both


def test_auth_check_with_a_bad_credential_is_one_line(gta: Gta, emulator: RunningEmulator) -> None:
    env = {**emulator.env(), "SECUREX_CLIENT_PASSWORD": "wrong-password-1234"}
    run = gta("auth", "check", env=env)
    assert run.code == 1
    assert run.out == ""
    assert run.err.startswith("error: ") and run.err.count("\n") == 1
    assert "wrong-password-1234" not in run.err


def test_missing_settings_are_a_usage_error(gta: Gta) -> None:
    run = gta("alerts", "list")
    assert run.code == 2
    assert run.err.startswith("error: missing client id (SECUREX_CLIENT_ID)")


def test_list_formats_share_the_stable_columns(gta: Gta, emulator: RunningEmulator) -> None:
    as_json = json.loads(
        gta("alerts", "list", "--format", "json", "--limit", "7", env=emulator.env()).out
    )
    lines = gta("alerts", "list", "--format", "jsonl", "--limit", "7", env=emulator.env()).out
    as_jsonl = [json.loads(line) for line in lines.splitlines()]
    as_csv = list(
        csv.DictReader(
            io.StringIO(gta("alerts", "list", "-f", "csv", "--limit", "7", env=emulator.env()).out)
        )
    )
    assert len(as_json) == len(as_jsonl) == len(as_csv) == 7
    assert all(tuple(row) == ALERT_COLUMNS for row in as_json + as_jsonl + as_csv)
    assert (
        [row["id"] for row in as_json]
        == [row["id"] for row in as_jsonl]
        == [row["id"] for row in as_csv]
    )


def test_table_fits_80_columns(gta: Gta, emulator: RunningEmulator) -> None:
    run = gta("alerts", "list", "--limit", "20", env=emulator.env())
    assert run.code == 0, run.both
    lines = run.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "20 alerts (limit reached" in run.out


def test_client_side_filters_match_a_full_listing(gta: Gta, emulator: RunningEmulator) -> None:
    with sdk(emulator) as client:
        everything = list(client.alerts.list().raw())
    expected = {
        a["id"]
        for a in everything
        if a["risk"] in ("High", "Low") and a["status"]["value"] == "New"
    }
    assert expected  # the seeded data has some
    run = gta(
        "alerts", "list", "--risk", "high", "--risk", "Low", "--status", "New",
        "--limit", "0", "-f", "jsonl", env=emulator.env(),
    )  # fmt: skip
    got = [json.loads(line) for line in run.out.splitlines()]
    assert {row["id"] for row in got} == expected
    limited = gta(
        "alerts",
        "list",
        "--risk",
        "High,Low",
        "--status",
        "new",
        "--limit",
        "3",
        "-f",
        "jsonl",
        env=emulator.env(),
    )
    assert len(limited.out.splitlines()) == 3


def test_time_filters_and_sort_go_to_the_api(gta: Gta, emulator: RunningEmulator) -> None:
    with sdk(emulator) as client:
        times = sorted(a["triggeredAt"] for a in client.alerts.list().raw())
    middle = times[len(times) // 2]
    run = gta(
        "alerts", "list", "--triggered-after", middle, "--sort", "triggeredAt:asc",
        "--limit", "0", "-f", "json", env=emulator.env(),
    )  # fmt: skip
    rows = json.loads(run.out)
    assert rows and all(_instant(r["triggeredAt"]) > _instant(middle) for r in rows)
    assert [r["triggeredAt"] for r in rows] == sorted(r["triggeredAt"] for r in rows)
    bad = gta("alerts", "list", "--modified-after", "last tuesday", env=emulator.env())
    assert bad.code == 2 and bad.err.startswith("error: invalid time 'last tuesday'")
    bad_risk = gta("alerts", "list", "--risk", "Severe", env=emulator.env())
    assert bad_risk.code == 2
    assert bad_risk.err == "error: invalid risk 'Severe': choose from Critical, High, Medium, Low\n"


def test_show_finds_the_detections_of_the_alert(gta: Gta, emulator: RunningEmulator) -> None:
    with sdk(emulator) as client:
        alert_id = next(iter(client.alerts.list(size=5).raw()))["id"]
        td_ids = [td["id"] for td in client.threat_detections.list().raw()]
        expected = {
            td["id"]
            for td in client.threat_detections.search_with_alert_ids(td_ids).raw()
            if alert_id in td["alertIds"]
        }
    run = gta("alerts", "show", alert_id, "--format", "json", "--events", "3", env=emulator.env())
    assert run.code == 0, run.both
    shown = json.loads(run.out)
    assert shown["alert"]["id"] == alert_id
    assert {td["id"] for td in shown["threatDetections"]} == expected and expected
    assert all(td["threatIntelRecord"]["title"] for td in shown["threatDetections"])
    asset_ids = {td["affectedAssetId"] for td in shown["threatDetections"]}
    assert {a["id"] for a in shown["assets"]} == asset_ids
    assert 0 < len(shown["events"]) <= 3
    assert all(expected & set(e["threatDetectionIds"]) for e in shown["events"])
    stamps = [e["detectedAt"] for e in shown["events"]]
    assert stamps == sorted(stamps, reverse=True)

    table = gta("alerts", "show", alert_id[:10], env=emulator.env())  # a unique prefix works too
    assert table.code == 0, table.both
    assert (
        alert_id in table.out
        and "threat detections" in table.out
        and "most recent events" in table.out
    )


def test_show_of_a_removed_alert_is_a_clear_line(gta: Gta, fresh_emu: RunningEmulator) -> None:
    with sdk(fresh_emu) as client:
        alert_id = next(iter(client.alerts.list(size=1).raw()))["id"]
    answer = httpx.post(f"{fresh_emu.url}/_emulator/clock", json={"advance_days": 60})
    assert answer.status_code < 300
    run = gta("alerts", "show", alert_id, env=fresh_emu.env())
    assert run.code == 1
    assert run.out == ""
    assert run.err == (
        f"error: alert {alert_id} not found "
        "(it may have been removed after its detections timed out)\n"
    )


def test_id_prefixes_must_be_long_enough_and_exist(gta: Gta, emulator: RunningEmulator) -> None:
    short = gta("alerts", "show", "abc", env=emulator.env())
    assert short.code == 2
    assert short.err == "error: alert id prefix 'abc' is too short: give at least 6 characters\n"
    with sdk(emulator) as client:
        ids = {a["id"] for a in client.alerts.list().raw()}
    absent = next(
        p for p in ("000000", "ffffff", "abcdef", "123456") if not any(i.startswith(p) for i in ids)
    )
    missing = gta("alerts", "show", absent, env=emulator.env())
    assert missing.code == 1
    assert missing.err.startswith(f"error: alert {absent} not found")


def test_a_saved_profile_alone_reaches_the_api(gta: Gta, emulator: RunningEmulator) -> None:
    saved = gta(
        "configure", "--profile", "lab", "--no-input", "--client-id", emulator.client_id,
        "--client-password", emulator.client_password, "--securex-host", emulator.url,
        "--api-url", emulator.url, "--app-url", emulator.url,
    )  # fmt: skip
    assert saved.code == 0, saved.both
    checked = gta("auth", "check", "--profile", "lab")  # no SECUREX_* variables at all
    assert checked.code == 0, checked.both
    assert emulator.customer_id in checked.out  # discovered through /auth/api-clients/me
    listed = gta("alerts", "list", "--limit", "2", "-f", "jsonl", env={"GTA_PROFILE": "lab"})
    assert listed.code == 0 and len(listed.out.splitlines()) == 2
    unknown = gta("alerts", "list", "--profile", "prod")
    assert unknown.code == 2 and "profile 'prod' not found" in unknown.err
