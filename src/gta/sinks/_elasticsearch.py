"""Elasticsearch / OpenSearch sink: the ``_bulk`` API with plain httpx (decision 0006).

What "delivered" means here (the engine commits only after ``flush`` returns):

- Each record is a ``create`` action whose ``_id`` is the record's ``recordId``. ``create`` fails
  for an ``_id`` that exists, so a page replayed after a crash gets per-item **409**
  (``version_conflict_engine_exception``): that record is already there, so it counts as
  delivered (``already_delivered``) and is not duplicated. Data streams accept only ``create``.
- ``_bulk`` answers 200 even when items fail (``errors: true``); every item is read. 201/200:
  delivered. 429 or 5xx for an item: only those items are sent again, with backoff. Any other 4xx
  (a mapping error such as ``document_parsing_exception``): the record can never be indexed, so it
  is logged with its recordId, counted in ``rejected`` and dropped; the rest of the batch stands.
  ``index_not_found_exception`` and security errors stop the sink: the setup is wrong, not the
  record.
- A whole-request 429, 5xx or network error: the batch is sent again with backoff (the same
  ``_id``\\s, so what had landed comes back as 409). 413: the batch is split in halves.
- 401/403: ``SinkConfigError`` (bad credentials). The backoff is ``gta.client._retry``'s (full
  jitter, ``Retry-After`` honoured); sleep and randomness are injectable so tests never wait.

A record without ``@timestamp`` gets one from its own time (as the HEC ``time``), so any format can
go into a data stream, which requires that field.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from gta._time import format_rfc3339
from gta.sinks._base import Record, SinkConfigError, SinkError
from gta.sinks._es_config import API_KEY_ENV, EsAuth, EsConfig, parse_es_url
from gta.sinks._http_sink import HttpSink, Item
from gta.sinks._retrying import Backoff, Verdict, deliver, done, retry, split
from gta.sinks._splunk_hec import event_time

log = logging.getLogger("gta.sinks.elasticsearch")

BULK_PATH = "/_bulk"
NDJSON = "application/x-ndjson"
# Item errors that mean "the destination is set up wrong", not "this record is bad".
_SETUP_ERRORS = (
    "index_not_found_exception",
    "security_exception",
    "cluster_block_exception",
    "invalid_index_name_exception",
)
_REASON_MAX = 300


def _text(value: Any) -> str:
    """Server-sent text, bounded and printable, for a log line."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text[:_REASON_MAX]


def _timestamp(record: Record) -> str | None:
    when = event_time(record)
    if when is None:
        return None
    return format_rfc3339(datetime.fromtimestamp(when, UTC))


