"""What ``gta sinks list`` prints: every sink URL scheme and the options it takes.

Pure data, so listing costs no import of a sink. A test checks this catalogue against the sinks
themselves: every scheme of :data:`gta.sinks.SCHEMES` is here, and every option listed is one the
sink accepts (and none it accepts is missing), so the list cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SINKS", "SinkInfo", "SinkOption"]


@dataclass(frozen=True)
class SinkOption:
    name: str
    default: str
    meaning: str


@dataclass(frozen=True)
class SinkInfo:
    schemes: tuple[str, ...]
    url: str
    summary: str
    options: tuple[SinkOption, ...]


_TLS = (
    SinkOption("ca_bundle", "-", "CA bundle (PEM file) to trust instead of the system's"),
    SinkOption("insecure", "false", "do not verify the TLS certificate"),
)
_RETRY = (
    SinkOption("timeout", "30", "seconds to wait for the destination"),
    SinkOption("max_retries", "8", "retries of a failed send before giving up"),
    SinkOption("backoff_base", "0.5", "first retry delay, seconds (doubles, with jitter)"),
    SinkOption("backoff_cap", "30", "longest retry delay, seconds"),
)

SINKS: tuple[SinkInfo, ...] = (
    SinkInfo(
        schemes=("jsonl",),
        url="PATH | jsonl:PATH | -",
        summary="JSON lines: a file (fsync'ed before each checkpoint) or - for stdout",
        options=(SinkOption("rotate_bytes", "-", "start a new file after this many bytes"),),
    ),
    SinkInfo(
        schemes=("splunk-hec+https", "splunk-hec+http"),
        url="splunk-hec+https://HOST:8088[/PREFIX]?index=I&sourcetype=S",
        summary="Splunk HTTP Event Collector (token: option token or $GTA_SPLUNK_HEC_TOKEN)",
        options=(
            SinkOption("token", "$GTA_SPLUNK_HEC_TOKEN", "HEC token (env:NAME; never in the URL)"),
            SinkOption("index", "-", "Splunk index of the events"),
            SinkOption("sourcetype", "-", "sourcetype of the events"),
            SinkOption("source", "-", "source of the events"),
            SinkOption("host", "-", "host field of the events"),
            *_TLS,
            SinkOption("ack", "false", "wait for indexer acknowledgement before a checkpoint"),
            SinkOption("ack_timeout", "300", "seconds to wait for an acknowledgement"),
            SinkOption("ack_poll_interval", "10", "seconds between acknowledgement polls"),
            SinkOption("ack_resends", "3", "re-sends of a batch that was never acknowledged"),
            SinkOption("channel", "random", "HEC channel GUID (for acknowledgements)"),
            SinkOption("batch_bytes", "1000000", "largest request body, bytes"),
            SinkOption("batch_events", "1000", "most events in one request"),
            SinkOption("gzip", "true", "compress request bodies"),
            *_RETRY,
        ),
    ),
    SinkInfo(
        schemes=("syslog+tls", "syslog+tcp", "syslog+udp"),
        url="syslog+tls://HOST:6514?format=json|cef",
        summary="syslog RFC 5424 over TLS (6514), TCP (514) or UDP (514, lossy)",
        options=(
            SinkOption("format", "json", "message payload: json or cef"),
            SinkOption("facility", "local0", "facility name or number 0-23"),
            SinkOption("app_name", "gta", "APP-NAME of the messages"),
            SinkOption("hostname", "this host", "HOSTNAME of the messages"),
            *_TLS,
            SinkOption("max_message_bytes", "65536 (UDP 2048)", "longer messages are cut"),
            *_RETRY,
        ),
    ),
    SinkInfo(
        schemes=(
            "elasticsearch+https",
            "elasticsearch+http",
            "opensearch+https",
            "opensearch+http",
        ),
        url="elasticsearch+https://HOST:9200?index=NAME",
        summary="Elasticsearch / OpenSearch _bulk: create with _id = recordId (replays are 409s)",
        options=(
            SinkOption("index", "-", "index or data stream to write (required)"),
            SinkOption("api_key", "$GTA_ELASTICSEARCH_API_KEY", "API key (env:NAME or file:PATH)"),
            SinkOption("username", "$GTA_ELASTICSEARCH_USERNAME", "basic auth user"),
            SinkOption(
                "password", "$GTA_ELASTICSEARCH_PASSWORD", "basic auth password (env:/file:)"
            ),
            *_TLS,
            SinkOption("batch_bytes", "5000000", "largest request body, bytes"),
            SinkOption("batch_events", "1000", "most records in one request"),
            SinkOption("pipeline", "-", "ingest pipeline to run on each record"),
            *_RETRY,
        ),
    ),
    SinkInfo(
        schemes=("sentinel+https",),
        url="sentinel+https://DCE-HOST?dcr=dcr-ID&tenant_id=T&client_id=C[&stream=Custom-S]",
        summary="Microsoft Sentinel / Azure Monitor Logs Ingestion API (Entra ID app credentials)",
        options=(
            SinkOption("dcr", "-", "immutable id of the data collection rule (required)"),
            SinkOption(
                "stream", "by record", "DCR stream (default: Custom-Gta<Stream> per stream)"
            ),
            SinkOption("tenant_id", "-", "Entra ID tenant (required)"),
            SinkOption("client_id", "-", "Entra ID application (client) id (required)"),
            SinkOption(
                "client_secret",
                "$GTA_SENTINEL_CLIENT_SECRET",
                "app secret: env:NAME, file:PATH or keyring:SERVICE:USER; never in the URL",
            ),
            SinkOption("authority_host", "login.microsoftonline.com", "Entra ID token host"),
            SinkOption("scope", "https://monitor.azure.com//.default", "token scope"),
            SinkOption("ca_bundle", "-", "CA bundle (PEM file) to trust instead of the system's"),
            SinkOption("gzip", "true", "compress request bodies"),
            SinkOption("batch_bytes", "1000000", "largest request body before gzip, bytes"),
            SinkOption("batch_records", "5000", "most rows in one request"),
            *_RETRY,
        ),
    ),
)
