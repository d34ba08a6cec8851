"""The sync engine: streams -> enrichment -> formats -> sinks -> checkpoints.

See docs/sync.md for the guarantees (no loss, bounded duplicates, bounded memory) and how each
is kept; ``gta export``/``gta sync``/``gta demo`` are thin shells over ``run_job``.
"""

from typing import TYPE_CHECKING

from gta.state import (
    DEFAULT_LEASE_TTL_S,
    Checkpoint,
    CheckpointStore,
    LeaseHeldError,
    LeaseInfo,
    LeaseLostError,
    StateError,
    default_state_path,
)
from gta.sync._alert_cursor import AlertCursor, CursorFormatError
from gta.sync._config import (
    MAX_CONCURRENCY,
    ConfigError,
    JobConfig,
    SyncConfig,
    TenantConfig,
    check_lease_ttl,
    load_config,
    parse_interval,
)
from gta.sync._cursors import AlertTimeCursor, FetchedPage, MsnCursor, scan_alerts
from gta.sync._demo import (
    ACTIVITY,
    DEMO_SEED,
    DemoBackend,
    DemoDirError,
    prepare_demo_dir,
    sync_demo_streams,
)
from gta.sync._engine import (
    NullReporter,
    Reporter,
    StreamResult,
    describe_gaps,
    prefetch,
    run_stream,
)
from gta.sync._enrich import Enricher, LruCache, PageContext
from gta.sync._jobs import DestinationLeases, Job, expand_streams, export_job_name, run_job
from gta.sync._memory import sync_tuning
from gta.sync._schedule import run_schedule
from gta.sync._sdk import SyncClient
from gta.sync._streams import (
    STREAM_NAMES,
    STREAMS,
    Stream,
    StreamSpec,
    UnknownStreamError,
    get_stream,
    has_alert_cursor,
)
from gta.sync._workers import (
    MAX_WORKER_ID,
    WORKERS_JOB,
    CommitLog,
    Unit,
    Worker,
    check_worker_config,
    shared_destination,
    units_of,
)

__all__ = [
    "ACTIVITY",
    "DEFAULT_LEASE_TTL_S",
    "DEMO_SEED",
    "MAX_CONCURRENCY",
    "MAX_WORKER_ID",
    "STREAMS",
    "STREAM_NAMES",
    "WORKERS_JOB",
    "AlertCursor",
    "AlertTimeCursor",
    "Checkpoint",
    "CheckpointStore",
    "CommitLog",
    "ConfigError",
    "CursorFormatError",
    "DemoBackend",
    "DemoDirError",
    "DestinationLeases",
    "Enricher",
    "FetchedPage",
    "Job",
    "JobConfig",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "LruCache",
    "MetricsAddressError",
    "MetricsServer",
    "MsnCursor",
    "NullReporter",
    "PageContext",
    "Reporter",
    "StateError",
    "Stream",
    "StreamResult",
    "StreamSpec",
    "SyncClient",
    "SyncConfig",
    "SyncMetrics",
    "TenantConfig",
    "Unit",
    "UnknownStreamError",
    "Worker",
    "check_lease_ttl",
    "check_worker_config",
    "default_state_path",
    "describe_gaps",
    "expand_streams",
    "export_job_name",
    "get_stream",
    "has_alert_cursor",
    "is_loopback",
    "load_config",
    "parse_interval",
    "parse_metrics_address",
    "prefetch",
    "prepare_demo_dir",
    "run_job",
    "run_schedule",
    "run_stream",
    "scan_alerts",
    "shared_destination",
    "sync_demo_streams",
    "sync_tuning",
    "units_of",
]


if TYPE_CHECKING:
    from gta.sync._health import (
        MetricsAddressError,
        MetricsServer,
        is_loopback,
        parse_metrics_address,
    )
    from gta.sync._metrics import SyncMetrics

_LAZY = {
    # prometheus_client loads only when metrics are served
    "SyncMetrics": "gta.sync._metrics",
    "MetricsAddressError": "gta.sync._health",
    "MetricsServer": "gta.sync._health",
    "is_loopback": "gta.sync._health",
    "parse_metrics_address": "gta.sync._health",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
