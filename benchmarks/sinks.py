"""Records per second into each sink, on the same records in one run.

    python -m benchmarks.sinks [--records 20000] [--batch 1000]

Sinks: JSON lines file (fsync per flush), Splunk HEC to the strict test receiver (uvicorn on
loopback; gzip on, then with indexer acks), Elasticsearch ``_bulk`` to its strict stand-in,
syslog TCP/TLS to a real rsyslogd (JSON and CEF payloads; falls back to a local TCP drain when
rsyslogd is absent), Microsoft Sentinel to its HTTPS stand-in (token endpoint + Logs Ingestion
API, tests/sinks/sentinel_standin.py), and OCSF formatting alone.
Each sink gets ``write(batch)`` + ``flush()`` per batch, as the sync engine calls it; the time
is from the first write to the last flush returning. Syslog rows also say whether rsyslogd wrote
every line. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests._support.hec_receiver import HecState, run_receiver
from tests.sinks.es_standin import API_KEY
from tests.sinks.es_standin import run_standin as run_es_standin
from tests.sinks.rsyslog_server import AVAILABLE as RSYSLOG
from tests.sinks.rsyslog_server import running_rsyslog
from tests.sinks.sentinel_standin import CLIENT_SECRET, run_standin

from gta.formats._ocsf import OCSF
from gta.sinks import Sink, open_sink
from gta.sinks._hec_config import parse_hec_url
from gta.sinks._sentinel import SentinelSink
from gta.sinks._sentinel_config import parse_sentinel_url
from gta.sinks._splunk_hec import SplunkHecSink

RISKS = ("Critical", "High", "Medium", "Low")


def make_records(n: int) -> list[dict[str, Any]]:
    """Annotation-format rows, the shape most users send to a SIEM."""
    return [
        {
            "recordId": f"{i:032x}",
            "stream": "events",
            "indexTime": "2026-11-27T10:00:00Z",
            "eventId": f"{i:08x}-0000-4000-8000-000000000000",
            "eventDetectedAt": "2026-11-27T09:59:54.047Z",
            "eventModifiedAt": "2026-11-27T09:59:54.047Z",
            "securityEventTypeId": 100 + i % 40,
            "eventTitle": "Communication with a cryptocurrency mining pool",
            "eventSubtitle": f"host-{i % 500} contacted pool-{i % 97}.example over TCP/3333",
            "assumedOwner": f"user{i % 500}@corp.example",
            "alertId": f"{i // 20:064x}",
            "alertStatus": "New",
            "risk": RISKS[i % 4],
            "threatTitle": "Cryptomining",
            "threatCategory": "Malware",
            "threatSubCategory": "Miner",
            "severity": "Medium",
            "affectedAssetId": f"asset-{i % 500}",
            "threatDetectionId": f"td-{i // 5}",
            "confidence": "High",
            "securityAnnotationId": "sa-7",
            "securityAnnotationAttributes": {"domain": f"pool-{i % 97}.example", "port": "3333"},
        }
        for i in range(n)
    ]


def drive(sink: Sink, records: list[dict[str, Any]], batch: int) -> float:
    """Seconds to write and flush every batch, then close."""
    start = time.perf_counter()
    for offset in range(0, len(records), batch):
        sink.write(records[offset : offset + batch])
        sink.flush()
    sink.close()
    return time.perf_counter() - start


@contextmanager
def tcp_drain() -> Iterator[int]:
    """A local TCP receiver that reads and discards everything (used without rsyslogd)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while conn.recv(1 << 20):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.close()


