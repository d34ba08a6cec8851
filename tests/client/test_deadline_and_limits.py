"""The whole-request deadline and the answer size limit, against a hostile loopback server.

httpx's timeouts bound each read, so a server dripping a byte every 0.2 s never tripped them and
kept a request (and `gta export`) waiting for as long as it liked; and a 400 MB answer was read
whole into memory. Each test here failed on the code before the deadline and the limit.
"""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tests._support.fake_api import FakeApi, FakeClock, make_client
from tests._support.hostile_server import Hostile, hostile

from gta.cli import main
from gta.client import ApiTimeoutError, Client, Runtime
from gta.errors import ApiError, ResponseTooLargeError

MiB = 1024 * 1024


def _client(url_env: dict[str, str], **options: Any) -> Client:
    return Client.from_env(url_env, **options)


def test_a_dripping_answer_is_abandoned_at_the_deadline() -> None:
    with hostile(behaviour="drip", drip_interval=0.2) as server:
        started = time.monotonic()
        client = _client(server.env(), timeout=2, max_retries=0)
        with client, pytest.raises(ApiTimeoutError) as info:
            client.alerts.get("a1")
        elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 6.0
    message = str(info.value)
    assert "\n" not in message
    assert "deadline 2 s per attempt" in message and "after 1 attempt" in message
    assert server.requests == 1


def test_a_read_blocked_near_the_deadline_ends_with_it() -> None:
    # The body starts at once, drips for 2.6 s, then stalls: a read timeout computed when the
    # body began (3 s) would block the last read until about 5.6 s; each socket read is capped
    # by what remains of the deadline instead.
    with hostile(behaviour="drip", drip_interval=0.2, stall_after=2.6, max_seconds=10) as server:
        started = time.monotonic()
        client = _client(server.env(), timeout=3, max_retries=0)
        with client, pytest.raises(ApiTimeoutError):
            client.alerts.get("a1")
        elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 4.5


def test_fetching_a_token_does_not_eat_the_request_deadline() -> None:
    # The token takes 1.2 s and the answer 1.2 s: each within the 2 s deadline of its own.
    with hostile(behaviour="slow", slow_seconds=1.2, token_delay=1.2) as server:
        client = _client(server.env(), timeout=2, max_retries=0)
        with client:
            assert client.alerts.get("a1").id == "a1"


def test_each_retry_has_its_own_deadline() -> None:
    sleeps: list[float] = []
    with hostile(behaviour="drip", drip_interval=0.2) as server:
        started = time.monotonic()
        client = _client(
            server.env(), timeout=1, max_retries=1, _runtime=Runtime(sleep=sleeps.append)
        )
        with client, pytest.raises(ApiTimeoutError, match="after 2 attempts"):
            client.alerts.get("a1")
        elapsed = time.monotonic() - started
    assert server.requests == 2
    assert len(sleeps) == 1
    assert 1.5 < elapsed < 6.0


