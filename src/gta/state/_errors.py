"""The state errors: every failure of a state store leaves it as one of these, one line each.

::

    StateError            the state cannot be used (unreachable, foreign, unwritable, full)
    └── LeaseHeldError    another live run holds the lease (of a stream or a destination)
        └── LeaseLostError  our lease was taken over: this run must not move a cursor
"""

from __future__ import annotations

from gta.errors import GtaError


class StateError(GtaError):
    """The state cannot be used (corrupt, foreign, unwritable, full); nothing was changed."""


class LeaseHeldError(StateError):
    """Another live run holds the lease (of a stream or of a destination)."""


class LeaseLostError(LeaseHeldError):
    """Our lease was taken over (expired, unlocked, reset): this run must not move a cursor."""
