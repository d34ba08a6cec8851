"""The sinks gta ships, each one :class:`~gta.sinks.SinkSpec` registered exactly as a third
party's would be (``gta.sinks._spec``). Each spec lives with its options model in the sink's
``_NAME_config`` module, imported the first time one of its schemes is used (so opening a HEC
sink does not build the Sentinel options); a sink's own module loads only in its ``open`` and
``check``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gta.sinks._options import PositiveInt, SinkOptions, option
from gta.sinks._spec import SinkSpec, on_call

__all__ = ["BUILTINS", "JSONL", "JsonlOptions"]

# scheme -> "module:attribute" of its spec, in the order `gta sinks list` shows them
BUILTINS: dict[str, str] = {
    "jsonl": "gta.sinks._builtins:JSONL",
    "splunk-hec+https": "gta.sinks._hec_config:SPEC",
    "splunk-hec+http": "gta.sinks._hec_config:SPEC",
    "syslog+udp": "gta.sinks._syslog_config:SPEC",
    "syslog+tcp": "gta.sinks._syslog_config:SPEC",
    "syslog+tls": "gta.sinks._syslog_config:SPEC",
    "elasticsearch+https": "gta.sinks._es_config:SPEC",
    "elasticsearch+http": "gta.sinks._es_config:SPEC",
    "opensearch+https": "gta.sinks._es_config:SPEC",
    "opensearch+http": "gta.sinks._es_config:SPEC",
    "sentinel+https": "gta.sinks._sentinel_config:SPEC",
}


class JsonlOptions(SinkOptions):
    """The options of a JSON lines file."""

    rotate_bytes: PositiveInt | None = option(None, "start a new file after this many bytes")


def _jsonl_destination(url: str, options: Mapping[str, Any]) -> str | None:
    """The file's absolute path with symlinks resolved; ``None`` for stdout."""
    target = url[len("jsonl:") :] if url.startswith("jsonl:") else url
    if target == "-" or not target:
        return None
    return "file:" + os.path.realpath(os.path.expanduser(target))


JSONL = SinkSpec(
    name="jsonl",
    schemes=("jsonl",),
    summary="JSON lines: a file (fsync'ed before each checkpoint) or - for stdout",
    url="PATH | jsonl:PATH | -",
    options=JsonlOptions,
    open=on_call("gta.sinks._jsonl:open_jsonl"),
    destination_key=_jsonl_destination,
    path_scheme=True,
)
