"""Requests go through the proxy they are given (--proxy, GTA_PROXY, the sync config's ``proxy``,
HTTPS_PROXY), its credentials never show, a proxy that is down is one line naming it, and a
proxied request still ends at its deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from netsec_servers import closed_port, forward_proxy, tls_emulator
from tests._support.hostile_server import hostile
from tests.cli.helpers import Gta, config_file

from gta import Client
from gta.cli._profile import load_profiles
from gta.emulator import RunningEmulator
from gta.errors import ApiConnectionError, ApiTimeoutError, ConfigurationError

SECRET = "s3cr3t-proxy-pw"


def test_cli_proxy_flag_sends_every_request_through_the_proxy(
    gta: Gta, emulator: RunningEmulator, tmp_path: Path
) -> None:
    with forward_proxy() as proxy:
        run = gta("alerts", "list", "-L", "3", "--proxy", proxy.url, env=emulator.env())
    assert run.code == 0, run.err
    assert proxy.relayed >= 2  # the token, then the page of alerts
    with forward_proxy() as unused:  # and without it: a direct connection
        run = gta("alerts", "list", "-L", "3", env=emulator.env())
    assert run.code == 0 and unused.total == 0
    with forward_proxy() as proxy:  # gta export, and gta configure's credential check
        out = tmp_path / "alerts.jsonl"
        export = gta(
            "export", "alerts", "--output", str(out), "-q", "--proxy", proxy.url,
            env=emulator.env(),
        )  # fmt: skip
        assert export.code == 0, export.err
        exported = proxy.relayed
        assert exported >= 2 and out.stat().st_size > 0
        env = {"GTA_API_URL": emulator.url, "GTA_APP_URL": emulator.url}
        configure = gta(
            "configure", "--no-input", "--client-id", emulator.client_id,
            "--client-password-stdin", "--securex-host", emulator.url,
            "--customer-id", emulator.customer_id, "--proxy", proxy.url,
            input=f"{emulator.client_password}\n", env=env,
        )  # fmt: skip
        assert configure.code == 0, configure.err
        assert "Checked: token accepted" in configure.out
        assert proxy.relayed > exported
    assert load_profiles(config_file())["default"].proxy == proxy.url  # saved for next time


def test_gta_proxy_variable_and_proxy_credentials(gta: Gta, emulator: RunningEmulator) -> None:
    with forward_proxy(credentials=f"alice:{SECRET}") as proxy:
        host = proxy.url.removeprefix("http://")
        env = {**emulator.env(), "GTA_PROXY": f"http://alice:{SECRET}@{host}"}
        run = gta("auth", "check", env=env)
        assert run.code == 0, run.err
        assert proxy.relayed >= 1 and proxy.refused == 0  # the token (the customer id is set)
        wrong = gta("auth", "check", env={**env, "GTA_PROXY": f"http://alice:nope{SECRET}@{host}"})
    assert wrong.code == 1 and wrong.err.count("\n") == 1
    assert "407" in wrong.err and SECRET not in wrong.both


def test_a_proxy_that_is_down_is_one_line_naming_it_without_credentials(
    gta: Gta, emulator: RunningEmulator
) -> None:
    port = closed_port()
    proxy = f"http://alice:{SECRET}@127.0.0.1:{port}"
    run = gta("alerts", "list", "--proxy", proxy, env=emulator.env())
    assert run.code == 1 and run.err.count("\n") == 1, run.err
    assert f"through the proxy http://***@127.0.0.1:{port}" in run.err
    assert "the proxy from --proxy" in run.err
    assert SECRET not in run.both and "alice" not in run.both
    # The SDK says the same, and never keeps the credentials where a repr shows them.
    with Client.from_env(emulator.env(), proxy=proxy, connect_retries=0) as client:
        assert SECRET not in repr(client)
        with pytest.raises(ApiConnectionError) as info:
            client.auth.token()
    assert f"through the proxy http://***@127.0.0.1:{port}" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_bad_proxy_url_is_a_usage_error_without_credentials(
    gta: Gta, emulator: RunningEmulator
) -> None:
    run = gta("alerts", "list", "--proxy", f"ftp://bob:{SECRET}@proxy:21", env=emulator.env())
    assert run.code == 2 and run.err.count("\n") == 1
    assert "ftp://***@proxy:21" in run.err and "(from --proxy)" in run.err
    assert SECRET not in run.both
    with pytest.raises(ConfigurationError, match="needs a scheme"):
        Client.from_env(emulator.env(), proxy=f"bob:{SECRET}@proxy:3128")


def test_sync_config_proxy_key_and_the_flag_over_it(
    gta: Gta, emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = emulator.env()
    with forward_proxy(credentials=f"svc:{SECRET}") as proxy:
        host = proxy.url.removeprefix("http://")
        config = tmp_path / "gta.toml"
        config.write_text(
            f"""