def ocsf_rate(n: int) -> float:
    """OCSF records per second from API-shaped events with their parents in the context."""

    class Ctx:
        index_time = "2026-11-27T10:00:00.000Z"

        def detection(self, _id: str) -> dict[str, Any]:
            return {"id": "td-1", "threatIntelRecordId": "ti-1", "alertIds": ["a" * 64],
                    "confidence": "High", "affectedAssetId": "as-1"}  # fmt: skip

        def alert(self, _id: str) -> dict[str, Any]:
            return {"id": "a" * 64, "risk": "High", "status": {"value": "New"}}

        def asset(self, _id: str) -> dict[str, Any]:
            return {"id": "as-1", "assumedOwner": "alice"}

        def threat_intel(self, _id: str) -> dict[str, Any]:
            return {"id": "ti-1", "title": "Cryptomining", "category": "Malware"}

    events = [
        {"id": f"ev-{i}", "detectedAt": "2026-11-27T09:59:54.047Z",
         "modifiedAt": "2026-11-27T09:59:54.047Z", "securityEventTypeId": 101,
         "title": "Mining pool", "subtitle": f"host-{i}", "affectedAssetId": "as-1",
         "securityAnnotation": None, "threatDetectionIds": ["td-1"]}
        for i in range(n)
    ]  # fmt: skip
    ctx = Ctx()
    start = time.perf_counter()
    count = sum(len(OCSF.events(event, ctx)) for event in events)
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    records = make_records(args.records)
    rows: list[tuple[str, float, str]] = []

    def run(name: str, make: Callable[[], Sink], note: Callable[[], str] = str) -> None:
        seconds = drive(make(), records, args.batch)
        rows.append((name, len(records) / seconds, note()))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.jsonl"
        run("jsonl file (fsync per flush)", lambda: open_sink(f"jsonl:{path}"))
        with run_receiver(HecState()) as rx:
            run("splunk-hec, gzip", lambda: open_sink(rx.url, token="good-token"),
                lambda: f"receiver indexed {len(rx.state.indexed)}")  # fmt: skip
        null = httpx.MockTransport(
            lambda _r: httpx.Response(200, json={"text": "Success", "code": 0})
        )
        config, _ = parse_hec_url("splunk-hec+https://null.invalid:8088", {})
        run(
            "splunk-hec, gzip -> null transport",
            lambda: SplunkHecSink(config, "t", transport=null),
            lambda: "sink cost alone: encode + gzip + httpx",
        )
        with run_es_standin() as es:
            es_url = es.url + "?index=gta-bench"
            run("elasticsearch _bulk -> stand-in", lambda: open_sink(es_url, api_key=API_KEY),
                lambda: f"stand-in stored {len(es.state.docs)}")  # fmt: skip
        with run_receiver(HecState(ack_enabled=True)) as rx:
            ack = {"token": "good-token", "ack": True, "ack_poll_interval": 0.005}
            run("splunk-hec, gzip + indexer ack", lambda: open_sink(rx.url, **ack),
                lambda: f"receiver indexed {len(rx.state.indexed)}")  # fmt: skip
        # -- Microsoft Sentinel: the Logs Ingestion API stand-in over HTTPS (token + upload). --
        # The stand-in holds rows to the shipped DCR's column types: securityEventTypeId is a
        # string in the API's events (an int in make_records).
        sentinel_rows = [{**r, "securityEventTypeId": str(r["securityEventTypeId"])}
                         for r in records]  # fmt: skip
        with run_standin(tmp=Path(tmp) / "sentinel") as st:
            seconds = drive(open_sink(st.url(), client_secret=CLIENT_SECRET), sentinel_rows,
                            args.batch)  # fmt: skip
            rows.append(("sentinel (logs ingestion), gzip -> stand-in",
                         len(records) / seconds,
                         f"stand-in stored {len(st.state.record_ids())} in "
                         f"{st.state.uploads} uploads"))  # fmt: skip

        def azure_null(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/token"):
                return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
            return httpx.Response(204)

        dcr = "dcr-" + "0" * 32
        null_config, _ = parse_sentinel_url(
            f"sentinel+https://dce.invalid?dcr={dcr}&tenant_id=t&client_id=c", {}
        )
        run("sentinel, gzip -> null transport",
            lambda: SentinelSink(null_config, "s", transport=httpx.MockTransport(azure_null)),
            lambda: "sink cost alone: rows + gzip + httpx")  # fmt: skip
        if RSYSLOG:
            with running_rsyslog(Path(tmp) / "rsyslog") as rs:
                tcp = f"syslog+tcp://127.0.0.1:{rs.tcp_port}"
                tls = f"syslog+tls://127.0.0.1:{rs.tls_port}"
                cases: list[tuple[str, str, dict[str, Any], str]] = [
                    ("syslog tcp json -> rsyslogd", tcp, {}, "tcp"),
                    ("syslog tls json -> rsyslogd", tls, {"ca_bundle": str(rs.ca)}, "tls"),
                    ("syslog tcp cef -> rsyslogd", tcp, {"format": "cef"}, "tcp"),
                ]
                for name, url, opts, log in cases:
                    before = len(rs.lines(log, "<", 0, timeout=0))
                    run(name, lambda url=url, opts=opts: open_sink(url, **opts))
                    got = len(rs.lines(log, "<", before + len(records), timeout=60)) - before
                    rows[-1] = (rows[-1][0], rows[-1][1], f"rsyslogd wrote {got}/{len(records)}")
        else:
            with tcp_drain() as port:
                run("syslog tcp json -> local drain", lambda: open_sink(f"syslog+tcp://127.0.0.1:{port}"),
                    lambda: "rsyslogd not installed")  # fmt: skip
    rows.append(("ocsf formatting (events, no I/O)", ocsf_rate(args.records), "format only"))

    print(f"{len(records)} records, batches of {args.batch}, Python {sys.version.split()[0]}\n")
    print("| sink | records/s | note |\n|---|---:|---|")
    for name, rate, note in rows:
        print(f"| {name} | {rate:,.0f} | {note} |")


if __name__ == "__main__":
    main()
