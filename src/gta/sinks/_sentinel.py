"""Microsoft Sentinel sink: the Azure Monitor Logs Ingestion API (a data collection endpoint, a
data collection rule and its stream), with Entra ID client-credentials tokens.

``POST {endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01`` with a
gzip'ed JSON array of rows and ``Authorization: Bearer <token for monitor.azure.com>``.

What "delivered" means here (the engine commits only after ``flush`` returns): the service
answered 204 for every batch written so far. Each call is all-or-nothing, so:

- Batches stay within the documented 1 MB per call (uncompressed, which bounds the gzip'ed body
  too), ``batch_records`` rows, one DCR stream each.
- 400 for a batch of several rows: the batch is split in halves and each half sent again, down to
  the row the service refuses; that row is logged with its ``recordId`` and counted in
  ``rejected``, the others are delivered. 413 is handled the same way (a row alone over the limit
  is refused without a call). Only rows that were refused are ever sent twice.
- 429 and 5xx and network errors are retried, waiting ``Retry-After`` when given, else the
  client's capped full-jitter backoff (``gta.client._retry``); sleep, clock and randomness come
  from a ``Runtime`` so tests never wait.
- 401: the token is fetched again once; 403 (the app lacks "Monitoring Metrics Publisher" on the
  DCR) and 404 (no such DCR or stream) stop with ``SinkConfigError``: retrying cannot help.

Sentinel does not de-duplicate: ``recordId`` is a column, so a query can (``summarize
arg_max(TimeGenerated, *) by recordId``). Key names that are not column names (``status.value``)
become ``status_value``; see :func:`column_name`.
"""

from __future__ import annotations

import gzip as gzip_module
import logging
import re
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from gta.client import Runtime, is_retryable_status
from gta.sinks._base import Record, SinkConfigError, SinkError
from gta.sinks._entra import EntraToken, one_line, sentinel_backoff
from gta.sinks._http_sink import HttpSink
from gta.sinks._retrying import Verdict, again, deliver, done, retry
from gta.sinks._sentinel_config import (
    API_MAX_BYTES,
    API_VERSION,
    SentinelConfig,
    parse_sentinel_url,
)

log = logging.getLogger("gta.sinks.sentinel")

Batch = list[tuple[Record, bytes]]
_NOT_COLUMN = re.compile(r"[^A-Za-z0-9_]")
# 400 error codes that name the request's target, not a row: every row would be refused alike.
_CONFIG_CODES = {"InvalidStream", "InvalidDataCollectionRule", "UnsupportedApiVersion"}


def column_name(key: str) -> str:
    """A record key as a Log Analytics column name: characters other than letters, digits and
    ``_`` become ``_`` (``status.value`` -> ``status_value``)."""
    return _NOT_COLUMN.sub("_", key)


_PLAIN: set[str] = set()  # keys seen that are column names already (the common case)


def sentinel_row(record: Record) -> dict[str, Any]:
    """The row sent for ``record``: its keys as column names, values unchanged (the record
    itself when every key is a column name already: no copy on the hot path)."""
    for key in record:
        if key not in _PLAIN:
            if _NOT_COLUMN.search(key):
                return {column_name(k): v for k, v in record.items()}
            if len(_PLAIN) < 10_000:  # bounded: keys come from the API
                _PLAIN.add(key)
    return record


