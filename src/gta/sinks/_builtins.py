"""The sinks gta ships, each one :class:`~gta.sinks.SinkSpec`, registered exactly as a third
party's would be (``gta.sinks._spec``). Only names and options models load here; a sink's own
module loads in its ``open`` and ``check``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gta.sinks._es_config import SCHEMES as ES_SCHEMES
from gta.sinks._es_config import EsOptions
from gta.sinks._hec_config import TOKEN_ENV, HecOptions, hec_destination
from gta.sinks._options import PositiveInt, SinkOptions, option
from gta.sinks._sentinel_config import SentinelOptions
from gta.sinks._spec import SinkSpec, on_call
from gta.sinks._syslog_config import SyslogOptions, syslog_destination

__all__ = ["BUILTIN_SPECS", "JsonlOptions"]


class JsonlOptions(SinkOptions):
    """The options of a JSON lines file."""

    rotate_bytes: PositiveInt | None = option(None, "start a new file after this many bytes")


def _jsonl_destination(url: str, options: Mapping[str, Any]) -> str | None:
    """The file's absolute path with symlinks resolved; ``None`` for stdout."""
    target = url[len("jsonl:") :] if url.startswith("jsonl:") else url
    if target == "-" or not target:
        return None
    return "file:" + os.path.realpath(os.path.expanduser(target))


BUILTIN_SPECS = (
    SinkSpec(
        name="jsonl",
        schemes=("jsonl",),
        summary="JSON lines: a file (fsync'ed before each checkpoint) or - for stdout",
        url="PATH | jsonl:PATH | -",
        options=JsonlOptions,
        open=on_call("gta.sinks._jsonl:open_jsonl"),
        destination_key=_jsonl_destination,
        path_scheme=True,
    ),
    SinkSpec(
        name="splunk-hec",
        schemes=("splunk-hec+https", "splunk-hec+http"),
        summary=f"Splunk HTTP Event Collector (token: option token or ${TOKEN_ENV})",
        url="splunk-hec+https://HOST:8088[/PREFIX]?index=I&sourcetype=S",
        options=HecOptions,
        open=on_call("gta.sinks._splunk_hec:open_splunk_hec"),
        check=on_call("gta.sinks._check:check_hec"),
        destination_key=hec_destination,
    ),
    SinkSpec(
        name="syslog",
        schemes=("syslog+udp", "syslog+tcp", "syslog+tls"),
        summary="syslog RFC 5424 over TLS (6514), TCP (514) or UDP (514, lossy)",
        url="syslog+tls://HOST:6514?format=json|cef",
        options=SyslogOptions,
        open=on_call("gta.sinks._syslog:open_syslog"),
        check=on_call("gta.sinks._check:check_syslog"),
        destination_key=syslog_destination,
    ),
    SinkSpec(
        name="elasticsearch",
        schemes=ES_SCHEMES,
        summary="Elasticsearch / OpenSearch _bulk: create with _id = recordId (replays are 409s)",
        url="elasticsearch+https://HOST:9200?index=NAME",
        options=EsOptions,
        open=on_call("gta.sinks._elasticsearch:open_elasticsearch"),
        check=on_call("gta.sinks._es_check:check_elasticsearch"),
    ),
    SinkSpec(
        name="sentinel",
        schemes=("sentinel+https",),
        summary="Microsoft Sentinel / Azure Monitor Logs Ingestion API (Entra ID app credentials)",
        url="sentinel+https://DCE-HOST?dcr=dcr-ID&tenant_id=T&client_id=C[&stream=Custom-S]",
        options=SentinelOptions,
        open=on_call("gta.sinks._sentinel:open_sentinel"),
        check=on_call("gta.sinks._sentinel_check:check_sentinel"),
    ),
)