@pytest.mark.parametrize("behaviour", ["big", "chunked"])
def test_an_oversized_answer_is_refused_within_bounded_memory(behaviour: str) -> None:
    with hostile(behaviour=behaviour, big_bytes=50 * MiB) as server:
        client = _client(server.env(), max_response_bytes=1 * MiB, max_retries=3)
        tracemalloc.start()
        try:
            with client, pytest.raises(ResponseTooLargeError) as info:
                client.alerts.get("a1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    error = info.value
    assert isinstance(error, ApiError)
    assert error.limit == 1 * MiB
    message = str(error)
    assert "\n" not in message and "1048576 bytes" in message and "max_response_bytes" in message
    expected = "Content-Length 52428800" if behaviour == "big" else "more than 1048576 bytes"
    assert expected in message
    assert server.requests == 1  # not retried
    assert peak < 2 * MiB
    assert server.sent < 10 * MiB  # the client stopped reading: it did not drain 50 MiB


def test_the_body_of_a_replayed_401_is_not_read() -> None:
    # A 401 makes the auth flow fetch a new token and replay the request once; httpx reads the
    # first answer whole before the replay unless the flow drops it. The second 401 is the
    # answer: refused for its size like any other.
    with hostile(behaviour="unauthorized", big_bytes=50 * MiB) as server:
        client = _client(server.env(), max_response_bytes=1 * MiB, max_retries=0)
        tracemalloc.start()
        try:
            with client, pytest.raises(ResponseTooLargeError, match="Content-Length 52428800"):
                client.alerts.get("a1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert server.requests == 2
    assert peak < 2 * MiB
    assert server.sent < 20 * MiB


def test_an_answer_within_the_limit_is_read(api: FakeApi, clock: FakeClock) -> None:
    api.route("GET", "/alert-management/customer/CTA123456789/alerts/a1", {"id": "a1"})
    client = make_client(api, clock, max_response_bytes=200)
    assert client.alerts.get("a1").id == "a1"
    client.auth.token()  # the token answer (under 200 bytes) is limited too
    tiny = make_client(api, clock, max_response_bytes=5)
    with pytest.raises(ResponseTooLargeError):
        tiny.alerts.get("a1")


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})

        def never_read() -> Any:
            raise AssertionError("the body was read")
            yield b""  # pragma: no cover

        return httpx.Response(200, headers={"Content-Length": "999"}, stream=_Stream(never_read))

    client = Client(
        "id",
        "pw",
        securex_host="https://x.test",
        api_url="https://x.test",
        customer_id="CTA1",
        max_response_bytes=100,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(ResponseTooLargeError, match="Content-Length 999"):
        client.alerts.get("a1")


class _Stream(httpx.SyncByteStream):
    def __init__(self, make: Any) -> None:
        self._make = make

    def __iter__(self) -> Any:
        return iter(self._make())


def test_export_with_a_timeout_gives_up_on_a_dripping_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No backoff between the attempts, so the bound is the deadline times the attempts.
    monkeypatch.setattr("gta.client._transport.retry_delay", lambda *a, **k: 0.0)
    with hostile(behaviour="drip", drip_interval=0.2) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        started = time.monotonic()
        code, stderr = _run_gta("export", "alerts", "--output", "-", "--quiet", "--timeout", "1s")
        elapsed = time.monotonic() - started
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "deadline 1 s per attempt" in lines[0]
    assert server.requests == 9  # 1 + the default 8 retries, each cut at 1 s
    assert elapsed < 25.0


COMMANDS = [
    ["export", "alerts", "--output", "-"],
    ["sync", "--config", "absent.toml", "--once"],
    ["alerts", "list"],
    ["alerts", "show", "a" * 64],
    ["alerts", "status", "a" * 64, "--set", "Open"],
    ["alerts", "note", "a" * 64, "--delete"],
    ["alerts", "close", "--triggered-before", "30d", "--yes"],
    ["alerts", "watch", "--count", "1"],
    ["auth", "check"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("value", ["0s", "soon", "-1s"])
def test_a_bad_timeout_is_a_usage_error(
    command: list[str], value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, setting in Hostile(url="http://127.0.0.1:9").env().items():
        monkeypatch.setenv(name, setting)  # complete settings: only --timeout is wrong
    code, stderr = _run_gta(*command, "--timeout", value)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid duration" in lines[0]


def test_sync_timeout_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from gta.cli import _service_cmd as _sync_cmds
    from gta.sync import load_config

    config_file = tmp_path / "gta.toml"
    config_file.write_text(
        'timeout = "30s"\n[tenants.a]\nclient_id = "i"\nclient_password = "p"\n'
        'visibility_host = "h.test"\ntimeout = 7\n[tenants.b]\nclient_id = "i"\n'
        'client_password = "p"\nvisibility_host = "h.test"\n'
        '[jobs.one]\ntenant = "a"\nsink = "-"\n[jobs.two]\ntenant = "b"\nsink = "-"\n'
    )
    config = load_config(config_file)
    seen: dict[str, float] = {}

    def run(client: Client, job: Any, store: Any, **kwargs: Any) -> list[Any]:
        seen[job.name] = client.transport.deadline
        return []

    monkeypatch.setattr(_sync_cmds, "_run", run)
    stop = threading.Event()
    quiet = {"progress": False, "summaries": False, "keep_going": False}
    _sync_cmds._sync_pass(config, None, stop, **quiet)  # type: ignore[arg-type]
    assert seen == {"one": 7.0, "two": 30.0}
    _sync_cmds._sync_pass(config, None, stop, **quiet, timeout=3.0)  # type: ignore[arg-type]
    assert seen == {"one": 3.0, "two": 3.0}


def _run_gta(*args: str) -> tuple[int, str]:
    runner = CliRunner()
    with runner.isolation() as (_out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
        sys.stderr.flush()
        return code, err.getvalue().decode()
