"""``gta configure`` and ``gta configure show``: prompts, flags, file mode, masking, precedence."""

from __future__ import annotations

import logging
import stat
import tomllib
from pathlib import Path

import pytest
from tests.cli.helpers import Gta, config_file

PASSWORD = "correct-horse-battery-staple-9xyz"


def test_prompts_write_a_0600_file_and_hide_the_password(
    gta: Gta, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTA_CONFIG_DIR", str(tmp_path / "not-yet" / "gta"))  # created by gta
    answers = "\n".join(["my-client", PASSWORD, "na", "", "", "CTA123456789"]) + "\n"
    run = gta("configure", "--no-check", input=answers)
    assert run.code == 0, run.both
    path = config_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = tomllib.loads(path.read_text())["profiles"]["default"]
    assert saved == {
        "client_id": "my-client",
        "client_password": PASSWORD,
        "securex_host": "visibility.amp.cisco.com",
        "customer_id": "CTA123456789",
    }
    assert PASSWORD not in run.both  # the hidden prompt does not echo


def test_flags_named_profile_and_show_masks(gta: Gta) -> None:
    run = gta(
        "configure",
        "--no-check",
        "--profile",
        "eu",
        "--no-input",
        "--client-id",
        "cid",
        "--client-password",
        PASSWORD,
        "--securex-host",
        "EU",
        "--api-url",
        "http://127.0.0.1:9/",
    )
    assert run.code == 0, run.both
    shown = gta("configure", "show", "--profile", "eu")
    assert shown.code == 0, shown.both
    assert PASSWORD not in shown.both
    assert "****9xyz" in shown.out
    assert "visibility.eu.amp.cisco.com" in shown.out and "EU" in shown.out
    assert "http://127.0.0.1:9/" in shown.out


def test_reconfigure_keeps_saved_values_and_env_overrides_show(gta: Gta) -> None:
    first = "\n".join(["c1", PASSWORD, "EU", "", "", ""]) + "\n"
    assert gta("configure", "--no-check", input=first).code == 0
    # Enter keeps the client id, the (masked) password and the host; set a customer id.
    again = "\n".join(["", "", "", "", "", "CTA999999999"]) + "\n"
    run = gta("configure", "--no-check", input=again)
    assert run.code == 0, run.both
    saved = tomllib.loads(config_file().read_text())["profiles"]["default"]
    assert saved["client_password"] == PASSWORD and saved["customer_id"] == "CTA999999999"
    shown = gta("configure", "show", env={"SECUREX_CLIENT_ID": "from-env"})
    assert "from-env" in shown.out and "SECUREX_CLIENT_ID" in shown.out


def test_missing_required_values_and_bad_urls_are_usage_errors(gta: Gta) -> None:
    run = gta("configure", "--no-check", "--no-input", "--client-id", "x")
    assert run.code == 2
    assert run.err.startswith("error: client password is required")
    assert not config_file().exists()
    bad = gta(
        "configure",
        "--no-check",
        "--no-input",
        "--client-id",
        "x",
        "--client-password",
        "y",
        "--securex-host",
        "NA",
        "--api-url",
        "ftp://nope",
    )
    assert bad.code == 2 and bad.err.endswith(
        "\nerror: api url must start with http:// or https://\n"
    )
    assert "--client-password on the command line is visible" in bad.err  # given as a flag


def test_unknown_profile_is_one_line(gta: Gta) -> None:
    run = gta("configure", "show", "--profile", "ghost")
    assert run.code == 2
    assert run.err.count("\n") == 1 and "profile 'ghost' not found" in run.err
    env_profile = gta("configure", "show", env={"GTA_PROFILE": "ghost"})
    assert env_profile.code == 2 and "ghost" in env_profile.err


def test_no_answers_save_nothing(gta: Gta) -> None:
    run = gta("configure", "--no-check", input="")
    assert run.code == 2
    assert run.err == (
        "error: no answer given: nothing was saved (use the flags with --no-input in scripts)\n"
    )
    assert not config_file().exists()


def test_a_file_readable_by_others_is_warned_about(
    gta: Gta, caplog: pytest.LogCaptureFixture
) -> None:
    flags = (
        "--no-input",
        "--client-id",
        "c",
        "--client-password",
        PASSWORD,
        "--securex-host",
        "NA",
    )
    assert gta("configure", "--no-check", *flags).code == 0
    config_file().chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="gta.cli._profile"):
        shown = gta("configure", "show")
    assert shown.code == 0
    assert any("readable by others" in r.getMessage() for r in caplog.records)
    assert gta("configure", "--no-check", *flags).code == 0  # saving again makes it private again
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
