"""Splunk HTTP Event Collector sink: batched JSON envelopes over HTTPS, with optional indexer
acknowledgement.

What "delivered" means here (the engine commits only after ``flush`` returns):

- HTTP 200 for the batch, and, with ``ack=true``, ``true`` for its ``ackId`` from
  ``/services/collector/ack``. A batch whose ack does not come within ``ack_timeout`` is sent
  again (same records, same ``recordId``), so duplicates are bounded by the unacked batches.
- HEC answers 400 with ``invalid-event-number: k`` after indexing the events before ``k``. We
  report record ``k`` as undeliverable (log line + ``rejected`` counter), drop it, and send only
  the events after it: re-sending the prefix would duplicate it, retrying ``k`` would stall.
- 503 (server busy), other 5xx, 429 and network errors are retried with capped exponential
  backoff and full jitter; the sleep and the randomness are injectable so tests never wait.
- 401/403 and the HEC token codes stop at once with ``SinkConfigError``: retrying cannot help.
"""

from __future__ import annotations

import gzip as gzip_module
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson

from gta.sinks._base import Record, SinkConfigError, SinkError
from gta.sinks._hec_config import METADATA_KEYS, TOKEN_ENV, HecConfig, parse_hec_url
from gta.sinks._http_sink import HttpSink
from gta.sinks._retrying import Backoff, Verdict, deliver, done, next_part, retry, split

log = logging.getLogger("gta.sinks.splunk_hec")

EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
HEALTH_PATH = "/services/collector/health"

# fmt: off
# HEC status codes that mean "this configuration cannot work" (HEC docs, status code table).
_TOKEN_CODES = {1: "token disabled", 2: "token required", 3: "invalid authorization",
                4: "invalid token"}
_CONFIG_CODES = {7: "incorrect index", 10: "data channel is missing",
                 11: "invalid data channel", 14: "ACK is disabled",
                 16: "query string authorization is not enabled"}
# Timestamp fields, in order of preference, that say when the object itself happened.
_TIME_KEYS = ("eventDetectedAt", "detectedAt", "triggeredAt", "timeStamp", "modifiedAt",
              "indexTime")
# fmt: on


def event_time(record: Record) -> float | None:
    """Epoch seconds (millisecond precision) of the object's own timestamp, for HEC ``time``.

    OCSF records carry ``time`` in epoch milliseconds; the other formats carry RFC 3339 fields.
    """
    ocsf_time = record.get("time")
    if isinstance(ocsf_time, int) and not isinstance(ocsf_time, bool):
        return round(ocsf_time / 1000.0, 3)
    for key in _TIME_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return round(parsed.timestamp(), 3)
    return None


