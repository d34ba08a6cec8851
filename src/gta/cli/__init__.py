"""The ``gta`` command line."""

from __future__ import annotations

import sys
import traceback

import click

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
        app(args=args, prog_name="gta", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("Aborted.\n")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
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
    message = str(exc) or type(exc).__name__
    sys.stderr.write(f"error: {message.splitlines()[0]}\n")
    sys.exit(code)
