"""The contract every sink fulfils, and the rule the sync engine builds on.

A sink receives batches of records (plain JSON-able dicts made by ``gta.formats``).
``write`` may buffer; ``flush`` returns only when every record written so far is
durable at the destination (file: written and fsync'ed; Splunk HEC: HTTP 200, and
the indexer acknowledgement when enabled; syslog over TCP/TLS: written to the
socket and flushed). The engine commits a checkpoint only after ``flush`` returned,
so a sink that returns early from ``flush`` breaks the no-loss guarantee.

A sink raises ``SinkError`` (or a subclass) when it cannot deliver; it must not
swallow a failure. A record the destination refuses alone (a mapping error, an event HEC
rejects by number) cannot be helped by a re-send: the sink drops it, logs its ``recordId`` and
counts it in ``rejected``, so the checkpoint still moves and the run reports the count.
``SinkConfigError`` means retrying cannot help (bad token,
unwritable path): the engine stops without committing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable
from urllib.parse import SplitResult, urlsplit

from gta._types import Record
from gta.errors import GtaError, InputError

__all__ = ["Record", "Sink", "SinkConfigError", "SinkError"]


class SinkError(GtaError):
    """A sink could not deliver; nothing after the last flush may be assumed delivered."""


class SinkConfigError(SinkError, InputError):
    """A sink is misconfigured (bad URL, token, path): retrying will not help."""


@runtime_checkable
class Sink(Protocol):
    """Destination of records. Used as a context manager by the engine."""

    name: str
    #: Records dropped so far as undeliverable (refused alone by the destination); 0 for a
    #: sink that never drops one.
    rejected: int

    def write(self, records: Sequence[Record]) -> None:
        """Accept records; may buffer them."""

    def flush(self) -> None:
        """Return only once everything written so far is durable at the destination."""

    def close(self) -> None:
        """Flush what is pending and release resources."""


def split_sink_url(url: str) -> SplitResult:
    """``urlsplit`` for a sink URL, with every parse failure as one ``SinkConfigError``.

    ``urlsplit`` raises ``ValueError`` for a bracket left open (``https://[::1``) and ``.port``
    for a port that is not a number in 0-65535; both are user mistakes, not crashes. The port
    is read here once so later reads of ``.port`` cannot raise.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        what = "port" if "port" in str(exc).lower() else "sink URL"
        raise SinkConfigError(f"invalid {what} in the sink URL: {exc}") from None
    return parts