class ElasticsearchSink(HttpSink):
    """Sends records to ``POST /_bulk``; see the module docstring for the guarantees."""

    def __init__(
        self,
        config: EsConfig,
        auth: EsAuth,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._retry = Backoff(config.flavour, log, config.max_retries, config.backoff_base,
                              config.backoff_cap, sleep, rand)  # fmt: skip
        headers = {"Content-Type": NDJSON, "Accept": "application/json"}
        if auth.header:
            headers["Authorization"] = auth.header
        super().__init__(
            config.flavour,
            log,
            base_url=config.base_url,
            verify=config.verify,
            timeout=config.timeout,
            transport=transport,
            headers=headers,
            batch_bytes=config.batch_bytes,
            batch_items=config.batch_events,
            in_clear="credentials and records" if auth.header else None,
        )
        self.name = f"{config.flavour} {config.base_url}/{config.index}"
        self._action_prefix = orjson.dumps({"_index": config.index})[:-1]
        self.sent_events = 0
        self.already_delivered = 0
        self.requests = 0

    def __repr__(self) -> str:
        return f"ElasticsearchSink(base_url={self.config.base_url!r}, index={self.config.index!r})"

    # -- sending -----------------------------------------------------------------------------
    def _encode(self, record: Record) -> bytes:
        rid = record.get("recordId")
        if not isinstance(rid, str) or not rid:
            raise SinkError("elasticsearch: a record without recordId cannot be sent idempotently")
        if "@timestamp" not in record:
            stamp = _timestamp(record)
            if stamp is not None:
                record = {"@timestamp": stamp, **record}
        action = self._action_prefix + b',"_id":' + orjson.dumps(rid) + b"}"
        return b'{"create":' + action + b"}\n" + orjson.dumps(record) + b"\n"

    def _send_batch(self) -> None:
        before = self.already_delivered
        self._bulk(self._take_batch())
        replayed = self.already_delivered - before
        if replayed:
            log.warning(
                "%s: %d record(s) already delivered (409 conflict on create: sent before a "
                "restart); not indexed twice",
                self.config.flavour,
                replayed,
            )

    def _bulk(self, batch: list[Item]) -> None:
        """Deliver ``batch``: retry what the server could not take yet, drop what it never will."""
        untrusted = (
            f"{self.config.flavour} TLS certificate of {self.config.base_url} is not "
            "trusted; set ca_bundle to the CA that signed it"
        )
        deliver(batch, self._post, self._answer, self._retry, untrusted=untrusted)

    def _post(self, batch: list[Item]) -> httpx.Response:
        params = {"pipeline": self.config.pipeline} if self.config.pipeline else None
        self.requests += 1
        body = b"".join(lines for _, lines in batch)
        return self._client.post(BULK_PATH, content=body, params=params)

    def _answer(self, batch: list[Item], response: httpx.Response) -> Verdict[Item]:
        status = response.status_code
        if status == 200:
            again = self._items(batch, response)
            if again and len(again) == len(batch):
                return retry(f"all {len(again)} item(s) throttled", rest=again)
            if again:  # progress was made: the count starts again
                return retry(f"{len(again)} item(s) throttled", rest=again, reset=True)
            return done()
        reason = self._error_reason(response)
        if status in (401, 403):
            raise SinkConfigError(
                f"{self.config.flavour} refused the credentials (HTTP {status}: {reason}); "
                f"check api_key / {API_KEY_ENV} or username/password"
            )
        if status == 404:
            raise SinkConfigError(
                f"{self.config.flavour}: no _bulk endpoint at {self.config.base_url} "
                f"(HTTP 404: {reason})"
            )
        if status == 413 and len(batch) > 1:
            return split()
        if status == 413:
            self._reject(batch[0][0], f"HTTP 413 request_entity_too_large: {reason}")
            return done()
        if status == 429 or status >= 500:
            return retry(f"HTTP {status}: {reason}", response)
        raise SinkError(f"{self.config.flavour} rejected a bulk request: HTTP {status}: {reason}")

    def _items(self, batch: list[Item], response: httpx.Response) -> list[Item]:
        """Read the per-item results; return the items to send again."""
        try:
            reply = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SinkError(f"{self.config.flavour}: _bulk answered 200 without JSON") from None
        items = reply.get("items") if isinstance(reply, dict) else None
        if not isinstance(items, list) or len(items) != len(batch):
            # Without one result per action we cannot tell what landed: resend all (the _ids
            # make that safe) rather than guess.
            count = len(items) if isinstance(items, list) else "no"
            raise SinkError(
                f"{self.config.flavour}: _bulk answered {count} item result(s) for "
                f"{len(batch)} action(s)"
            )
        resend: list[Item] = []
        for item, result in zip(batch, items, strict=True):
            outcome = next(iter(result.values()), None) if isinstance(result, dict) else None
            status = outcome.get("status") if isinstance(outcome, dict) else None
            if not isinstance(status, int) or isinstance(status, bool):
                raise SinkError(f"{self.config.flavour}: _bulk item result without a status")
            if status in (200, 201):
                self.sent_events += 1
                continue
            assert isinstance(outcome, dict)
            error = outcome.get("error")
            kind = _text(error.get("type", "")) if isinstance(error, dict) else ""
            reason = _text(error.get("reason", "")) if isinstance(error, dict) else _text(error)
            if status == 409:
                self.already_delivered += 1
            elif status == 429 or status >= 500:
                resend.append(item)
            elif kind in _SETUP_ERRORS or status in (401, 403):
                raise SinkConfigError(
                    f"{self.config.flavour} cannot write to {self.config.index!r}: {kind}: {reason}"
                )
            else:
                self._reject(item[0], f"HTTP {status} {kind}: {reason}")
        return resend

    def _error_reason(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return _text(response.text[:200])
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return _text(f"{error.get('type', '')}: {error.get('reason', '')}")
        return _text(error if error is not None else body)


def open_elasticsearch(url: str, options: dict[str, Any]) -> ElasticsearchSink:
    """Registry factory for ``elasticsearch+https://`` (and ``+http``, ``opensearch+...``)."""
    config, auth = parse_es_url(url, options)
    return ElasticsearchSink(config, auth)
