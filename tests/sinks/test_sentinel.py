"""The Sentinel (Logs Ingestion API) sink against the strict HTTPS stand-in: batching within the
1 MB limit, gzip, bearer tokens, retries on 503/429 with Retry-After, a refused row isolated and
reported with its recordId while the rest of its batch is delivered, configuration errors."""

from __future__ import annotations

import gzip
import logging
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sentinel_standin import CLIENT_SECRET, LIMIT, SCOPE, StandinState, run_standin

from gta.client._retry import Runtime
from gta.sinks import SinkConfigError, SinkError, open_sink, redact_url
from gta.sinks._sentinel import SentinelSink, column_name, sentinel_row
from gta.sinks._sentinel_config import parse_sentinel_url

DCR = "dcr-00112233445566778899aabbccddeeff"
BASE = f"sentinel+https://dce.example?dcr={DCR}&tenant_id=t1&client_id=c1"


def flows(n: int, pad: int = 0, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"recordId": f"{i:032x}", "stream": "flows", "indexTime": "2026-11-27T10:00:00Z",
         "flowId": f"f-{i}", "timeStamp": "2026-11-27T09:59:00Z", "srcIp": "10.0.0.1",
         "srcPort": i % 65536, "protocol": "x" * pad}
        for i in range(start, start + n)
    ]  # fmt: skip


class Waits:
    """A Runtime whose sleep records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.runtime = Runtime(sleep=self.delays.append, random=lambda: 0.5)


_OPENED: list[SentinelSink] = []


@pytest.fixture(autouse=True)
def _close_sinks() -> Iterator[None]:
    """Release every sink's connections at teardown, including sinks whose flush failed."""
    yield
    release()


def release() -> None:
    """Close the sinks' connections (before the stand-in stops, or it waits for them)."""
    while _OPENED:
        _OPENED.pop()._client.close()


def make_sink(url: str, waits: Waits | None = None, **options: Any) -> SentinelSink:
    config, secret = parse_sentinel_url(url, {"client_secret": CLIENT_SECRET, **options})
    assert secret is not None
    sink = SentinelSink(config, secret, runtime=(waits or Waits()).runtime)
    _OPENED.append(sink)
    return sink


# -- settings ----------------------------------------------------------------------------------
def test_secret_in_url_is_refused_and_not_echoed() -> None:
    with pytest.raises(SinkConfigError) as info:
        parse_sentinel_url(BASE + "&client_secret=hunter2-literal", {})
    assert "hunter2" not in str(info.value) and "env:NAME" in str(info.value)


def test_secret_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "from-env")
    assert parse_sentinel_url(BASE + "&client_secret=env:MY_SECRET", {})[1] == "from-env"
    path = tmp_path / "secret.txt"
    path.write_text("from-file\n")
    path.chmod(0o600)  # a secret file readable by others is refused
    assert parse_sentinel_url(BASE + f"&client_secret=file:{path}", {})[1] == "from-file"
    monkeypatch.setenv("GTA_SENTINEL_CLIENT_SECRET", "default-env")
    assert parse_sentinel_url(BASE, {})[1] == "default-env"
    with pytest.raises(SinkConfigError, match=r"env:NOPE"):
        parse_sentinel_url(BASE + "&client_secret=env:NOPE", {})
    with pytest.raises(SinkConfigError, match="keyring"):
        parse_sentinel_url(BASE + "&client_secret=keyring:gta:app", {})
    assert "client_secret=***" in redact_url(BASE + "&client_secret=env:MY_SECRET")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (BASE.replace(f"dcr={DCR}", "dcr=nope"), "dcr="),
        (BASE.replace("client_id=c1", "client_id="), "client_id"),
        (BASE + "&stream=MyStream", "not a DCR stream"),
        (BASE + "&batch_bytes=2000000", "over the API's limit"),
        (BASE + "&colour=red", "unknown sentinel URL parameter"),
        (BASE + "&authority_host=http://login.example", "https"),
        ("sentinel+https://user:pw@dce.example?dcr=" + DCR, "credentials"),
    ],
)
def test_bad_urls_are_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(SinkConfigError, match=message) as info:
        parse_sentinel_url(url, {})
    assert "\n" not in str(info.value)


