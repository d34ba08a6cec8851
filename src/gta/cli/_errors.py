"""How the command line turns failures into one clear line and an exit code.

Exit codes: 0 ok, 1 an operation failed (API, sink, state), 2 usage error (bad flag,
bad config, bad input). A traceback is shown only with ``--debug``.
"""

from __future__ import annotations


class UsageError(Exception):
    """The user asked for something malformed; exit code 2, nothing was changed."""


class CommandError(Exception):
    """An operation failed for a reason the user can act on; exit code 1."""
