"""The gta sync config file: the documented example loads; errors are one line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gta.sync import ConfigError, load_config
from gta.sync._config import parse_interval

DOCS = Path(__file__).parents[2] / "docs" / "sync.md"
ENV = {"SECUREX_CLIENT_ID": "cid", "SECUREX_CLIENT_PASSWORD": "s3cret-pw"}


def doc_example() -> str:
    (block,) = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), flags=re.S)
    return block


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gta.toml"
    path.write_text(text)
    return path


def test_documented_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, doc_example()), env=ENV)
    assert config.every_seconds() == 300
    assert config.tenants["main"].client_password.get_secret_value() == "s3cret-pw"
    assert "s3cret-pw" not in repr(config)
    assert config.jobs["splunk-events"].sink_options == {"rotate_bytes": 104857600}
    assert config.jobs["everything-else"].streams == ["alerts", "threat-detections", "flows"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('format = "nested"', 'format = "xml"'), "jobs.everything-else.format"),
        (lambda t: t.replace('"flows"]', '"flowz"]'), "jobs.everything-else.streams.2"),
        (lambda t: t.replace('every = "5m"', 'every = "soon"'), "every"),
        (
            lambda t: t.replace('tenant = "main"', 'tenant = "other"', 1),
            "jobs.splunk-events.tenant",
        ),
        (lambda t: t + "\n[jobs.x]\ntenant = 'main'\nsink = '-'\ncolour = 1\n", "jobs.x.colour"),
        (
            lambda t: t.replace("page_size = 1000", "page_size = 5000"),
            "jobs.everything-else.page_size",
        ),
        (
            lambda t: t.replace("SECUREX_CLIENT_PASSWORD", "NOT_SET_ANYWHERE"),
            # "file: key: message", like every other config error
            "gta.toml: tenants.main.client_password: environment variable NOT_SET_ANYWHERE "
            "is not set",
        ),
        (lambda t: t + "\n[[broken", "not valid TOML"),
    ],
)
def test_errors_are_one_line_and_name_the_key(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, edit(doc_example())), env=ENV)
    text = str(info.value)
    assert message in text and "\n" not in text and "s3cret-pw" not in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("90", 90), ("1.5m", 90)]
)
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "5 minutes", "-1m"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_timeout_top_level_and_per_tenant(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, doc_example()), env=ENV)
    assert config.timeout_seconds("main") == 60.0
    text = doc_example().replace('# timeout = "2m"', 'timeout = "2m"')
    assert load_config(write(tmp_path, text), env=ENV).timeout_seconds("main") == 120.0
    text = doc_example().replace('timeout = "60s"', "timeout = 15")
    assert load_config(write(tmp_path, text), env=ENV).timeout_seconds("main") == 15.0
    text = doc_example().replace('timeout = "60s"', "")
    assert load_config(write(tmp_path, text), env=ENV).timeout_seconds("main") is None


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('timeout = "60s"', 'timeout = "soon"', "timeout"),
        ('timeout = "60s"', "timeout = 0", "timeout"),
        ('timeout = "60s"', "timeout = -5", "timeout"),
        ('# timeout = "2m"', 'timeout = "0s"', "tenants.main.timeout"),
    ],
)
def test_bad_timeout_is_one_line_naming_the_key(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, doc_example().replace(old, new)), env=ENV)
    message = str(info.value)
    assert "\n" not in message and f"{key}:" in message
