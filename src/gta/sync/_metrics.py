"""Prometheus metrics and readiness of a ``gta sync`` service.

Counters come from two places: a ``Reporter`` per job (pages, records, rejects, gaps,
tombstones, cursor, freshness), and the SDK's request observers (``Transport.on_response``,
``on_retry``), which read the job and stream from the logging context (``_context``): the SDK
itself knows nothing of Prometheus. The sync loop reports each job's pass (``job_done``), which
drives readiness. Everything lives in one dedicated ``CollectorRegistry``, so two services in
one process (tests) never mix their numbers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from gta._context import current
from gta.sync._alert_cursor import AlertCursor, CursorFormatError
from gta.sync._engine import StreamResult
from gta.sync._streams import has_alert_cursor

LABELS = ("tenant", "job", "stream")
STALE_INTERVALS = 3
"""A job is not ready when it has not completed a pass for this many intervals."""

__all__ = ["STALE_INTERVALS", "JobHealth", "SyncMetrics", "status_class"]


def status_class(status: int) -> str:
    """``2xx``, ``4xx``... (an out-of-range code from a broken server is ``other``)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


@dataclass
class JobHealth:
    """What readiness knows of one job."""

    tenant: str
    job: str
    since: float  # when the service started watching it (monotonic)
    last_success: float | None = None  # monotonic
    last_success_at: datetime | None = None
    error: str | None = None  # the last pass's failure, None when it succeeded

    def problem(self, now: float, interval: float | None) -> str | None:
        if self.error is not None:
            return f"last pass failed: {self.error}"
        if interval is None:
            return None
        waited = now - (self.last_success if self.last_success is not None else self.since)
        if waited > STALE_INTERVALS * interval:
            return (
                f"no pass completed for {waited:.0f}s "
                f"(more than {STALE_INTERVALS} intervals of {interval:g}s)"
            )
        return None


