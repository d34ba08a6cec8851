"""The sync engine: streams -> enrichment -> formats -> sinks -> checkpoints.

See docs/sync.md for the guarantees (no loss, bounded duplicates, bounded memory) and how each
is kept; ``gta export``/``gta sync``/``gta demo`` are thin shells over ``run_job``.
"""

from gta.sync._alert_cursor import AlertCursor, CursorFormatError
from gta.sync._config import ConfigError, JobConfig, SyncConfig, TenantConfig, load_config
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
from gta.sync._leases import DEFAULT_LEASE_TTL_S
from gta.sync._memory import sync_tuning
from gta.sync._state import (
    Checkpoint,
    CheckpointStore,
    LeaseHeldError,
    LeaseInfo,
    LeaseLostError,
    StateError,
    default_state_path,
)
from gta.sync._streams import STREAM_NAMES, FetchedPage, Stream, UnknownStreamError, get_stream

__all__ = [
    "ACTIVITY",
    "DEFAULT_LEASE_TTL_S",
    "DEMO_SEED",
    "STREAM_NAMES",
    "AlertCursor",
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
    "NullReporter",
    "PageContext",
    "Reporter",
    "StateError",
    "Stream",
    "StreamResult",
    "SyncConfig",
    "TenantConfig",
    "UnknownStreamError",
    "default_state_path",
    "describe_gaps",
    "expand_streams",
    "export_job_name",
    "get_stream",
    "load_config",
    "prefetch",
    "prepare_demo_dir",
    "run_job",
    "run_stream",
    "sync_demo_streams",
    "sync_tuning",
]
