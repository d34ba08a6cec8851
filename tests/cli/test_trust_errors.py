"""Issue #13, "Errors a person can act on": short waits at a terminal, network errors that name
the URL and the setting behind it, one-line errors with the documented exit codes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.cli.helpers import Gta, config_file, run_process

from gta import Client
from gta.cli._profile import Settings, make_client, resolve_settings, save_profile
from gta.client import Runtime
from gta.emulator import RunningEmulator
from gta.errors import ApiConnectionError, ServerError
from gta.sync._config import parse_interval

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens there
NOWHERE_ENV = {
    "SECUREX_CLIENT_ID": "c",
    "SECUREX_CLIENT_PASSWORD": "p",
    "SECUREX_VISIBILITY_HOST_NAME": NOWHERE,
    "GTA_API_URL": NOWHERE,
    "GTA_APP_URL": NOWHERE,
    "GTA_CUSTOMER_ID": "CTA000000001",
}


def _fake_client(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **options: object
) -> Client:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
        return handler(request)

    runtime = Runtime(
        sleep=sleeps.append, random=lambda: 0.5, now=lambda: datetime(2026, 1, 1, tzinfo=UTC)
    )
    return Client(
        "c",
        "p",
        securex_host="https://visibility.example",
        api_url="https://api.example",
        app_url="https://app.example",
        customer_id="CTA000000001",
        http_client=httpx.Client(transport=httpx.MockTransport(route)),
        _runtime=runtime,
        **options,  # type: ignore[arg-type]
    )


# --- 6. a short retry budget for commands a person waits for ----------------------------------


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_interactive_budget_fails_a_refused_connection_at_once() -> None:
    sleeps: list[float] = []
    with (
        _fake_client(_refused, sleeps, connect_retries=0) as client,
        pytest.raises(ApiConnectionError, match="after 1 attempt "),
    ):
        list(client.alerts.list())
    assert sleeps == []
    sleeps.clear()
    with (  # the SDK default: outlast an outage
        _fake_client(_refused, sleeps) as client,
        pytest.raises(ApiConnectionError, match="after 9 attempts"),
    ):
        list(client.alerts.list())
    assert len(sleeps) == 8


def test_interactive_budget_caps_the_total_wait() -> None:
    sleeps: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "7"}, json={"title": "busy"})

    with _fake_client(busy, sleeps, max_retry_wait=10.0) as client, pytest.raises(ServerError):
        list(client.alerts.list())
    assert sleeps == [7.0]  # a second 7 s wait would pass 10 s: the error comes at once


def test_alerts_commands_fail_fast_and_export_keeps_the_long_budget(
    gta: Gta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: 8 retry warnings in 43 s for `gta alerts list` at 127.0.0.1:9."""
    started = time.monotonic()
    run = gta("alerts", "list", env=NOWHERE_ENV)
    assert time.monotonic() - started < 8
    assert run.code == 1 and "after 1 attempt" in run.err and "retrying" not in run.err
    for name, value in NOWHERE_ENV.items():
        monkeypatch.setenv(name, value)
    with make_client() as client:
        assert client.transport.connect_retries is None
        assert client.transport.max_retry_wait is None
    with make_client(interactive=True) as client:
        assert client.transport.connect_retries == 0
        assert client.transport.max_retry_wait == 10.0


# --- 7. a network error names the URL, its setting and the proxy ------------------------------


def test_network_error_names_url_setting_and_proxy(gta: Gta) -> None:
    """Before: `GET /auth/api-clients/me failed after 3 attempts (...)`: which host?"""
    env = {**NOWHERE_ENV, "SECUREX_VISIBILITY_HOST_NAME": "http://127.0.0.1:8"}
    run = gta("alerts", "list", env=env)
    assert run.code == 1 and run.err.count("\n") == 1
    assert "on http://127.0.0.1:8" in run.err
    assert "the SecureX host (environment variable SECUREX_VISIBILITY_HOST_NAME)" in run.err
    assert "no proxy" in run.err
    proxied = gta("alerts", "list", env={**env, "HTTP_PROXY": "http://127.0.0.1:9"})
    assert "through the proxy http://127.0.0.1:9" in proxied.err


def test_network_error_names_the_profile_a_host_came_from(gta: Gta) -> None:
    settings = Settings(client_id="c", client_password="p", securex_host="http://127.0.0.1:8")
    save_profile(config_file(), "lab", replace(settings, api_url=NOWHERE, app_url=NOWHERE))
    run = gta("alerts", "list", "--profile", "lab", env={"GTA_CUSTOMER_ID": "CTA000000001"})
    assert run.code == 1
    assert f"the SecureX host (profile 'lab' in {config_file()})" in run.err