class SyncMetrics:
    """The service's registry, its reporters and its readiness."""

    def __init__(
        self,
        *,
        interval: float | None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._jobs: dict[str, JobHealth] = {}
        self._msn: dict[tuple[str, str, str], float] = {}
        self._since: dict[tuple[str, str, str], float] = {}
        self._newest: dict[tuple[str, str, str], float] = {}
        self._success: dict[tuple[str, str, str], float] = {}
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

        def counter(name: str, doc: str, extra: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, (*LABELS, *extra), registry=r)

        self.delivered = counter(
            "gta_records_delivered", "Records written to the sink and confirmed by it."
        )
        self.rejected = counter(
            "gta_records_rejected", "Records the sink refused one by one as undeliverable."
        )
        self.pages = counter("gta_pages", "Pages handled (API pages and batches of tombstones).")
        self.requests = counter(
            "gta_api_requests", "API answers by status class, retried ones included.",
            ("status_class",),
        )  # fmt: skip
        self.retries = counter("gta_api_retries", "API requests retried (any cause).")
        self.gaps = counter(
            "gta_enrichment_gaps", "Parents the API did not return (enrichment incomplete).",
            ("kind",),
        )  # fmt: skip
        self.tombstones = counter("gta_tombstones", "Removed alerts delivered as tombstones.")
        self.passes = Counter(
            "gta_job_passes", "Passes of each job, by outcome (ok, failed).",
            ("tenant", "job", "outcome"), registry=r,
        )  # fmt: skip
        r.register(_StateCollector(self))

    # -- the sync loop -------------------------------------------------------------------

    def watch(self, tenant: str, job: str) -> None:
        """A job the service runs: readiness counts its silence from now."""
        with self._lock:
            self._jobs.setdefault(job, JobHealth(tenant, job, since=self._monotonic()))

    def job_done(self, tenant: str, job: str, error: str | None = None) -> None:
        """One pass of ``job`` ended: successfully (``error`` None) or not."""
        self.watch(tenant, job)
        with self._lock:
            health = self._jobs[job]
            health.error = error
            if error is None:
                health.last_success = self._monotonic()
                health.last_success_at = datetime.fromtimestamp(self._wall(), UTC)
        self.passes.labels(tenant, job, "failed" if error else "ok").inc()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, a JSON body naming each job and why it is not ready)."""
        now = self._monotonic()
        with self._lock:
            jobs = list(self._jobs.values())
        rows = []
        for health in jobs:
            problem = health.problem(now, self.interval)
            last = health.last_success_at
            rows.append({
                "job": health.job,
                "tenant": health.tenant,
                "ready": problem is None,
                "reason": problem,
                "last_success": last.isoformat().replace("+00:00", "Z") if last else None,
            })  # fmt: skip
        ready = all(row["ready"] for row in rows)
        failing = [row["job"] for row in rows if not row["ready"]]
        return ready, {"status": "ready" if ready else "not ready", "failing": failing,
                       "jobs": rows}  # fmt: skip

    # -- the SDK's observers (called on whichever thread sent the request) ----------------

    def on_response(self, status: int) -> None:
        self.requests.labels(*_labels(), status_class(status)).inc()

    def on_retry(self, cause: str) -> None:
        self.retries.labels(*_labels()).inc()

    # -- the engine ----------------------------------------------------------------------

    def reporter(self, tenant: str, job: str) -> MetricsReporter:
        return MetricsReporter(self, tenant, job)

    def _cursor(self, key: tuple[str, str, str], cursor: str | None) -> None:
        if cursor is None:
            return
        if has_alert_cursor(key[2]):
            try:
                since = AlertCursor.loads(cursor).since
                value = None if since is None else datetime.fromisoformat(since).timestamp()
            except (CursorFormatError, ValueError):
                return
            if value is not None:
                with self._lock:
                    self._since[key] = value
        elif cursor.isascii() and cursor.isdigit() and len(cursor) < 20:
            with self._lock:
                self._msn[key] = float(cursor)

    def _gauges(self) -> Iterator[Metric]:
        now = self._wall()
        with self._lock:
            msn, since = dict(self._msn), dict(self._since)
            newest, success = dict(self._newest), dict(self._success)
        families = [
            ("gta_cursor_sequence_number", "The checkpoint of an MSN stream "
             "(modification sequence number).", msn),
            ("gta_alerts_cursor_timestamp_seconds", "The alerts checkpoint's since time "
             "(Unix seconds).", since),
            ("gta_last_success_timestamp_seconds", "When the stream last completed a run "
             "(Unix seconds).", success),
            ("gta_newest_delivered_timestamp_seconds", "Change time of the newest object "
             "delivered (Unix seconds).", newest),
            ("gta_freshness_lag_seconds", "Age of the newest object delivered (now minus its "
             "change time, never negative).", {k: max(0.0, now - v) for k, v in newest.items()}),
        ]  # fmt: skip
        for name, doc, values in families:
            family = GaugeMetricFamily(name, doc, labels=LABELS)
            for key, value in sorted(values.items()):
                family.add_metric(list(key), value)
            yield family


class MetricsReporter:
    """The engine's events of one job, as metrics (chain it with the progress reporter)."""

    def __init__(self, metrics: SyncMetrics, tenant: str, job: str) -> None:
        self._m = metrics
        self._tenant = tenant
        self._job = job

    def _key(self, stream: str) -> tuple[str, str, str]:
        return (self._tenant, self._job, stream)

    def stream_started(self, stream: str) -> None:
        for counter in (self._m.delivered, self._m.rejected, self._m.pages, self._m.tombstones):
            counter.labels(*self._key(stream))  # a series at 0 from the start (rate() needs it)

    def page_done(self, stream: str, fetched: int, records: int, cursor: str | None) -> None:
        key = self._key(stream)
        self._m.pages.labels(*key).inc()
        if records:
            self._m.delivered.labels(*key).inc(records)
        self._m._cursor(key, cursor)

    def page_newest(self, stream: str, newest: datetime) -> None:
        with self._m._lock:
            key = self._key(stream)
            self._m._newest[key] = max(self._m._newest.get(key, 0.0), newest.timestamp())

    def stream_done(self, result: StreamResult) -> None:
        key = self._key(result.stream)
        if result.rejected:
            self._m.rejected.labels(*key).inc(result.rejected)
        if result.tombstones:
            self._m.tombstones.labels(*key).inc(result.tombstones)
        for kind, count in result.gaps.items():
            if count:
                self._m.gaps.labels(*key, kind).inc(count)
        if not result.stopped:
            with self._m._lock:
                self._m._success[key] = self._m._wall()


class _StateCollector:
    """Gauges computed when scraped (the freshness lag grows between passes)."""

    def __init__(self, metrics: SyncMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics._gauges()


def _labels() -> tuple[str, str, str]:
    fields = current()
    return (fields.get("tenant", ""), fields.get("job", ""), fields.get("stream", ""))
