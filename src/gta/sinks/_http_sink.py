"""What the HTTP sinks (Splunk HEC, Elasticsearch, Sentinel) share: the httpx client built with
the sink's TLS settings, the ``rejected`` count of the ``Sink`` protocol, a batch bounded by
bytes and count, and ``close`` (flush, then release the client, once)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from gta.sinks._base import Record
from gta.sinks._tls import http_verify

Item = tuple[Record, bytes]  # (record, its encoded bytes)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The reply's JSON object, or ``{}`` for any other body (a proxy's HTML page, a list)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _printable(value: Any, limit: int = 300) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(value))[:limit]


class HttpSink:
    """Base of the HTTP sinks: a subclass sets ``name`` and implements ``_encode`` (one record's
    bytes) and ``_send_batch``, or overrides ``write`` and ``flush``."""

    name: str

    def __init__(
        self,
        label: str,
        log: logging.Logger,
        *,
        base_url: str,
        verify: bool | str,
        timeout: float,
        transport: httpx.BaseTransport | None,
        headers: dict[str, str] | None = None,
        batch_bytes: int = 0,
        batch_items: int = 0,
        in_clear: str | None = None,
    ) -> None:
        """``in_clear``: what travels unencrypted over plain http (warned about once)."""
        self._label, self._log = label, log
        if in_clear and base_url.startswith("http://"):
            log.warning("%s over plain http: %s travel unencrypted", label, in_clear)
        if verify is False:
            log.warning("%s TLS certificate verification is OFF (insecure=true)", label)
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            verify=http_verify(label, verify),
            timeout=timeout,
            transport=transport,
        )
        self._batch: list[Item] = []
        self._batch_size = 0
        self._batch_bytes, self._batch_items = batch_bytes, batch_items
        self.rejected = 0
        self.rejected_ids: list[str] = []
        self._closed = False

    # -- the Sink protocol -------------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            self._add(record, self._encode(record))

    def flush(self) -> None:
        if self._batch:
            self._send_batch()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._client.close()

    def __enter__(self) -> HttpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- batching ------------------------------------------------------------------------------
    def _add(self, record: Record, data: bytes) -> None:
        """Buffer one encoded record; the batch goes first when it would grow past a limit."""
        if self._batch and (
            self._batch_size + len(data) > self._batch_bytes
            or len(self._batch) >= self._batch_items
        ):
            self._send_batch()
        self._batch.append((record, data))
        self._batch_size += len(data)

    def _take_batch(self) -> list[Item]:
        batch, self._batch, self._batch_size = self._batch, [], 0
        return batch

    def _encode(self, record: Record) -> bytes:
        raise NotImplementedError

    def _send_batch(self) -> None:
        raise NotImplementedError

    def _reject(self, record: Record, detail: str) -> None:
        """Count and log a record the destination refuses alone: re-sending cannot help."""
        rid = _printable(record.get("recordId", "?"))
        self.rejected += 1
        self.rejected_ids.append(rid)
        self._log.error("%s rejected record %s (%s); dropped as undeliverable",
                        self._label, rid, detail)  # fmt: skip