[tenants.main]
client_id = "env:SECUREX_CLIENT_ID"
client_password = "env:SECUREX_CLIENT_PASSWORD"
visibility_host = "{emulator.url}"
api_url = "{emulator.url}"
app_url = "{emulator.url}"
customer_id = "{emulator.customer_id}"
proxy = "env:TENANT_PROXY"

[jobs.siem]
tenant = "main"
streams = ["alerts"]
sink = "{tmp_path / "alerts.jsonl"}"
"""
        )
        state = str(tmp_path / "state.db")
        sync_env = {**env, "TENANT_PROXY": f"http://svc:{SECRET}@{host}"}
        run = gta("sync", "--config", str(config), "--once", "-q", "--state", state, env=sync_env)
        assert run.code == 0, run.err
        through_key = proxy.relayed
        assert through_key >= 2 and SECRET not in run.both
        # --proxy wins over the tenant's key.
        with forward_proxy() as other:
            again = gta(
                "sync", "--config", str(config), "--once", "-q", "--state", state,
                "--proxy", other.url, env=sync_env,
            )  # fmt: skip
        assert again.code == 0, again.err
        assert other.relayed >= 2 and proxy.relayed == through_key


def test_https_proxy_variable_is_honoured_and_no_proxy_too(gta: Gta, tmp_path: Path) -> None:
    """HTTPS_PROXY (httpx's trust_env) still applies to the client's own, deadline-bounded
    transport: the requests to an https API go through a CONNECT tunnel."""
    with tls_emulator(tmp_path) as tls, forward_proxy() as proxy:
        env = {**tls.env(), "GTA_CA_BUNDLE": str(tls.ca_file), "HTTPS_PROXY": proxy.url}
        run = gta("alerts", "list", "-L", "2", env=env)
        assert run.code == 0, run.err
        assert proxy.tunnels >= 1
        tunnels = proxy.tunnels
        run = gta("alerts", "list", "-L", "2", env={**env, "NO_PROXY": "localhost"})
        assert run.code == 0, run.err
        assert proxy.tunnels == tunnels


def test_a_proxied_request_still_ends_at_its_deadline() -> None:
    """The proxy pool's sockets are wrapped like the direct ones: a read that stalls near the
    deadline is cut at the deadline, not at a read timeout computed when the body began."""
    with (
        hostile(behaviour="drip", drip_interval=0.2, stall_after=2.6, max_seconds=10) as server,
        forward_proxy() as proxy,
    ):
        started = time.monotonic()
        client = Client.from_env(server.env(), timeout=3, max_retries=0, proxy=proxy.url)
        with client, pytest.raises(ApiTimeoutError):
            client.alerts.get("a1")
        elapsed = time.monotonic() - started
        assert proxy.relayed == 2  # the token, then the dripping answer
    assert 2.5 < elapsed < 4.5


def test_configure_saves_the_proxy_and_shows_it_without_credentials(gta: Gta) -> None:
    run = gta(
        "configure", "--no-input", "--no-check", "--client-id", "c", "--client-password-stdin",
        "--securex-host", "EU", "--proxy", f"http://alice:{SECRET}@proxy.corp:3128",
        "--ca-bundle", "/etc/ssl/corp.pem", input="pw\n",
    )  # fmt: skip
    assert run.code == 0, run.err
    saved = load_profiles(config_file())["default"]
    assert saved.proxy == f"http://alice:{SECRET}@proxy.corp:3128"
    assert saved.ca_bundle == "/etc/ssl/corp.pem"
    shown = gta("configure", "show")
    assert "http://***@proxy.corp:3128" in shown.out and SECRET not in shown.both
    assert "/etc/ssl/corp.pem" in shown.out
    as_json = gta("configure", "show", "--format", "json")
    assert SECRET not in as_json.both


def test_the_hint_never_contradicts_the_proxy_the_sdk_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`gta sync` builds its clients from the config, not a profile: its error names the
    tenant's proxy, and the hint must not add "no proxy" from the (empty) environment."""
    import httpx

    from gta.cli import _failure_hints, _profile

    monkeypatch.setattr(_failure_hints, "_origins", {})
    url = httpx.URL("https://api.example/x")
    named = ApiConnectionError(
        "GET /x on https://api.example through the proxy http://p:1 ...", url=url
    )
    assert _profile.explain_failure(named) is None
    direct = ApiConnectionError("GET /x on https://api.example failed ...", url=url)
    assert _profile.explain_failure(direct) == "no proxy"
