"""Where gta keeps its place: checkpoints and leases behind one ``StateStore`` protocol.

``open_state(url)`` chooses the backend: a bare path or ``sqlite:///PATH`` (SQLite, the
default), ``postgresql://...`` (PostgreSQL, ``pip install 'gta[postgres]'``). The lease rules
(time-to-live, heartbeat, fencing, takeover) live in ``CheckpointStore`` above every backend;
a backend (``StateBackend``) stores rows only. See docs/decisions/0008-state-backends.md.
"""

from gta.state._backend import Checkpoint, StateBackend, StateTx
from gta.state._errors import LeaseHeldError, LeaseLostError, StateError
from gta.state._migrate import MigrationPlan, copy_checkpoints, plan_migration
from gta.state._rules import (
    DEFAULT_LEASE_TTL_S,
    MIN_LEASE_TTL_S,
    Lease,
    LeaseInfo,
    current_identity,
    held_by_other,
)
from gta.state._sqlite_file import SCHEMA_VERSION
from gta.state._store import CheckpointStore, StateStore
from gta.state._url import (
    StateLocation,
    StateUrlError,
    default_state_path,
    open_state,
    parse_state,
    redact_state_url,
)

__all__ = [
    "DEFAULT_LEASE_TTL_S",
    "MIN_LEASE_TTL_S",
    "SCHEMA_VERSION",
    "Checkpoint",
    "CheckpointStore",
    "Lease",
    "LeaseHeldError",
    "LeaseInfo",
    "LeaseLostError",
    "MigrationPlan",
    "StateBackend",
    "StateError",
    "StateLocation",
    "StateStore",
    "StateTx",
    "StateUrlError",
    "copy_checkpoints",
    "current_identity",
    "default_state_path",
    "held_by_other",
    "open_state",
    "parse_state",
    "plan_migration",
    "redact_state_url",
]
