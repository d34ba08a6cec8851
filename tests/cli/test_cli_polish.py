"""Issue 13: choices validated and completed, reports as JSON, sinks listed, export --schema."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from tests.cli.helpers import Gta

from gta.cli import _alert_ops as ops
from gta.cli._sink_catalog import catalogue
from gta.emulator._catalog import CLOSING_REASONS as EMULATOR_REASONS
from gta.sinks import SCHEMES, SinkConfigError, open_sink


def test_closing_reasons_are_the_apis_list() -> None:
    assert set(ops.CLOSING_REASONS) == set(EMULATOR_REASONS)


def test_an_unknown_closing_reason_is_a_usage_error_before_any_request(gta: Gta) -> None:
    run = gta("alerts", "status", "a" * 64, "--set", "Closed", "--reason", "Bogus")
    assert run.code == 2
    assert run.err.startswith("error: invalid closing reason 'Bogus': choose from Remediated,")
    close = gta("alerts", "close", "--risk", "Low", "--reason", "nope", "--dry-run")
    assert close.code == 2 and "invalid closing reason 'nope'" in close.err


def test_closing_reasons_are_normalised(gta: Gta, fresh_emu: object) -> None:
    assert ops.normalise_choices(["falsepositive,duplicate"], ops.CLOSING_REASONS, "r") == {
        "FalsePositive",
        "Duplicate",
    }


@pytest.mark.parametrize(
    ("valid", "typed", "offered"),
    [
        (ops.CLOSING_REASONS, "fa", ["FalsePositive"]),
        (ops.RISKS, "Critical,h", ["Critical,High"]),
        (ops.STATUSES, "", ["New", "Open", "Closed"]),
    ],
)
def test_completion_offers_the_valid_values(
    valid: tuple[str, ...], typed: str, offered: list[str]
) -> None:
    assert ops.completer(valid)(typed) == offered


def test_shell_completion_of_reasons_streams_and_schemas(gta: Gta) -> None:
    def complete(words: str) -> list[str]:
        index = len(words.split()) - (0 if words.endswith(" ") else 1)
        env = {"_GTA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        run = gta(env=env)
        assert run.code == 0, run.err
        return run.out.split()

    assert complete("gta alerts status x --set Closed --reason F") == ["FalsePositive"]
    assert complete("gta alerts list --risk Critical,H") == ["Critical,High"]
    assert complete("gta export thr") == ["threat-detections"]
    assert "all" in complete("gta export ")
    assert complete("gta export events --schema o") == ["ocsf"]


def test_the_stream_error_lists_all(gta: Gta, tmp_path: Path) -> None:
    run = gta("export", "nosuch", "-o", str(tmp_path / "out.jsonl"))
    assert run.code == 2
    assert run.err.rstrip().endswith("choose one of: events, alerts, threat-detections, flows, all")


def test_export_format_is_renamed_schema_with_a_warning(gta: Gta, tmp_path: Path) -> None:
    old = gta("export", "events", "-o", str(tmp_path / "o.jsonl"), "--format", "xml")
    assert old.code == 2
    assert old.err.splitlines()[0] == "warning: `gta export --format` is deprecated; use --schema"
    assert old.err.splitlines()[1] == (
        "error: unknown schema 'xml'; choose one of: annotation, nested, ocsf, ecs"
    )
    both = gta("export", "events", "-o", "x", "--schema", "ocsf", "-f", "ocsf")
    assert both.code == 2 and "give --schema only" in both.err
    assert not (tmp_path / "o.jsonl").exists()


def test_export_schema_and_old_format_both_work(gta: Gta, emulator: object, tmp_path: Path) -> None:
    env = emulator.env()  # type: ignore[attr-defined]
    state = str(tmp_path / "state.db")
    new = gta("export", "alerts", "-o", str(tmp_path / "a.jsonl"), "--schema", "nested",
              "--state", state, "-q", env=env)  # fmt: skip
    assert new.code == 0, new.err
    assert "deprecated" not in new.err
    old = gta("export", "alerts", "-o", str(tmp_path / "b.jsonl"), "-f", "nested",
              "--state", state, "-q", env=env)  # fmt: skip
    assert old.code == 0, old.err
    assert old.err == "warning: `gta export --format` is deprecated; use --schema\n"
    first = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    second = json.loads((tmp_path / "b.jsonl").read_text().splitlines()[0])
    assert first.keys() == second.keys()


def test_state_show_json(gta: Gta, emulator: object, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    missing = gta("state", "show", "--state", str(state), "--format", "json")
    assert missing.code == 0
    assert json.loads(missing.out) == {"state_file": str(state), "exists": False, "checkpoints": []}
    env = emulator.env()  # type: ignore[attr-defined]
    run = gta("export", "alerts", "-o", str(tmp_path / "a.jsonl"), "--state", str(state), "-q",
              env=env)  # fmt: skip
    assert run.code == 0, run.err
    shown = gta("state", "show", "--state", str(state), "--format", "json")
    document = json.loads(shown.out)
    (checkpoint,) = document["checkpoints"]
    assert checkpoint["stream"] == "alerts" and checkpoint["schema"] == "annotation"
    assert isinstance(checkpoint["cursor"], dict) and "since" in checkpoint["cursor"]
    with sqlite3.connect(state) as db:
        assert db.execute("select count(*) from checkpoints").fetchone() == (1,)


def test_auth_check_and_configure_show_json(gta: Gta, emulator: object) -> None:
    env = emulator.env()  # type: ignore[attr-defined]
    run = gta("auth", "check", "--format", "json", env=env)
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert report["customer_id"] == emulator.customer_id  # type: ignore[attr-defined]
    assert report["token_lifetime_seconds"] == 600
    shown = gta("configure", "show", "--format", "json", env=env)
    document = json.loads(shown.out)
    password = document["settings"]["client_password"]
    assert password["value"].startswith("****") and password["from"].startswith("env ")
    assert emulator.client_password not in shown.out  # type: ignore[attr-defined]


def test_configure_checks_the_credentials_it_saves(gta: Gta, emulator: object) -> None:
    from tests.cli.helpers import config_file

    flags = ["configure", "--no-input", "--profile", "lab",
             "--client-id", emulator.client_id,  # type: ignore[attr-defined]
             "--securex-host", emulator.url, "--api-url", emulator.url,  # type: ignore[attr-defined]
             "--app-url", emulator.url]  # type: ignore[attr-defined]  # fmt: skip
    bad = gta(*flags, "--client-password", "wrong-password-123")
    assert bad.code == 1
    assert bad.err.splitlines()[-1].startswith("error: credentials not saved: ")
    assert "wrong-password-123" not in bad.both
    assert not config_file().exists()
    good = gta(*flags, "--client-password", emulator.client_password)  # type: ignore[attr-defined]
    assert good.code == 0, good.err
    assert "token accepted" in good.out and config_file().exists()
    unchecked = gta(*flags, "--client-password", "wrong-password-123", "--no-check")
    assert unchecked.code == 0


def test_sinks_list_names_every_scheme_and_option(gta: Gta) -> None:
    SINKS = catalogue()
    listed = {scheme for info in SINKS for scheme in info.schemes}
    assert listed == set(SCHEMES)
    run = gta("sinks", "list")
    assert run.code == 0
    for info in SINKS:
        for option in info.options:
            assert option.name in run.out
    document = json.loads(gta("sinks", "list", "--format", "json").out)
    assert {s for item in document for s in item["schemes"]} == set(SCHEMES)


_RETRY = {"timeout", "max_retries", "backoff_base", "backoff_cap"}
_TLS = {"ca_bundle", "insecure"}


@pytest.mark.parametrize("info", catalogue(), ids=lambda info: info.schemes[0])
def test_the_catalogue_options_are_what_the_sinks_accept(info: object, tmp_path: Path) -> None:
    from gta.sinks import sink_specs

    # The options each built-in sink took before the specs: the catalogue and the parsers read
    # the same options model now, and it must not lose or gain a name.
    accepted = {
        "jsonl": {"rotate_bytes"},
        "splunk-hec+https": {"index", "sourcetype", "source", "host", "token", "ack",
                             "batch_bytes", "batch_events", "gzip", "ack_timeout",
                             "ack_poll_interval", "ack_resends", "channel"} | _RETRY | _TLS,
        "syslog+udp": {"format", "facility", "app_name", "hostname", "max_message_bytes"}
        | _RETRY | _TLS,
        "elasticsearch+https": {"index", "api_key", "username", "password", "batch_bytes",
                                "batch_events", "pipeline"} | _RETRY | _TLS,
        "sentinel+https": {"dcr", "stream", "tenant_id", "client_id", "client_secret",
                           "authority_host", "scope", "ca_bundle", "gzip", "batch_bytes",
                           "batch_records"} | _RETRY,
    }  # fmt: skip
    names = {option.name for option in info.options}  # type: ignore[attr-defined]
    assert names == accepted[info.schemes[0]]  # type: ignore[attr-defined]
    (spec,) = [s for s in sink_specs() if s.schemes == info.schemes]  # type: ignore[attr-defined]
    assert names == set(spec.options.model_fields)
    with pytest.raises(SinkConfigError, match="unknown"):
        open_sink(str(tmp_path / "x.jsonl"), no_such_option=1)


def test_sinks_check_json(gta: Gta) -> None:
    run = gta("sinks", "check", "syslog+tcp://127.0.0.1:9", "--format", "json")
    assert run.code == 1
    document = json.loads(run.out)
    assert document["ok"] is False and document["checks"][0]["ok"] is False


def test_export_without_a_terminal_prints_one_summary_per_stream_with_plurals(
    gta: Gta, emulator: object, tmp_path: Path
) -> None:
    env = {**emulator.env(), "TTY_COMPATIBLE": "0"}  # type: ignore[attr-defined]
    run = gta("export", "alerts", "-o", str(tmp_path / "a.jsonl"), "--state",
              str(tmp_path / "s.db"), env=env)  # fmt: skip
    assert run.code == 0, run.err
    done = [line for line in run.err.splitlines() if line.startswith("alerts: done")]
    assert len(done) == 1, run.err
    pages_done = re.search(r" in ([\d,]+) page(s?),", done[0])
    assert pages_done and (pages_done.group(1) == "1") == (pages_done.group(2) == ""), done
    # The terminal-only summary line ("alerts: N records from ...") is not printed as well.
    assert len([line for line in run.err.splitlines() if "records/s" in line]) == 1, run.err
    pages = [line for line in run.err.splitlines() if line.startswith("alerts: +")]
    assert pages and all("cursor since " in line for line in pages), pages
    assert not any("{" in line for line in pages)  # never a fragment of the JSON cursor


def test_progress_cursor_and_plurals() -> None:
    from gta.cli._progress import describe_cursor, plural
    from gta.sync import AlertCursor

    assert plural(1, "page") == "1 page" and plural(2, "page") == "2 pages"
    assert plural(1000, "record") == "1,000 records"
    assert describe_cursor("events", "25717281") == "25717281"
    cursor = AlertCursor(since="2026-01-31T12:00:00.000Z").dumps()
    assert describe_cursor("alerts", cursor) == "since 2026-01-31T12:00:00.000Z"


def test_a_cut_id_ends_with_an_ellipsis() -> None:
    from rich.console import Console

    from gta.cli._render import alert_table

    console = Console(width=100, record=True)
    console.print(alert_table([{"id": "ab" * 32, "risk": "Low", "status": "New"}]))
    text = console.export_text()
    assert "abababababab…" in text


def test_state_show_table_right_aligns_numbers(gta: Gta, emulator: object, tmp_path: Path) -> None:
    env = emulator.env()  # type: ignore[attr-defined]
    state = str(tmp_path / "s.db")
    for stream in ("alerts", "threat-detections"):
        run = gta("export", stream, "-o", str(tmp_path / f"{stream}.jsonl"), "--state", state,
                  "-q", env=env)  # fmt: skip
        assert run.code == 0, run.err
    shown = gta(
        "state",
        "show",
        "--state",
        state,
        env={"TTY_COMPATIBLE": "1", "COLUMNS": "200", "NO_COLOR": "1"},
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", shown.out)
    lines = [line for line in out.splitlines() if "export:" in line]
    assert len(lines) == 2
    header = next(line for line in out.splitlines() if "records" in line)
    end = header.index("records") + len("records")
    for line in lines:  # each count ends where the header ends
        assert line[end - 1].isdigit() and not line[end].isdigit(), (header, line)
