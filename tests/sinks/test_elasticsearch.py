"""The Elasticsearch / OpenSearch sink against the strict ``_bulk`` stand-in: idempotent
``create`` with ``_id = recordId``, per-item results, backpressure and retries, rejects, auth."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from es_standin import API_KEY, EsState, run_standin

from gta.sinks import SinkConfigError, SinkError, open_sink
from gta.sinks._elasticsearch import ElasticsearchSink
from gta.sinks._es_config import parse_es_url


def records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"recordId": f"{i:032x}", "stream": "events", "indexTime": "2026-11-27T10:00:00Z",
         "detectedAt": "2026-11-27T09:59:54.047Z", "eventTitle": f"event {i}"}
        for i in range(start, start + n)
    ]  # fmt: skip


def sink(url: str, **options: Any) -> ElasticsearchSink:
    config, auth = parse_es_url(url, {"api_key": API_KEY, **options})
    waits: list[float] = []
    made = ElasticsearchSink(config, auth, sleep=waits.append, rand=lambda: 0.5)
    made.waits = waits  # type: ignore[attr-defined]
    return made


def test_records_arrive_once_with_record_id_as_id_and_a_timestamp() -> None:
    with run_standin() as es:
        with sink(es.url + "?index=gta-events", batch_events=100) as out:
            out.write(records(250))
        assert es.state.record_ids() == [r["recordId"] for r in records(250)]
        assert es.state.requests == 3 and es.state.bad_actions == []
        doc = es.state.docs[f"gta-events/{0:032x}"]
        assert doc["@timestamp"] == "2026-11-27T09:59:54.047Z"


def test_a_replayed_batch_is_counted_as_already_delivered_not_duplicated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with run_standin() as es:
        with sink(es.url + "?index=gta") as out:
            out.write(records(10))
        with caplog.at_level(logging.WARNING), sink(es.url + "?index=gta") as again:
            again.write(records(15))  # the first ten were delivered before a "crash"
        assert again.already_delivered == 10 and again.sent_events == 5 and again.rejected == 0
        assert es.state.conflicts == 10 and len(es.state.record_ids()) == 15
        assert "10 record(s) already delivered" in caplog.text


@pytest.mark.parametrize("fault", ["busy_next", "throttle_next"])
def test_three_503s_or_429s_in_a_row_lose_nothing(fault: str) -> None:
    with run_standin(EsState(**{fault: 3})) as es:
        with sink(es.url + "?index=gta") as out:
            out.write(records(40))
        assert es.state.record_ids() == [r["recordId"] for r in records(40)]
        assert len(out.waits) == 3 and es.state.conflicts == 0  # type: ignore[attr-defined]


def test_per_item_429_retries_only_those_items() -> None:
    state = EsState(item_throttle_requests=2, item_throttle_count=5)
    with run_standin(state) as es:
        with sink(es.url + "?index=gta") as out:
            out.write(records(20))
        assert sorted(es.state.record_ids()) == [r["recordId"] for r in records(20)]
        assert es.state.requests == 3 and es.state.conflicts == 0
        assert out.sent_events == 20


def test_a_mapping_error_rejects_one_record_and_the_rest_is_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = f"{7:032x}"
    with run_standin(EsState(reject_record_ids={bad})) as es:
        with caplog.at_level(logging.ERROR), sink(es.url + "?index=gta") as out:
            out.write(records(20))
        assert out.rejected == 1 and out.rejected_ids == [bad]
        assert len(es.state.record_ids()) == 19 and bad not in es.state.record_ids()
        assert bad in caplog.text and "document_parsing_exception" in caplog.text


def test_basic_auth_and_bad_credentials() -> None:
    with run_standin() as es:
        url = es.url + "?index=gta"
        with open_sink(url, username="elastic", password="changeme") as out:
            out.write(records(3))
        assert len(es.state.record_ids()) == 3
        bad = open_sink(url, api_key="wrong")
        bad.write(records(1))
        with pytest.raises(SinkConfigError, match="refused the credentials"):
            bad.flush()
        bad._client.close()  # type: ignore[attr-defined]


def test_giving_up_after_max_retries_raises() -> None:
    with run_standin(EsState(busy_next=10)) as es:
        out = sink(es.url + "?index=gta", max_retries=2)
        out.write(records(2))
        with pytest.raises(SinkError, match="giving up after 3 attempts"):
            out.flush()
        out._client.close()
        assert es.state.record_ids() == []


def test_secrets_from_env_and_file_never_from_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    _, auth = parse_es_url("elasticsearch+https://es:9200?index=x", {"api_key": f"file:{key_file}"})
    assert auth.header == "ApiKey from-file" and "from-file" not in repr(auth)
    monkeypatch.setenv("MY_KEY", "from-env")
    _, auth = parse_es_url("elasticsearch+https://es:9200?index=x", {"api_key": "env:MY_KEY"})
    assert auth.header == "ApiKey from-env"
    monkeypatch.setenv("GTA_ELASTICSEARCH_API_KEY", "default")
    _, auth = parse_es_url("opensearch+https://os:9200?index=x", {})
    assert auth.header == "ApiKey default"
    for url, message in [
        ("elasticsearch+https://es:9200?index=x&api_key=s3cret", "must not carry a secret"),
        ("elasticsearch+https://u:p@es:9200?index=x", "must not carry credentials"),
        ("elasticsearch+https://es:9200", "needs an index"),
        ("elasticsearch+https://es:9200?index=Bad*Name", "not a valid index"),
        ("elasticsearch+https://es:9200?index=x&colour=red", "unknown elasticsearch URL"),
    ]:
        with pytest.raises(SinkConfigError, match=message) as caught:
            parse_es_url(url, {})
        assert "s3cret" not in str(caught.value)
    with pytest.raises(SinkConfigError, match="MISSING_VAR is unset"):
        parse_es_url("elasticsearch+https://es:9200?index=x", {"api_key": "env:MISSING_VAR"})