def test_retry_log_and_final_error_agree_on_the_attempts(caplog: pytest.LogCaptureFixture) -> None:
    """Before: "retry 2 of 8" in the log, then "failed after 3 attempts"."""

    def unknown_host(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    sleeps: list[float] = []
    with (
        caplog.at_level(logging.WARNING, logger="gta.client"),
        _fake_client(unknown_host, sleeps) as client,
        pytest.raises(ApiConnectionError, match="after 3 attempts") as info,
    ):
        list(client.alerts.list())
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert [m.split("(")[1].split(")")[0] for m in retries] == ["retry 1 of 2", "retry 2 of 2"]
    assert "on https://api.example" in str(info.value)
    assert info.value.url is not None and info.value.url.host == "api.example"
    assert not info.value.url.query


# --- 8. one line, exit 2, for what a person typed wrong ----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alerts", "list", "--modified-after", "99999999d"], "at most 36500d"),
        (["alerts", "list", "--triggered-after", "9" * 400 + "d"], "at most 36500d"),
        (["alerts", "watch", "--duration", "99999999999999d"], "at most 36500d"),
        (["alerts", "watch", "--interval", "99999999999999d"], "at most 36500d"),
        (["sinks", "check", "splunk-hec+https://[::1"], "invalid sink URL"),
        (["sinks", "check", "syslog+tcp://host:99999"], "invalid port"),
        (["alerts", "list", "--sort", "foo"], "foo"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(gta: Gta, args: list[str], message: str) -> None:
    run = gta(*args, env=NOWHERE_ENV)
    assert run.code == 2, run.both
    assert "Traceback" not in run.both and message in run.err


def test_sync_every_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_interval("99999999999d")
    assert parse_interval("365d") == 365 * 86400


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GTA_API_URL": "http://[::1"}, "(from environment variable GTA_API_URL)"),
        ({"GTA_API_URL": "ftp://x"}, "(from environment variable GTA_API_URL)"),
        ({"GTA_APP_URL": "http://host:port"}, "(from environment variable GTA_APP_URL)"),
        # The CA bundle is read only by a client that speaks TLS (an https URL).
        (
            {"SSL_CERT_FILE": "/nonexistent/ca.pem", "GTA_API_URL": "https://127.0.0.1:9"},
            "SSL_CERT_FILE=/nonexistent/ca.pem",
        ),
        ({"SECUREX_VISIBILITY_HOST_NAME": "bad!host"}, "invalid host name 'bad!host'"),
        ({"GTA_CUSTOMER_ID": "../other"}, "(from environment variable GTA_CUSTOMER_ID)"),
    ],
)
def test_bad_settings_are_one_line_usage_errors(
    gta: Gta, env: dict[str, str], message: str
) -> None:
    """Before: tracebacks (IPv6 URL, CA file) and exit 1 for `GTA_API_URL=ftp://x`."""
    run = gta("alerts", "list", env={**NOWHERE_ENV, **env})
    assert run.code == 2, run.both
    assert run.err.count("\n") == 1 and message in run.err


def test_export_to_a_malformed_sink_url_is_a_usage_error(
    gta: Gta, emulator: RunningEmulator
) -> None:
    run = gta("export", "events", "--to", "splunk-hec+https://[::1", "-q", env=emulator.env())
    assert run.code == 2 and "invalid sink URL" in run.err and "Traceback" not in run.both


# --- 10. settings: where a refused password came from, regions, validation, one warning -------


def test_wrong_password_from_a_profile_names_the_profile(
    gta: Gta, emulator: RunningEmulator
) -> None:
    """Before: "check SECUREX_CLIENT_ID, SECUREX_CLIENT_PASSWORD" with no variable set."""
    save_profile(
        config_file(),
        "default",
        Settings(
            client_id=emulator.client_id,
            client_password="wrong-password",
            securex_host=emulator.url,
            api_url=emulator.url,
            app_url=emulator.url,
        ),
    )
    run = gta("alerts", "list")
    assert run.code == 1 and "token request refused" in run.err
    assert f"profile 'default' in {config_file()}" in run.err
    assert "SECUREX_CLIENT_PASSWORD" not in run.err and "wrong-password" not in run.err


def test_the_host_variable_takes_region_names() -> None:
    env = {"SECUREX_VISIBILITY_HOST_NAME": "apjc"}
    assert resolve_settings(env=env).securex_host == "visibility.apjc.amp.cisco.com"
    env = {"SECUREX_VISIBILITY_HOST_NAME": "EU"}
    assert resolve_settings(env=env).securex_host == "visibility.eu.amp.cisco.com"


def test_a_readable_config_file_is_reported_once(tmp_path: Path) -> None:
    save_profile(config_file(), "default", Settings(client_id="c", client_password="p"))
    config_file().chmod(0o644)
    done = run_process(["configure", "show"], {"GTA_CONFIG_DIR": str(config_file().parent)})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("is readable by others") == 1


# --- 11. failed runs and closed pipes ---------------------------------------------------------


def test_a_failed_export_leaves_no_empty_file(
    gta: Gta, emulator: RunningEmulator, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    env = {**emulator.env(), "SECUREX_CLIENT_PASSWORD": "wrong-password"}
    run = gta("export", "events", "-o", str(out), "-q", env=env)
    assert run.code == 1 and "token request refused" in run.err
    assert not out.exists()
    kept = tmp_path / "kept.jsonl"
    kept.write_text("")  # a file that was there before is the user's: left alone
    assert gta("export", "events", "-o", str(kept), "-q", env=env).code == 1
    assert kept.exists()


@pytest.mark.parametrize("args", [["--help"], ["alerts", "list", "--format", "jsonl"]])
def test_a_closed_pipe_is_a_quiet_exit_0(args: list[str], emulator: RunningEmulator) -> None:
    """Before: `gta alerts list | head` and `gta --help | head` exited 1."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from gta.cli import main; main()", *args],
        env={**os.environ, **emulator.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr and "error" not in stderr


@pytest.mark.parametrize(
    "options", [{"connect_retries": -1}, {"connect_retries": True}, {"max_retry_wait": -1.0}]
)
def test_retry_budget_options_are_checked(options: dict[str, object]) -> None:
    from gta.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=next(iter(options))):
        _fake_client(_refused, [], **options)
