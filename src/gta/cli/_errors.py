"""How the command line turns failures into one clear line and an exit code.

Exit codes: 0 ok, 1 an operation failed (API, sink, state), 2 usage error (bad flag,
bad config, bad input). A traceback is shown only with ``--debug``.
"""

from __future__ import annotations


class UsageError(Exception):
    """The user asked for something malformed; exit code 2, nothing was changed."""


class CommandError(Exception):
    """An operation failed for a reason the user can act on; exit code 1."""


class Interrupted(Exception):
    """A run stopped by a signal after committing what it delivered; exit ``128 + signum``
    (130 for SIGINT, 143 for SIGTERM), the shell's convention, so a script never takes it for
    a complete run."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
