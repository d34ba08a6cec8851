"""How the command line turns failures into one clear line and an exit code.

Exit codes: 0 ok, 1 an operation failed (API, sink, state), 2 usage error (bad flag,
bad config, bad input): one table, ``EXIT_CODES``. A traceback is shown only with ``--debug``.
"""

from __future__ import annotations

from gta.errors import GtaError, InputError


class UsageError(Exception):
    """The user asked for something malformed; exit code 2, nothing was changed."""


class CommandError(Exception):
    """An operation failed for a reason the user can act on; exit code 1."""


class Interrupted(Exception):
    """A run stopped by a signal after committing what it delivered; exit ``128 + signum``
    (130 for SIGINT, 143 for SIGTERM), the shell's convention, so a script never takes it for
    a complete run; code 0 for a service stopped by SIGTERM (its line already said so). Either
    way the process exits without waiting for a request a stop left behind."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# The one mapping from an error to its exit code, first match wins. Usage errors (what the user
# gave cannot work; nothing was changed) exit 2, failures exit 1; anything else is a bug and
# keeps its traceback. ``gta.errors`` is a light module: importing it costs no start-up.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (UsageError, 2),
    (InputError, 2),
    (CommandError, 1),
    (GtaError, 1),
    (OSError, 1),
)


def exit_code(exc: BaseException) -> int | None:
    """The exit code of an error shown as one line (``EXIT_CODES``); ``None`` for a bug."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), None)
