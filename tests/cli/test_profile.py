"""The profile file: location, mode 0600, atomic replace, env precedence, masking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gta.cli._errors import UsageError
from gta.cli._profile import (
    Settings,
    config_path,
    load_profiles,
    mask_secret,
    profile_name,
    region_of,
    resolve_settings,
    save_profile,
    securex_host_for,
)


def test_config_path_follows_gta_config_dir_then_xdg(tmp_path: Path) -> None:
    assert config_path({"GTA_CONFIG_DIR": str(tmp_path)}) == tmp_path / "config.toml"
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/gta/config.toml")
    assert config_path({}) == Path.home() / ".config" / "gta" / "config.toml"


def test_save_creates_private_file_and_dir_and_keeps_other_profiles(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_profile(path, "default", Settings("id-1", "pw-1", "visibility.amp.cisco.com"))
    save_profile(
        path, "eu", Settings("id-2", "pw-2", "visibility.eu.amp.cisco.com", customer_id="C1")
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    profiles = load_profiles(path)
    assert profiles["default"] == Settings("id-1", "pw-1", "visibility.amp.cisco.com")
    assert profiles["eu"].customer_id == "C1"
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_save_under_a_permissive_umask_is_still_0600(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_profile(tmp_path / "c" / "config.toml", "default", Settings("a", "b", "c"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c" / "config.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700


def test_env_overrides_file_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_profile(path, "default", Settings("file-id", "file-pw", "file-host", api_url="http://f"))
    env = {"SECUREX_CLIENT_ID": "env-id", "GTA_CUSTOMER_ID": "CTA1"}
    settings = resolve_settings(None, env=env, path=path)
    assert settings == Settings(
        "env-id", "file-pw", "file-host", api_url="http://f", customer_id="CTA1"
    )


def test_profile_selection_and_missing_profile(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_profile(path, "prod", Settings("p", "pw", "h"))
    assert profile_name(None, {"GTA_PROFILE": "prod"}) == "prod"
    assert profile_name("x", {"GTA_PROFILE": "prod"}) == "x"
    assert resolve_settings(None, env={"GTA_PROFILE": "prod"}, path=path).client_id == "p"
    assert resolve_settings(None, env={}, path=path) == Settings()  # default may be absent
    with pytest.raises(
        UsageError, match=r"profile 'nope' not found .* gta configure --profile nope"
    ):
        resolve_settings("nope", env={}, path=path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("profiles = [", "not valid TOML"),
        ("profiles = 3", "must be a table"),
        ("[profiles.default]\nclient_secret = 'x'", "unknown key"),
        ("[profiles.default]\nclient_id = 3", "must be a string"),
    ],
)
def test_broken_file_is_one_usage_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_profiles(path)


def test_settings_repr_hides_the_password() -> None:
    assert "s3cret" not in repr(Settings("id", "s3cret-value", "h"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "(not set)"),
        ("", "(not set)"),
        ("short", "****"),
        ("12345678", "****"),
        ("a-long-password-abcd", "****abcd"),
    ],
)
def test_mask_secret(value: str | None, shown: str) -> None:
    assert mask_secret(value) == shown


@pytest.mark.parametrize(
    ("choice", "host", "region"),
    [
        ("NA", "visibility.amp.cisco.com", "NA"),
        ("eu", "visibility.eu.amp.cisco.com", "EU"),
        ("APJC", "visibility.apjc.amp.cisco.com", "APJC"),
        ("https://visibility.eu.amp.cisco.com", "https://visibility.eu.amp.cisco.com", "EU"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", "custom (127.0.0.1:8080)"),
    ],
)
def test_regions(choice: str, host: str, region: str) -> None:
    assert securex_host_for(choice) == host
    assert region_of(host) == region
