"""``ClientSettings`` and ``Client.from_settings``: the one way every caller builds a client."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

import gta
from gta.client import Client, ClientSettings
from gta.errors import ConfigurationError
from gta.sync import TenantConfig

SECRET = "pw-Sup3rS3cret!"
ENV = {
    "SECUREX_CLIENT_ID": " cid ",
    "SECUREX_CLIENT_PASSWORD": SECRET,
    "SECUREX_VISIBILITY_HOST_NAME": "visibility.eu.amp.cisco.com",
    "GTA_API_URL": "http://127.0.0.1:9/",
    "GTA_CUSTOMER_ID": "CTA1",
    "GTA_PROXY": f"http://bob:{SECRET}@proxy:3128",
}


def test_settings_from_env_keep_the_password_and_proxy_secret() -> None:
    settings = ClientSettings.from_env(ENV)
    assert settings.client_id == "cid" and settings.customer_id == "CTA1"
    assert settings.securex_host == "https://visibility.eu.amp.cisco.com"
    assert settings.api_url == "http://127.0.0.1:9"
    assert isinstance(settings.client_password, SecretStr)
    assert settings.client_password.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_from_settings_builds_the_same_client_as_from_env() -> None:
    with Client.from_env(ENV) as by_env, Client.from_settings(ClientSettings.from_env(ENV)) as c:
        assert repr(c) == repr(by_env)
        assert c._password == by_env._password


def test_options_win_over_settings_and_a_plain_string_password_is_wrapped() -> None:
    settings = ClientSettings(
        client_id="c",
        client_password="p",  # type: ignore[arg-type]  # accepted and wrapped
        securex_host="http://127.0.0.1:9",
        customer_id="CTA1",
        timeout=5,
    )
    assert isinstance(settings.client_password, SecretStr)
    with Client.from_settings(settings, customer_id=None, max_retries=0) as client:
        assert client._customer_id is None and client.transport.max_retries == 0


def test_a_bad_setting_is_one_configuration_error_naming_it() -> None:
    settings = ClientSettings(client_id="c", client_password=SecretStr("p"), securex_host="ftp://x")
    with pytest.raises(ConfigurationError, match="securex_host"):
        Client.from_settings(settings)


def test_a_sync_tenant_gives_client_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = TenantConfig.model_validate(
        {"client_id": "cid", "client_password": SECRET, "visibility_host": "http://127.0.0.1:9"}
    )
    settings = tenant.client_settings(12.0, env={"GTA_CA_BUNDLE": "/ca.pem", "GTA_PROXY": ""})
    assert settings.client_password.get_secret_value() == SECRET
    assert settings.timeout == 12.0 and settings.ca_bundle == "/ca.pem" and settings.proxy is None
    assert (
        settings.api_url == gta.ClientSettings.from_env({**ENV, "GTA_API_URL": ""}).api_url
    )  # the SDK's default when the tenant sets none
