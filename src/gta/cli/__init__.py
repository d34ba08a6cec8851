"""The ``gta`` command line."""

from __future__ import annotations

import os
import sys
import traceback

import typer
from typer.exceptions import TyperException

from gta._text import visible
from gta.cli._app import app
from gta.cli._errors import CommandError, UsageError
from gta.errors import GtaError
from gta.sinks import SinkError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run ``gta``: map every failure to one line on stderr and an exit code (0, 1, 2)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Without standalone mode click returns (not raises) the code of ``typer.Exit(n)``.
        result = app(args=args, prog_name="gta", standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        sys.exit(1)
    except TyperException as exc:  # click's usage errors (typer vendors click since 0.29)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"error: {exc}\n")
        sys.exit(getattr(exc, "exit_code", 2))
    except BrokenPipeError:
        _reader_went_away()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except UsageError as exc:
        _fail(exc, 2, debug)
    except (CommandError, GtaError, SinkError, OSError) as exc:
        _fail(exc, 1, debug)


def _fail(exc: BaseException, code: int, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc)
    from gta.cli._profile import explain_failure

    message = (str(exc) or type(exc).__name__).splitlines()[0]
    if hint := explain_failure(exc):
        message += f" ({hint})"
    # An error may quote a server (a problem detail, an alert id): shown, never obeyed.
    sys.stderr.write(f"error: {visible(message)}\n")
    sys.exit(code)


def _reader_went_away() -> None:
    """stdout's reader closed the pipe (``gta alerts list | head``): it has what it wanted.

    Exit 0 without a word, and point stdout at /dev/null so the interpreter's final flush does
    not fail again. A command that must deliver everything (``gta export -o -``) meets the broken
    pipe inside its sink, which reports it as a failure before it gets here.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass
    sys.exit(0)
