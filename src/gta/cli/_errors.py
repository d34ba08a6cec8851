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
    a complete run; code 0 for a service stopped by SIGTERM (its line already said so). Either
    way the process exits without waiting for a request a stop left behind."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# The one mapping from an error to its exit code, first match wins: (package, class, code).
# Usage errors (the input cannot work; nothing was changed) exit 2, failures exit 1. A class is
# looked up only once its package is loaded: an exception cannot exist before its class, and
# importing the packages here would cost every command their start-up.
EXIT_CODES: tuple[tuple[str, str, int], ...] = (
    ("gta.cli._errors", "UsageError", 2),
    ("gta.sinks", "SinkConfigError", 2),
    ("gta.sync", "ConfigError", 2),
    ("gta.sync", "UnknownStreamError", 2),
    ("gta.sync", "CursorFormatError", 2),
    ("gta.sync", "MetricsAddressError", 2),
    ("gta.sync", "DemoDirError", 2),
    ("gta.formats", "UnknownFormatError", 2),
    ("gta._secrets", "SecretError", 2),
    ("gta.cli._errors", "CommandError", 1),
    ("gta.errors", "GtaError", 1),
    ("builtins", "OSError", 1),
)


def exit_code(exc: BaseException) -> int | None:
    """The exit code of an error shown as one line (``EXIT_CODES``); ``None`` for a bug."""
    import sys

    for package, name, code in EXIT_CODES:
        module = sys.modules.get(package)
        kind = getattr(module, name, None) if module is not None else None
        if isinstance(kind, type) and isinstance(exc, kind):
            return code
    return None