def _error(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of a Logs Ingestion error reply ``{"error": {"code", "message"}}``;
    tolerant of other bodies (proxies). Both are the server's text: made one short line."""
    code = response.headers.get("x-ms-error-code", "")
    try:
        body = response.json()
    except ValueError:
        return one_line(code, 100), one_line(response.text, 200)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return one_line(str(error.get("code") or code), 100), one_line(
            str(error.get("message") or ""), 300
        )
    return one_line(code, 100), one_line(str(body), 200)


class SentinelSink(HttpSink):
    """Sends rows to a DCR stream; see the module docstring for the guarantees."""

    def __init__(
        self,
        config: SentinelConfig,
        client_secret: str,
        *,
        runtime: Runtime | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._rt = runtime or Runtime()
        self._retry = sentinel_backoff(config, self._rt)
        super().__init__("sentinel", log, base_url=config.endpoint, verify=config.verify,
                         timeout=config.timeout, transport=transport)  # fmt: skip
        self.name = f"sentinel {config.endpoint} dcr={config.dcr}"
        self._token = EntraToken(config, client_secret, self._client, self._rt)
        self._batches: dict[str, Batch] = {}
        self._sizes: dict[str, int] = {}
        self.sent_records = 0
        self.requests = 0

    def __repr__(self) -> str:
        return f"SentinelSink(endpoint={self.config.endpoint!r}, dcr={self.config.dcr!r})"

    # -- the Sink protocol -------------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        limit = self.config.batch_bytes - 2  # the array's brackets
        for record in records:
            stream = self.config.stream_for(record.get("stream"))
            row = orjson.dumps(sentinel_row(record))
            if len(row) > limit:
                too_big = f"{len(row)} bytes alone, over the {limit}-byte batch limit"
                self._reject(record, f"RecordTooLarge: {too_big}")
                continue
            batch = self._batches.setdefault(stream, [])
            size = self._sizes.get(stream, 0)
            if batch and (size + 1 + len(row) > limit or len(batch) >= self.config.batch_records):
                self._send(stream)
                batch, size = self._batches.setdefault(stream, []), 0
            batch.append((record, row))
            self._sizes[stream] = size + (1 if size else 0) + len(row)

    def flush(self) -> None:
        for stream in list(self._batches):
            if self._batches[stream]:
                self._send(stream)

    # -- sending -----------------------------------------------------------------------------
    def _send(self, stream: str) -> None:
        batch = self._batches.pop(stream)
        self._sizes.pop(stream, None)
        self._post(stream, batch)

    def _post(self, stream: str, batch: Batch) -> None:
        """Deliver ``batch`` to ``stream``, or isolate and report the rows the service refuses."""
        if len(batch) > 1 and sum(len(row) + 1 for _, row in batch) + 1 > API_MAX_BYTES:
            self._split(stream, batch)  # cannot happen with our batching
            return
        renewed = False

        def post(part: Batch) -> httpx.Response:
            body = b"[" + b",".join(row for _, row in part) + b"]"
            headers = {
                "Authorization": f"Bearer {self._token.get()}",
                "Content-Type": "application/json",
            }
            if self.config.gzip:
                body = gzip_module.compress(body, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
            self.requests += 1
            return self._client.post(self.config.upload_path(stream),
                                     params={"api-version": API_VERSION},
                                     content=body, headers=headers)  # fmt: skip

        def answer(part: Batch, response: httpx.Response) -> Verdict[tuple[Record, bytes]]:
            nonlocal renewed
            status = response.status_code
            if status in (200, 204):
                self.sent_records += len(part)
                return done()
            code, message = _error(response)
            if status == 401 and not renewed:
                self._token.invalidate()
                renewed = True
                return again()
            self._raise_for_config(stream, status, code, message)
            if status in (400, 413):
                if len(part) > 1:
                    self._split(stream, part)
                else:
                    self._reject(part[0][0], f"{code}: {message}")
                return done()
            if is_retryable_status(status):
                return retry(f"HTTP {status} {code}: {message}", response)
            raise SinkError(f"sentinel refused a batch: HTTP {status} {code}: {message}")

        untrusted = (
            f"sentinel TLS certificate of {self.config.endpoint} is not trusted; set "
            "ca_bundle to the CA that signed it"
        )
        deliver(batch, post, answer, self._retry, untrusted=untrusted)

    def _split(self, stream: str, batch: Batch) -> None:
        half = len(batch) // 2
        rejected_before = self.rejected
        self._post(stream, batch[:half])
        self._post(stream, batch[half:])
        if len(batch) >= 16 and self.rejected - rejected_before == len(batch):
            # Every row refused one by one: the DCR's stream declaration does not fit the rows
            # at all (wrong format or stream), not a bad record.
            raise SinkConfigError(
                f"sentinel refused all {len(batch)} rows of a batch to {stream} one by one; "
                "check that the DCR declares this stream with the columns of this format "
                "(integrations/sentinel/)"
            )

    def _raise_for_config(self, stream: str, status: int, code: str, message: str) -> None:
        if status in (401, 403):
            raise SinkConfigError(
                f"sentinel refused the token (HTTP {status} {code}): the app needs the "
                f"'Monitoring Metrics Publisher' role on the DCR {self.config.dcr}; {message}"
            )
        if status == 404:
            raise SinkConfigError(
                f"sentinel: DCR {self.config.dcr} or stream {stream} not found at "
                f"{self.config.endpoint} (HTTP 404 {code}: {message})"
            )
        if status == 400 and code in _CONFIG_CODES:
            raise SinkConfigError(f"sentinel configuration error (HTTP 400 {code}: {message})")


def open_sentinel(url: str, options: dict[str, Any]) -> SentinelSink:
    """Registry factory for ``sentinel+https://`` URLs."""
    from gta.sinks._sentinel_config import SECRET_ENV

    config, secret = parse_sentinel_url(url, options)
    if not secret:
        raise SinkConfigError(
            f"sentinel needs the app's client secret: client_secret=env:NAME|file:PATH in the "
            f"URL, the client_secret option, or {SECRET_ENV}"
        )
    return SentinelSink(config, secret)
