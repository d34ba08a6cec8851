"""The sinks gta ships, each one :class:`~gta.sinks.SinkSpec`, registered exactly as a third
party's would be (``gta.sinks._spec``). Only names and options models load here; a sink's own
module loads in its ``open`` and ``check``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gta.sinks._base import Sink
from gta.sinks._es_config import SCHEMES as ES_SCHEMES
from gta.sinks._es_config import EsOptions, open_es
from gta.sinks._hec_config import TOKEN_ENV, HecOptions, hec_destination, open_hec
from gta.sinks._options import PositiveInt, SinkOptions, option
from gta.sinks._sentinel_config import SentinelOptions, open_sentinel_sink
from gta.sinks._spec import Check, SinkSpec
from gta.sinks._syslog_config import SyslogOptions, open_syslog_sink, syslog_destination

__all__ = ["BUILTIN_SPECS", "JsonlOptions"]


class JsonlOptions(SinkOptions):
    """The options of a JSON lines file."""

    rotate_bytes: PositiveInt | None = option(None, "start a new file after this many bytes")


def _open_jsonl(url: str, options: dict[str, Any]) -> Sink:
    from gta.sinks._jsonl import open_jsonl

    return open_jsonl(url, options)


def _jsonl_destination(url: str, options: Mapping[str, Any]) -> str | None:
    """The file's absolute path with symlinks resolved; ``None`` for stdout."""
    target = url[len("jsonl:") :] if url.startswith("jsonl:") else url
    if target == "-" or not target:
        return None
    return "file:" + os.path.realpath(os.path.expanduser(target))


def _check_hec(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._check import check_hec

    return check_hec(url, options)


def _check_syslog(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._check import check_syslog

    return check_syslog(url, options)


def _check_es(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._es_check import check_elasticsearch

    return check_elasticsearch(url, options)


def _check_sentinel(url: str, options: dict[str, Any]) -> list[Check]:
    from gta.sinks._sentinel_check import check_sentinel

    return check_sentinel(url, options)


BUILTIN_SPECS = (
    SinkSpec(
        name="jsonl",
        schemes=("jsonl",),
        summary="JSON lines: a file (fsync'ed before each checkpoint) or - for stdout",
        url="PATH | jsonl:PATH | -",
        options=JsonlOptions,
        open=_open_jsonl,
        destination_key=_jsonl_destination,
        path_scheme=True,
    ),
    SinkSpec(
        name="splunk-hec",
        schemes=("splunk-hec+https", "splunk-hec+http"),
        summary=f"Splunk HTTP Event Collector (token: option token or ${TOKEN_ENV})",
        url="splunk-hec+https://HOST:8088[/PREFIX]?index=I&sourcetype=S",
        options=HecOptions,
        open=open_hec,
        check=_check_hec,
        destination_key=hec_destination,
    ),
    SinkSpec(
        name="syslog",
        schemes=("syslog+udp", "syslog+tcp", "syslog+tls"),
        summary="syslog RFC 5424 over TLS (6514), TCP (514) or UDP (514, lossy)",
        url="syslog+tls://HOST:6514?format=json|cef",
        options=SyslogOptions,
        open=open_syslog_sink,
        check=_check_syslog,
        destination_key=syslog_destination,
    ),
    SinkSpec(
        name="elasticsearch",
        schemes=ES_SCHEMES,
        summary="Elasticsearch / OpenSearch _bulk: create with _id = recordId (replays are 409s)",
        url="elasticsearch+https://HOST:9200?index=NAME",
        options=EsOptions,
        open=open_es,
        check=_check_es,
    ),
    SinkSpec(
        name="sentinel",
        schemes=("sentinel+https",),
        summary="Microsoft Sentinel / Azure Monitor Logs Ingestion API (Entra ID app credentials)",
        url="sentinel+https://DCE-HOST?dcr=dcr-ID&tenant_id=T&client_id=C[&stream=Custom-S]",
        options=SentinelOptions,
        open=open_sentinel_sink,
        check=_check_sentinel,
    ),
)
