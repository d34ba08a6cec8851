"""Guarantee 6: secrets never reach a log (even at --debug), an error, a repr, a record or a
checkpoint; TLS certificates are verified by default and turning that off warns every run.

The client password, every access token the emulator issued during the run (read from the
in-process emulator's token table) and the HEC token are searched for in: stderr of
``gta --debug export`` (with token expiry, 5xx and resets forcing retries and renewals), the
error of a wrong password, the reprs of the objects that hold them, the output records, the
HEC receiver's records and the state file's bytes (main file and WAL).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.reliability.rel_support import record_figures, run_gta
from tests.reliability.rel_tls_server import self_signed, tls_server

from gta import Client
from gta.emulator import RunningEmulator
from gta.errors import ApiConnectionError, AuthenticationError
from gta.sinks import SinkConfigError, SinkError, open_sink
from gta.sync import Job, load_config

pytestmark = pytest.mark.reliability

PASSWORD = "Rel-S3cret-Passw0rd-7f3a9c"
HEC_TOKEN = "hec-token-5d1e6b0c-rel-secret"
FIGURES: dict[str, Any] = {}


def _tokens(emu: RunningEmulator) -> list[str]:
    return list(emu.state.tokens._tokens)


def _grep(secrets: list[str], where: dict[str, bytes]) -> list[str]:
    return [
        f"{name} holds {s[:6]}..."
        for name, blob in where.items()
        for s in secrets
        if s.encode() in blob
    ]


def test_secrets_absent_from_debug_logs_records_and_state(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    from tests._support.hec_receiver import run_receiver  # the sinks helper's strict HEC stand-in

    emu = make_emulator(seed=9, events=600, client_password=PASSWORD, token_ttl=2)
    httpx.put(
        f"{emu.url}/_emulator/faults",
        json={"token_ttl": 1, "error_rate": 0.25, "reset_rate": 0.1, "latency_ms": 30},
    )
    out, state = tmp_path / "out.jsonl", tmp_path / "state.db"
    env = {**emu.env(), "GTA_SPLUNK_HEC_TOKEN": HEC_TOKEN}
    with run_receiver() as hec:
        hec.state.tokens.add(HEC_TOKEN)
        hec.state.busy_next = 2  # two 503s: the sink retries and logs
        runs = [
            run_gta(["--debug", "export", "all", "-o", str(out), "--state", str(state)], env),
            run_gta(["--debug", "export", "events", "--to", hec.url, "--state", str(state)], env),
            # a refused HEC token: the error names the problem, not the token
            run_gta(
                ["--debug", "export", "alerts", "--to", hec.url, "--state", str(state)],
                {**env, "GTA_SPLUNK_HEC_TOKEN": "wrong-" + HEC_TOKEN},
            ),
            # a wrong password: the error names the problem, not the password
            run_gta(
                ["--debug", "export", "alerts", "-o", str(tmp_path / "x.jsonl")],
                {**env, "SECUREX_CLIENT_PASSWORD": PASSWORD + "-wrong"},
            ),
        ]
        indexed = b"\n".join(str(e).encode() for e in hec.state.indexed)
    codes = [r.returncode for r in runs]
    assert codes[:2] == [0, 0] and codes[2] in (1, 2) and codes[3] == 1, [
        r.stderr[-800:] for r in runs
    ]
    assert "refused the token" in runs[2].stderr or "token" in runs[2].stderr.lower()
    assert "invalid_client" in runs[3].stderr or "client" in runs[3].stderr
    tokens = _tokens(emu)
    assert len(tokens) >= 3, "the test meant tokens to be renewed"
    secrets = [PASSWORD, PASSWORD + "-wrong", HEC_TOKEN, "wrong-" + HEC_TOKEN, *tokens]
    places = {
        **{f"stderr of run {i}": r.stderr.encode() for i, r in enumerate(runs)},
        **{f"stdout of run {i}": r.stdout.encode() for i, r in enumerate(runs)},
        "output records": out.read_bytes(),
        "HEC records": indexed,
        **{p.name: p.read_bytes() for p in tmp_path.glob("state.db*")},
    }
    logs = runs[0].stderr + runs[1].stderr
    assert "DEBUG" in logs and "retrying" in logs  # debug logs were on and retries happened
    assert hec.state.indexed and out.stat().st_size > 0
    leaks = _grep(secrets, places)
    FIGURES["logs_records_state"] = {
        "secrets_searched": len(secrets),
        "places_searched": len(places),
        "bytes_searched": sum(len(b) for b in places.values()),
        "leaks": leaks,
    }
    assert not leaks, leaks


def test_secrets_absent_from_reprs_and_errors(tmp_path: Path, emulator: RunningEmulator) -> None:
    seen: dict[str, str] = {}
    client = Client(
        "cid", PASSWORD, securex_host=emulator.url, api_url=emulator.url, app_url=emulator.url
    )
    seen["repr(Client)"], seen["str(Client)"] = repr(client), str(client)
    seen["repr(Client.auth)"] = repr(client.auth)
    seen["repr(Client.transport.__dict__)"] = repr(client.transport.__dict__)
    with pytest.raises(AuthenticationError) as caught:
        client.alerts.get("x")
    seen["str(AuthenticationError)"] = str(caught.value)
    seen["repr(AuthenticationError)"] = repr(caught.value)
    client.close()
    config = tmp_path / "gta.toml"
    config.write_text(
        '[tenants.t]\nclient_id = "c"\nclient_password = "env:REL_PW"\n'
        f'visibility_host = "{emulator.url}"\n[jobs.j]\ntenant = "t"\nsink = "-"\n'
        'sink_options = { token = "env:REL_HEC" }\n'
    )
    loaded = load_config(config, env={"REL_PW": PASSWORD, "REL_HEC": HEC_TOKEN})
    seen["repr(SyncConfig)"], seen["str(SyncConfig)"] = repr(loaded), str(loaded)
    seen["repr(TenantConfig)"] = repr(loaded.tenants["t"])
    seen["repr(JobConfig)"] = repr(loaded.jobs["j"])
    job = Job(
        name="j",
        streams=["events"],
        format="annotation",
        sink_url="-",
        sink_options=dict(loaded.jobs["j"].sink_options),
    )
    seen["repr(Job)"] = repr(job)
    sink = open_sink("splunk-hec+http://127.0.0.1:9", token=HEC_TOKEN, max_retries=0)
    seen["repr(SplunkHecSink)"] = repr(sink)
    with pytest.raises(SinkError) as sink_error:
        sink.write([{"recordId": "r", "stream": "events"}])
        sink.flush()
    seen["str(SinkError)"], seen["repr(SinkError)"] = str(sink_error.value), repr(sink_error.value)
    leaks = sorted(name for name, text in seen.items() if PASSWORD in text or HEC_TOKEN in text)
    FIGURES["reprs_and_errors"] = {
        "strings_checked": len(seen),
        "leaks": len(leaks),
        "leaking": leaks,
    }
    assert not leaks, leaks


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def test_sdk_verifies_tls_by_default(cert: tuple[Path, Path]) -> None:
    with tls_server(*cert) as (port, received):
        url = f"https://127.0.0.1:{port}"
        with (
            Client(
                "c",
                PASSWORD,
                securex_host=url,
                api_url=url,
                app_url=url,
                customer_id="CTA000000001",
                max_retries=0,
            ) as client,
            pytest.raises(ApiConnectionError) as caught,
        ):
            client.alerts.get("x")
        assert (
            "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
            or "certificate" in str(caught.value).lower()
        )
        assert received.data() == b""  # nothing was sent: the password never left
        # with the CA given, the same server is reached (it answers nonsense: not a token)
        context = ssl.create_default_context(cafile=str(cert[0]))
        with (
            Client(
                "c",
                PASSWORD,
                securex_host=url,
                api_url=url,
                app_url=url,
                customer_id="CTA000000001",
                max_retries=0,
                http_client=httpx.Client(verify=context),
            ) as client,
            pytest.raises(Exception) as reached,
        ):
            client.alerts.get("x")
        assert "access_token" in str(reached.value)
    FIGURES["tls_sdk"] = "verify on by default; CA bundle accepted"


def test_hec_and_syslog_verify_tls_by_default_and_insecure_warns(
    cert: tuple[Path, Path], tmp_path: Path, emulator: RunningEmulator
) -> None:
    record = {"recordId": "0" * 32, "stream": "events", "indexTime": "2026-01-01T00:00:00Z"}
    with tls_server(*cert) as (port, received):
        sink = open_sink(f"splunk-hec+https://127.0.0.1:{port}", token=HEC_TOKEN, max_retries=0)
        with pytest.raises(SinkError) as caught:
            sink.write([record])
            sink.flush()
        assert "certificate" in str(caught.value).lower() or "CERTIFICATE" in str(caught.value)
        assert received.data() == b""
        good = open_sink(
            f"splunk-hec+https://127.0.0.1:{port}",
            token=HEC_TOKEN,
            ca_bundle=str(cert[0]),
            gzip=False,
        )
        good.write([record])
        good.close()
        assert b"0" * 32 in received.data()
    with tls_server(*cert, raw=True) as (port, received):
        sink = open_sink(f"syslog+tls://127.0.0.1:{port}", max_retries=0)
        with pytest.raises(SinkConfigError):
            sink.write([record])
            sink.flush()
        good = open_sink(f"syslog+tls://127.0.0.1:{port}", ca_bundle=str(cert[0]))
        good.write([record])
        good.close()
    # insecure: delivered, and a warning on every run of the command line
    env = {**emulator.env(), "GTA_SPLUNK_HEC_TOKEN": HEC_TOKEN}
    warnings = []
    with tls_server(*cert) as (hec_port, _), tls_server(*cert, raw=True) as (sys_port, _):
        for i in range(2):
            for target in (
                f"splunk-hec+https://127.0.0.1:{hec_port}?insecure=true",
                f"syslog+tls://127.0.0.1:{sys_port}?insecure=true",
            ):
                run = run_gta(
                    [
                        "export",
                        "threat-detections",
                        "--to",
                        target,
                        "--state",
                        str(tmp_path / f"s{i}.db"),
                    ],
                    env,
                )
                assert run.returncode == 0, run.stderr
                warned = "verification is OFF" in run.stderr or "NOT verified" in run.stderr
                warnings.append(warned)
        # `gta sinks check`: refused without a CA, and --insecure says so on every run
        target = f"syslog+tls://127.0.0.1:{sys_port}"
        strict = run_gta(["sinks", "check", target], env)
        assert strict.returncode == 1 and "Traceback" not in strict.stderr
        assert "FAIL" in strict.stdout, strict.stdout
        for _ in range(2):
            loose = run_gta(["sinks", "check", target, "--insecure"], env)
            warnings.append("NOT verified" in loose.stdout + loose.stderr)
    assert all(warnings), warnings
    FIGURES["tls_sinks"] = {"insecure_runs": len(warnings), "warned": sum(warnings)}


def test_zz_record_figures() -> None:
    assert FIGURES
    record_figures("secrets_tls", FIGURES)