def _hec_body(response: httpx.Response) -> tuple[int | None, str, dict[str, Any]]:
    """(code, text, body) of a HEC reply; tolerant of non-JSON bodies from proxies."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200], {}
    if not isinstance(body, dict):
        return None, str(body)[:200], {}
    code = body.get("code")
    return (code if isinstance(code, int) else None), str(body.get("text", "")), body


Batch = list[tuple[Record, bytes]]


class SplunkHecSink(HttpSink):
    """Sends records to ``/services/collector/event``; see the module docstring for guarantees."""

    def __init__(
        self,
        config: HecConfig,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._sleep, self._clock = sleep, clock
        self._retry = Backoff("splunk-hec", log, config.max_retries, config.backoff_base,
                              config.backoff_cap, sleep, rand)  # fmt: skip
        self._untrusted = (
            f"splunk-hec TLS certificate of {config.base_url} is not trusted; set "
            "ca_bundle to the CA that signed it"
        )
        headers = {"Authorization": f"Splunk {token}", "X-Splunk-Request-Channel": config.channel}
        super().__init__(
            "splunk-hec",
            log,
            base_url=config.base_url,
            verify=config.verify,
            timeout=config.timeout,
            transport=transport,
            headers=headers,
            batch_bytes=config.batch_bytes,
            batch_items=config.batch_events,
            in_clear="the token and records",
        )
        self.name = f"splunk-hec {config.base_url}"
        self._unacked: dict[int, Batch] = {}
        self.sent_events = 0

    def __repr__(self) -> str:
        return f"SplunkHecSink(base_url={self.config.base_url!r}, index={self.config.index!r})"

    # -- the Sink protocol -------------------------------------------------------------------
    def flush(self) -> None:
        super().flush()
        if self.config.ack:
            self._await_acks()

    # -- sending -----------------------------------------------------------------------------
    def _encode(self, record: Record) -> bytes:
        envelope: dict[str, Any] = {}
        when = event_time(record)
        if when is not None:
            envelope["time"] = when
        for key in METADATA_KEYS:
            value = getattr(self.config, key)
            if value is not None:
                envelope[key] = value
        envelope["event"] = record
        return orjson.dumps(envelope)

    def _send_batch(self) -> None:
        self._post_events(self._take_batch())

    def _post_events(self, batch: Batch) -> None:
        """Deliver ``batch`` (retrying, trimming the bad event of a partial failure); with acks
        on, remember it under its ackId until the ack arrives."""
        deliver(batch, self._post, self._answer, self._retry, untrusted=self._untrusted)

    def _post(self, batch: Batch) -> httpx.Response:
        body = b"".join(envelope for _, envelope in batch)
        headers = {"Content-Type": "application/json"}
        if self.config.gzip:
            body = gzip_module.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        return self._client.post(EVENT_PATH, content=body, headers=headers)

    def _answer(self, batch: Batch, response: httpx.Response) -> Verdict[tuple[Record, bytes]]:
        status = response.status_code
        code, text, reply = _hec_body(response)
        if status == 200:
            self.sent_events += len(batch)
            ack_id = reply.get("ackId")
            if self.config.ack:
                if not isinstance(ack_id, int):
                    raise SinkConfigError(
                        "splunk-hec: ack=true but HEC returned no ackId; enable indexer "
                        "acknowledgement on the token or set ack=false"
                    )
                self._unacked[ack_id] = batch
            return done()
        self._raise_for_config(status, code, text)
        bad = reply.get("invalid-event-number")
        if status == 400 and isinstance(bad, int) and 0 <= bad < len(batch):
            self.sent_events += bad
            self._reject(batch[bad][0], f"code {code}: {text}")
            return next_part(batch[bad + 1 :])
        if status == 413 and len(batch) > 1:
            return split()
        if status == 413 or (status == 400 and len(batch) == 1):
            self._reject(batch[0][0], f"code {code}: {text}")
            return done()
        if status == 429 or status >= 500:
            return retry(f"HTTP {status} code {code}: {text}", response)
        raise SinkError(f"splunk-hec rejected a batch: HTTP {status}, code {code}: {text}")

    def _raise_for_config(self, status: int, code: int | None, text: str) -> None:
        if status in (401, 403) or code in _TOKEN_CODES:
            what = _TOKEN_CODES.get(code or 0, text or "forbidden")
            raise SinkConfigError(
                f"splunk-hec refused the token (HTTP {status}, code {code}: {what}); check the "
                f"token option or {TOKEN_ENV}"
            )
        if code in _CONFIG_CODES:
            raise SinkConfigError(
                f"splunk-hec configuration error (HTTP {status}, code {code}: "
                f"{_CONFIG_CODES[code]})"
            )
        if status == 404:
            raise SinkConfigError(f"splunk-hec endpoint not found at {self.config.base_url}")

    # -- indexer acknowledgement ---------------------------------------------------------------
    def _await_acks(self) -> None:
        """Poll until every sent batch is acked; re-send batches whose ack timed out (at most
        ``ack_resends`` times, each followed by a full wait)."""
        resends = 0
        while True:
            deadline = self._clock() + self.config.ack_timeout
            while self._unacked:
                for ack_id in self._poll_acks(sorted(self._unacked)):
                    self._unacked.pop(ack_id, None)
                if not self._unacked or self._clock() >= deadline:
                    break
                self._sleep(self.config.ack_poll_interval)
            if not self._unacked:
                return
            if resends >= self.config.ack_resends:
                raise SinkError(
                    f"splunk-hec: {len(self._unacked)} batch(es) still unacknowledged after "
                    f"{resends} re-send(s)"
                )
            resends += 1
            late, self._unacked = self._unacked, {}
            log.warning(
                "splunk-hec: %d batch(es) not acknowledged within %.0fs; sending again "
                "(same record ids)",
                len(late),
                self.config.ack_timeout,
            )
            for batch in late.values():
                self._post_events(batch)

    def _poll_acks(self, ack_ids: list[int]) -> list[int]:
        acked: list[int] = []

        def post(_: list[int]) -> httpx.Response:
            return self._client.post(
                ACK_PATH, params={"channel": self.config.channel}, json={"acks": ack_ids}
            )

        def answer(_: list[int], response: httpx.Response) -> Verdict[int]:
            code, text, reply = _hec_body(response)
            status = response.status_code
            if status == 200:
                acks = reply.get("acks", {})
                acked.extend(int(k) for k, v in acks.items() if v is True and str(k).isdigit())
                return done()
            self._raise_for_config(status, code, text)
            if status == 429 or status >= 500:
                return retry(f"ack poll HTTP {status}", response)
            raise SinkError(f"splunk-hec ack poll failed: HTTP {status}: {text}")

        deliver(ack_ids, post, answer, self._retry, untrusted=self._untrusted)
        return acked


def open_splunk_hec(url: str, options: dict[str, Any]) -> SplunkHecSink:
    """Registry factory for ``splunk-hec+https://`` and ``splunk-hec+http://`` URLs."""
    config, token = parse_hec_url(url, options)
    if not token:
        raise SinkConfigError(f"splunk-hec needs a token: set the 'token' option or {TOKEN_ENV}")
    return SplunkHecSink(config, token)
