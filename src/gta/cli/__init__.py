"""The ``gta`` command line."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from gta.cli._app import app
from gta.cli._errors import CommandError, UsageError

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
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except UsageError as exc:
        _fail(exc, 2, debug)
    except Exception as exc:
        if not isinstance(exc, _operational_errors()):
            raise
        _fail(exc, 1, debug)


def _operational_errors() -> tuple[type[BaseException], ...]:
    """The failures that are one line and exit 1. The SDK's and the sinks' error classes are
    looked up only if their modules were imported: an exception of a class cannot exist before
    its module is loaded, and importing them here would cost every command the SDK's start-up."""
    found: list[type[BaseException]] = [CommandError, OSError]
    for module, name in (("gta.client._exceptions", "GtaError"), ("gta.sinks._base", "SinkError")):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def _fail(exc: BaseException, code: int, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(exc)
    message = str(exc) or type(exc).__name__
    sys.stderr.write(f"error: {message.splitlines()[0]}\n")
    sys.exit(code)
