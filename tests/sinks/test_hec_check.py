"""``gta sinks check URL`` against the HEC receiver and local sockets: exit 0 only when the
destination is reachable, its TLS is acceptable and the token is accepted."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from rsyslog_server import make_certificates
from tests._support.hec_receiver import HecState, run_receiver

from gta.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(["sinks", "check", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_healthy_hec_with_a_good_token(capsys: pytest.CaptureFixture[str]) -> None:
    with run_receiver() as rx:
        code, out, _ = _run(capsys, rx.url, "--token", "good-token")
        assert rx.state.indexed == []  # the probe indexes nothing
    assert code == 0
    assert "ok   health" in out and "HEC is healthy" in out
    assert "ok   token" in out and "code 5" in out
    assert "plain http" in out


def test_bad_token_fails_and_is_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_HEC_TOKEN", "s3cret-wrong")
    with run_receiver(HecState()) as rx:
        code, out, err = _run(capsys, rx.url, "--token", "env:MY_HEC_TOKEN")
    assert code == 1
    assert "FAIL token" in out and "code 4" in out
    assert "s3cret-wrong" not in out + err


def test_unreachable_hec(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = _run(capsys, f"splunk-hec+http://127.0.0.1:{port}", "--token", "t")
    assert code == 1 and "FAIL reachability" in out


def test_token_in_url_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "splunk-hec+https://splunk:8088?token=abc")
    assert code == 2  # a URL that cannot work is a usage error, as in `gta export --to`
    assert err.startswith("error: ") and err.count("\n") == 1 and "abc" not in err


def test_missing_env_token_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "splunk-hec+https://splunk:8088", "--token", "env:NOPE_NOT_SET")
    assert code == 2 and "NOPE_NOT_SET is not set" in err


def test_syslog_tcp_listener_and_closed_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code, out, _ = _run(capsys, f"syslog+tcp://127.0.0.1:{port}")
    assert code == 0 and "ok   reachability" in out
    code, out, _ = _run(capsys, f"syslog+tcp://127.0.0.1:{port}")
    assert code == 1 and "FAIL reachability" in out


@pytest.mark.skipif(shutil.which("certtool") is None, reason="certtool (gnutls-bin) not installed")
def test_hec_tls_trust(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    make_certificates(tmp_path)
    tls = {"certfile": str(tmp_path / "cert.pem"), "keyfile": str(tmp_path / "key.pem")}
    with run_receiver(**tls) as rx:
        trusted = _run(
            capsys, rx.url, "--token", "good-token", "--ca-bundle", str(tmp_path / "ca.pem")
        )
        untrusted = _run(capsys, rx.url, "--token", "good-token")
    assert trusted[0] == 0 and "certificate verified" in trusted[1]
    assert (
        untrusted[0] == 1
        and "FAIL tls" in untrusted[1]
        and "CERTIFICATE_VERIFY_FAILED" in untrusted[1]
    )
