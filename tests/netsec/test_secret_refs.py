"""``env:``, ``file:`` and ``keyring:`` secret references, resolved in one place (gta._secrets)
for the sync config, the CLI profile and the sinks; ``gta configure --keyring``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from tests.cli.helpers import Gta, config_file

from gta._secrets import SecretError, resolve_secret
from gta.cli._profile import load_profiles
from gta.emulator import RunningEmulator
from gta.errors import ConfigurationError
from gta.sinks import SinkConfigError
from gta.sinks._hec_config import parse_hec_url
from gta.sync import load_config

SECRET = "pa55-w0rd-never-shown"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in this process's memory (registered with keyring.set_keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def _secret_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "secret"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"pw\n", "pw"),
        (b"pw\r\n", "pw"),
        (b"pw", "pw"),
        (b"pw\n\n", "pw\n"),  # one line ending stripped, not more
        (b" pw \n", " pw "),  # spaces are part of a secret
    ],
)
def test_file_reference_strips_one_line_ending(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = _secret_file(tmp_path, content)
    assert resolve_secret(f"file:{path}", "client_password") == expected


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640, 0o440])
def test_file_reference_allows_owner_and_group(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path, SECRET.encode(), mode)
    assert resolve_secret(f"file:{path}", "client_password") == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o601, 0o666])
def test_file_reference_refuses_a_file_others_may_access(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path, SECRET.encode(), mode)
    with pytest.raises(SecretError) as info:
        resolve_secret(f"file:{path}", "client_password")
    message = str(info.value)
    assert "\n" not in message and str(path) in message and f"{mode:04o}" in message
    assert "chmod o-rwx" in message and SECRET not in message


def test_file_reference_errors_are_one_line_naming_the_file(tmp_path: Path) -> None:
    cases = {
        f"file:{tmp_path / 'missing'}": "cannot read it (No such file or directory)",
        f"file:{_secret_file(tmp_path, b'')}": "the file is empty",
        f"file:{tmp_path}": "not a regular file",
        "env:GTA_TEST_UNSET_VARIABLE": "environment variable GTA_TEST_UNSET_VARIABLE is not set",
        "keyring:nonsense": "keyring:SERVICE/NAME",
    }
    for reference, expected in cases.items():
        with pytest.raises(SecretError) as info:
            resolve_secret(reference, "client_password")
        assert expected in str(info.value) and "\n" not in str(info.value)


def test_keyring_reference(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("gta", "lab", SECRET)
    assert resolve_secret("keyring:gta/lab", "client_password") == SECRET
    assert resolve_secret("keyring:gta:lab", "client_password") == SECRET  # the older spelling
    with pytest.raises(SecretError, match=r"keyring:gta/other: no such entry"):
        resolve_secret("keyring:gta/other", "client_password")


def test_keyring_reference_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring raises ImportError
    with pytest.raises(SecretError, match=r"pip install 'gta\[keyring\]'"):
        resolve_secret("keyring:gta/lab", "client_password")


def test_sync_tenant_secrets_are_read_when_a_client_is_made(tmp_path: Path) -> None:
    """``file:`` is read per client (a rotated file is picked up), never at load time."""
    from gta.cli._service_cmd import _client_for

    secret = _secret_file(tmp_path, f"{SECRET}\n".encode())
    config_path = tmp_path / "gta.toml"
    config_path.write_text(
        f"""
[tenants.main]
client_id = "file:{secret}"
client_password = "file:{secret}"
visibility_host = "EU"

[jobs.siem]
sink = "{tmp_path / "out.jsonl"}"
tenant = "main"
"""
    )
    config = load_config(config_path, env={})
    assert SECRET not in repr(config)
    with _client_for(config.tenants["main"]) as client:
        assert client.client_id == SECRET and client._password.get_secret_value() == SECRET
    secret.chmod(0o644)
    with pytest.raises(ConfigurationError) as info:
        _client_for(config.tenants["main"])
    assert "readable or writable by others" in str(info.value) and SECRET not in str(info.value)


def test_sink_secrets_accept_the_three_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password("hec", "token", "from-keyring")
    url = "splunk-hec+https://splunk:8088"
    assert parse_hec_url(url, {"token": "keyring:hec/token"})[1] == "from-keyring"
    path = _secret_file(tmp_path, b"from-file\n")
    assert parse_hec_url(url, {"token": f"file:{path}"})[1] == "from-file"
    monkeypatch.setenv("HEC", "from-env")
    assert parse_hec_url(url, {"token": "env:HEC"})[1] == "from-env"
    path.chmod(0o644)
    with pytest.raises(SinkConfigError, match="splunk-hec token file:"):
        parse_hec_url(url, {"token": f"file:{path}"})


def test_cli_password_from_a_file(gta: Gta, emulator: RunningEmulator, tmp_path: Path) -> None:
    path = _secret_file(tmp_path, f"{emulator.client_password}\n".encode())
    env = {**emulator.env(), "SECUREX_CLIENT_PASSWORD": f"file:{path}"}
    run = gta("auth", "check", env=env)
    assert run.code == 0, run.err
    path.chmod(0o604)
    refused = gta("auth", "check", env=env)
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert "(from environment variable SECUREX_CLIENT_PASSWORD)" in refused.err
    assert emulator.client_password not in refused.both


def test_configure_keyring_stores_the_password_there(
    gta: Gta, emulator: RunningEmulator, memory_keyring: MemoryKeyring
) -> None:
    env = {"GTA_API_URL": emulator.url, "GTA_APP_URL": emulator.url}
    run = gta(
        "configure", "--profile", "lab", "--no-input", "--keyring",
        "--client-id", emulator.client_id, "--client-password-stdin",
        "--securex-host", emulator.url, "--customer-id", emulator.customer_id,
        input=f"{emulator.client_password}\n", env=env,
    )  # fmt: skip
    assert run.code == 0, run.err
    assert memory_keyring.entries[("gta", "lab")] == emulator.client_password
    assert load_profiles(config_file())["lab"].client_password == "keyring:gta/lab"
    assert emulator.client_password not in config_file().read_text()
    assert emulator.client_password not in run.both
    check = gta("auth", "check", "--profile", "lab", env=env)
    assert check.code == 0, check.err
    shown = gta("configure", "show", "--profile", "lab", env=env)
    assert "keyring:gta/lab" in shown.out and emulator.client_password not in shown.both


def test_configure_keyring_without_the_package(gta: Gta, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    run = gta(
        "configure", "--no-input", "--no-check", "--keyring", "--client-id", "c",
        "--client-password-stdin", "--securex-host", "EU", input=f"{SECRET}\n",
    )  # fmt: skip
    assert run.code == 2 and run.err.count("\n") == 1
    assert "pip install 'gta[keyring]'" in run.err and SECRET not in run.both
    assert not config_file().exists()
