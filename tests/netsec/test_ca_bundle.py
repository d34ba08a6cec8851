"""A private CA (a TLS-inspecting proxy's, a lab's) is trusted through --ca-bundle,
GTA_CA_BUNDLE or the sync config's ``ca_bundle``; without it the error is one line that says
what to do, and is not retried."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from netsec_servers import forward_proxy, tls_emulator
from tests.cli.helpers import Gta

from gta import Client
from gta.errors import ApiConnectionError, ConfigurationError


def test_untrusted_then_trusted_by_flag_and_variable(gta: Gta, tmp_path: Path) -> None:
    with tls_emulator(tmp_path) as tls:
        started = time.monotonic()
        untrusted = gta("alerts", "list", "-L", "2", env=tls.env())
        assert untrusted.code == 1 and untrusted.err.count("\n") == 1, untrusted.err
        assert "TLS certificate is not trusted" in untrusted.err
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.err and "--ca-bundle" in untrusted.err
        assert time.monotonic() - started < 8
        by_flag = gta("alerts", "list", "-L", "2", "--ca-bundle", str(tls.ca_file), env=tls.env())
        assert by_flag.code == 0, by_flag.err
        env = {**tls.env(), "GTA_CA_BUNDLE": str(tls.ca_file)}
        by_variable = gta("auth", "check", env=env)
        assert by_variable.code == 0, by_variable.err


def test_sdk_does_not_retry_an_untrusted_certificate(tmp_path: Path) -> None:
    sleeps: list[float] = []
    from gta.client import Runtime

    with tls_emulator(tmp_path) as tls:
        client = Client.from_env(tls.env(), _runtime=Runtime(sleep=sleeps.append))
        with client, pytest.raises(ApiConnectionError, match="not trusted"):
            client.auth.token()
        with Client.from_env(tls.env(), ca_bundle=tls.ca_file) as trusted:
            assert trusted.auth.token()
    assert sleeps == []  # the SDK's long budget is for outages, not for a certificate


def test_sync_config_ca_bundle_through_a_connect_proxy(gta: Gta, tmp_path: Path) -> None:
    with tls_emulator(tmp_path) as tls, forward_proxy() as proxy:
        config = tmp_path / "gta.toml"
        config.write_text(
            f"""
[tenants.main]
client_id = "env:SECUREX_CLIENT_ID"
client_password = "env:SECUREX_CLIENT_PASSWORD"
visibility_host = "{tls.url}"
api_url = "{tls.url}"
app_url = "{tls.url}"
customer_id = "{tls.running.customer_id}"
ca_bundle = "{tls.ca_file}"
proxy = "{proxy.url}"

[jobs.siem]
tenant = "main"
streams = ["alerts"]
sink = "{tmp_path / "alerts.jsonl"}"
"""
        )
        state = str(tmp_path / "state.db")
        run = gta("sync", "--config", str(config), "--once", "-q", "--state", state, env=tls.env())
        assert run.code == 0, run.err
        assert proxy.tunnels >= 1
    assert (tmp_path / "alerts.jsonl").read_text().count("\n") > 0


def test_a_ca_bundle_that_cannot_be_loaded_is_a_usage_error(gta: Gta, tmp_path: Path) -> None:
    env = {
        "SECUREX_CLIENT_ID": "c",
        "SECUREX_CLIENT_PASSWORD": "p",
        "SECUREX_VISIBILITY_HOST_NAME": "EU",
    }
    missing = tmp_path / "nope.pem"
    run = gta("alerts", "list", "--ca-bundle", str(missing), env=env)
    assert run.code == 2 and run.err.count("\n") == 1
    assert f"ca_bundle {missing}" in run.err and "(from --ca-bundle)" in run.err
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    run = gta("alerts", "list", env={**env, "GTA_CA_BUNDLE": str(garbage)})
    assert run.code == 2 and "GTA_CA_BUNDLE" in run.err
    with pytest.raises(ConfigurationError, match="cannot load the CA certificates"):
        Client("c", "p", securex_host="EU", ca_bundle=missing)