def test_registry_opens_it_and_needs_a_secret() -> None:
    with pytest.raises(SinkConfigError, match="client secret"):
        open_sink(BASE)
    sink = open_sink(BASE, client_secret="x")
    assert type(sink).__name__ == "SentinelSink"
    sink.close()  # nothing buffered: no request


def test_gta_sinks_list_describes_the_scheme() -> None:
    from gta.cli._sink_catalog import catalogue
    from gta.sinks import SCHEMES

    (info,) = [info for info in catalogue() if "sentinel+https" in info.schemes]
    assert "sentinel+https" in SCHEMES and "Logs Ingestion API" in info.summary
    names = {option.name for option in info.options}
    assert {"dcr", "stream", "tenant_id", "client_id", "client_secret"} <= names


def test_column_names() -> None:
    assert column_name("status.value") == "status_value"
    assert sentinel_row({"a-b": 1, "ok_1": {"x.y": 2}}) == {"a_b": 1, "ok_1": {"x.y": 2}}


# -- delivery ----------------------------------------------------------------------------------
def test_batches_stay_within_one_megabyte_and_are_gzipped(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        sink = make_sink(s.url())
        records = flows(3000, pad=1000)  # ~3.2 MB of rows
        sink.write(records)
        sink.flush()
        assert Counter(s.state.record_ids()) == Counter(r["recordId"] for r in records)
        assert s.state.uploads >= 4 and s.state.gzip_uploads == s.state.uploads
        assert s.state.largest_body <= 1_000_000 < LIMIT
        assert s.state.token_requests == 1  # the token is cached
        assert s.state.undeclared == set()
        sink.close()

        release()


def test_records_route_to_their_stream(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        sink = make_sink(s.url())
        alert = {"recordId": "a1", "stream": "alerts", "indexTime": "2026-11-27T10:00:00Z",
                 "alertId": "x", "status.value": "New"}  # fmt: skip
        sink.write([*flows(2), alert])
        sink.close()
        assert {k: len(v) for k, v in s.state.rows.items()} == {
            "Custom-GtaFlows": 2, "Custom-GtaAlerts": 1}  # fmt: skip
        assert s.state.rows["Custom-GtaAlerts"][0]["status_value"] == "New"

        release()


@pytest.mark.parametrize("status", [503, 429])
def test_three_failures_in_a_row_lose_nothing(tmp_path: Path, status: int) -> None:
    waits = Waits()
    state = StandinState(fail_next=[status] * 3, retry_after="7")
    with run_standin(state, tmp=tmp_path) as s:
        sink = make_sink(s.url(), waits)
        sink.write(flows(500))
        sink.flush()
        ids = s.state.record_ids()
        release()
    assert len(ids) == len(set(ids)) == 500
    # 429 carries Retry-After: 7 (honoured); 503 here has none: the client's full-jitter
    # backoff from 0.5 s, doubling, drawn at 0.5.
    assert waits.delays == ([7.0] * 3 if status == 429 else [0.25, 0.5, 1.0])


def test_retries_are_bounded(tmp_path: Path) -> None:
    with run_standin(StandinState(fail_next=[503] * 10), tmp=tmp_path) as s:
        sink = make_sink(s.url(), max_retries=2)
        sink.write(flows(10))
        with pytest.raises(SinkError, match="giving up after 3 attempts"):
            sink.flush()
        assert s.state.record_ids() == []

        release()


def test_a_refused_row_is_reported_and_the_rest_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = flows(1000)
    bad = {records[137]["recordId"], records[802]["recordId"]}
    with run_standin(StandinState(reject_record_ids=bad), tmp=tmp_path) as s:
        sink = make_sink(s.url())
        with caplog.at_level(logging.ERROR, "gta.sinks.sentinel"):
            sink.write(records)
            sink.flush()
        ids = Counter(s.state.record_ids())
        release()
    assert sink.rejected == 2 and set(sink.rejected_ids) == bad
    assert set(ids) == {r["recordId"] for r in records} - bad and max(ids.values()) == 1
    assert all(rid in caplog.text for rid in bad) and "InvalidPayload" in caplog.text


def test_a_type_mismatch_is_refused_by_the_standin_and_reported(tmp_path: Path) -> None:
    records = flows(20)
    records[3]["srcPort"] = "not-a-number"  # the DCR declares srcPort long
    with run_standin(tmp=tmp_path) as s:
        sink = make_sink(s.url())
        sink.write(records)
        sink.flush()
        assert sink.rejected_ids == [records[3]["recordId"]]
        assert len(s.state.record_ids()) == 19

        release()


def test_a_row_over_the_limit_alone_is_refused_without_a_call(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        sink = make_sink(s.url())
        sink.write(flows(1, pad=1_100_000) + flows(1, start=1))
        sink.flush()
        assert sink.rejected_ids == [f"{0:032x}"] and s.state.record_ids() == [f"{1:032x}"]
        assert s.state.uploads == 1

        release()


def test_an_expired_token_is_fetched_again_once(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        sink = make_sink(s.url())
        sink.write(flows(5))
        sink.flush()
        s.state.tokens.clear()  # the service no longer accepts the cached token
        sink.write(flows(5, start=5))
        sink.flush()
        assert len(s.state.record_ids()) == 10 and s.state.token_requests == 2

        release()


def test_the_token_is_refreshed_before_it_expires(tmp_path: Path) -> None:
    now = [0.0]
    runtime = Runtime(sleep=lambda _s: None, monotonic=lambda: now[0], random=lambda: 0.5)
    with run_standin(StandinState(token_lifetime=100), tmp=tmp_path) as s:
        config, _ = parse_sentinel_url(s.url(), {})
        sink = SentinelSink(config, CLIENT_SECRET, runtime=runtime)
        _OPENED.append(sink)
        sink.write(flows(2))
        sink.flush()
        now[0] = 49.0  # within the first half of a 100 s token: reused
        sink.write(flows(2, start=2))
        sink.flush()
        assert s.state.token_requests == 1
        # The client's rule: 60 s before expiry, but not before half the lifetime (50 s here).
        now[0] = 51.0
        sink.write(flows(2, start=4))
        sink.flush()
        assert s.state.token_requests == 2 and len(s.state.record_ids()) == 6
        release()


def test_missing_role_and_unknown_dcr_stop_at_once(tmp_path: Path) -> None:
    with run_standin(StandinState(forbidden=True), tmp=tmp_path) as s:
        sink = make_sink(s.url())
        sink.write(flows(3))
        with pytest.raises(SinkConfigError, match="Monitoring Metrics Publisher"):
            sink.flush()
        release()
    with run_standin(tmp=tmp_path / "b") as s:
        sink = make_sink(s.url().replace(DCR, "dcr-" + "9" * 32))
        sink.write(flows(3))
        with pytest.raises(SinkConfigError, match="not found"):
            sink.flush()

        release()


def test_bad_secret_is_a_config_error_without_the_secret(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        config, _ = parse_sentinel_url(s.url(), {})
        sink = SentinelSink(config, "wrong-secret-123", runtime=Waits().runtime)
        _OPENED.append(sink)
        sink.write(flows(1))
        with pytest.raises(SinkConfigError, match="AADSTS7000215") as info:
            sink.flush()
        release()
    assert "wrong-secret-123" not in str(info.value)


def test_untrusted_certificate_is_a_config_error(tmp_path: Path) -> None:
    with run_standin(tmp=tmp_path) as s:
        url = s.url().replace(f"&ca_bundle={s.ca_file}", "")
        sink = make_sink(url)
        sink.write(flows(1))
        with pytest.raises(SinkConfigError, match="not trusted"):
            sink.flush()

        release()


def test_every_row_refused_means_a_wrong_stream_declaration() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        assert orjson.loads(gzip.decompress(request.content))  # a JSON array of rows
        return httpx.Response(400, json={"error": {"code": "InvalidPayload", "message": "no"}})

    config, _ = parse_sentinel_url(BASE, {})
    sink = SentinelSink(config, "s", runtime=Waits().runtime, transport=httpx.MockTransport(refuse))
    _OPENED.append(sink)
    sink.write(flows(64))
    with pytest.raises(SinkConfigError, match="refused all 16 rows"):
        sink.flush()
    assert sink.requests < 64  # stopped early, not one request per row


def test_server_text_is_one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        message = "bad\nrow\x1b[31m " + "x" * 5000
        return httpx.Response(400, json={"error": {"code": "Invalid\nPayload", "message": message}})

    config, _ = parse_sentinel_url(BASE, {})
    sink = SentinelSink(config, "s", runtime=Waits().runtime, transport=httpx.MockTransport(refuse))
    _OPENED.append(sink)
    with caplog.at_level(logging.ERROR, "gta.sinks.sentinel"):
        sink.write(flows(1))
        sink.flush()
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in line and "\x1b" not in line and "Invalid Payload: bad row [31m x" in line
    assert len(line) < 500


def test_standin_refuses_bodies_over_the_limit_before_and_after_gzip(tmp_path: Path) -> None:
    with (
        run_standin(tmp=tmp_path) as s,
        httpx.Client(verify=ssl.create_default_context(cafile=s.ca_file)) as client,
    ):
        form = {"grant_type": "client_credentials", "client_id": s.state.client_id,
                "client_secret": CLIENT_SECRET, "scope": SCOPE}  # fmt: skip
        token = client.post(f"{s.base_url}/{s.state.tenant}/oauth2/v2.0/token", data=form)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        url = f"{s.base_url}/dataCollectionRules/{s.state.dcr}/streams/Custom-GtaFlows"
        version = {"api-version": "2023-01-01"}
        big = orjson.dumps([{"recordId": "x" * (LIMIT + 10)}])
        for body, extra in ((big, {}), (gzip.compress(big), {"Content-Encoding": "gzip"})):
            reply = client.post(url, params=version, content=body, headers={**headers, **extra})
            assert reply.status_code == 413
            assert reply.headers["x-ms-error-code"] == "ContentLengthLimitExceeded"
            assert reply.json()["error"]["message"].startswith(
                "Maximum allowed content length: 1048576 bytes (1 MB)."
            )
        ok = client.post(url, params=version, content=b"[]", headers=headers)
        assert ok.status_code == 204 and ok.content == b""
        assert client.post(url, content=b"[]", headers=headers).status_code == 400
        assert client.post(url, params=version, content=b"[]").status_code == 401


def test_a_413_splits_the_batch_and_delivers_every_row() -> None:
    delivered: list[str] = []

    def small_bodies_only(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        rows = orjson.loads(gzip.decompress(request.content))
        if len(rows) > 100:  # a service with a smaller limit than we thought
            body = {"error": {"code": "ContentLengthLimitExceeded", "message": "too big"}}
            return httpx.Response(413, json=body)
        delivered.extend(r["recordId"] for r in rows)
        return httpx.Response(204)

    config, _ = parse_sentinel_url(BASE, {})
    sink = SentinelSink(config, "s", runtime=Waits().runtime,
                        transport=httpx.MockTransport(small_bodies_only))  # fmt: skip
    _OPENED.append(sink)
    sink.write(flows(1000))
    sink.flush()
    assert sorted(delivered) == sorted(r["recordId"] for r in flows(1000))
    assert sink.rejected == 0
