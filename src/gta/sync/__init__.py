"""The sync engine: streams -> enrichment -> formats -> sinks -> checkpoints.

See docs/sync.md for the guarantees (no loss, bounded duplicates, bounded memory) and how each
is kept; ``gta export``/``gta sync``/``gta demo`` are thin shells over ``run_job``.
"""

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
from gta.sync._config import ConfigError, JobConfig, SyncConfig, TenantConfig, load_config
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
from gta.sync._jobs import Job, expand_streams, export_job_name, run_job
from gta.sync._memory import sync_tuning
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

__all__ = [
    "ACTIVITY",
    "DEFAULT_LEASE_TTL_S",
    "DEMO_SEED",
    "STREAMS",
    "STREAM_NAMES",
    "AlertCursor",
    "AlertTimeCursor",
    "Checkpoint",
    "CheckpointStore",
    "ConfigError",
    "CursorFormatError",
    "DemoBackend",
    "DemoDirError",
    "Enricher",
    "FetchedPage",
    "Job",
    "JobConfig",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "LruCache",
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
    "TenantConfig",
    "UnknownStreamError",
    "default_state_path",
    "describe_gaps",
    "expand_streams",
    "export_job_name",
    "get_stream",
    "has_alert_cursor",
    "load_config",
    "prefetch",
    "prepare_demo_dir",
    "run_job",
    "run_stream",
    "scan_alerts",
    "sync_demo_streams",
    "sync_tuning",
]
