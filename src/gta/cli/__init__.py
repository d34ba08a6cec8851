"""The ``gta`` command line."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Iterator

import typer
from typer.exceptions import TyperException

from gta._text import visible
from gta.cli._app import app
from gta.cli._errors import Interrupted, exit_code

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run ``gta``: map every failure to one line on stderr and an exit code (0, 1, 2): the
    table ``gta.cli._errors.EXIT_CODES``."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Without standalone mode click returns (not raises) the code of ``typer.Exit(n)``.
        with _httpx_without_its_command_line():
            result = app(args=args, prog_name="gta", standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit as exc:
        # Rich (console.on_broken_pipe) and Typer turn a broken pipe into a bare exit 1 before
        # we see the error; the BrokenPipeError is still its context, or the pipe shows it.
        broken = isinstance(exc.__context__, BrokenPipeError) or _reader_closed(sys.stdout)
        if exc.code == 1 and broken:
            _reader_went_away()
        raise
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
    except Interrupted as exc:
        from gta.cli._logging import log_failure

        if str(exc) and not log_failure(str(exc), None):
            sys.stderr.write(f"{exc}\n")
        _exit_leaving_requests(exc.code)
    except Exception as exc:
        code = exit_code(exc)
        if code is None:  # a bug: its traceback is what a report needs
            raise
        _fail(exc, code, debug)


@contextlib.contextmanager
def _httpx_without_its_command_line() -> Iterator[None]:
    """Let a command import httpx without httpx's own command line (``httpx._main``).

    httpx's ``__init__`` imports its CLI whenever click, pygments and rich are installed (uvicorn
    needs click, rich needs pygments), some 20 ms of a command's start-up for code gta never
    runs. ``None`` in ``sys.modules`` is the import system's documented "cannot be imported"
    entry: httpx then loads as it does when installed without its ``cli`` extra, and its own
    fallback ``httpx.main`` says how to install that extra. Only when this command is the first
    to import httpx; the entry is removed when the command ends, so ``import httpx._main``
    works again afterwards.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        yield
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if "httpx._main" in sys.modules and sys.modules["httpx._main"] is None:
            del sys.modules["httpx._main"]


def _fail(exc: BaseException, code: int, debug: bool) -> None:
    from gta.cli._logging import log_failure
    from gta.cli._profile import explain_failure

    message = (str(exc) or type(exc).__name__).splitlines()[0]
    if hint := explain_failure(exc):
        message += f" ({hint})"
    # An error may quote a server (a problem detail, an alert id): shown, never obeyed (JSON
    # escapes control characters itself).
    if log_failure(f"error: {message}", exc if debug else None):  # --log-format json
        sys.exit(code)
    if debug:
        import traceback

        traceback.print_exception(exc)
    sys.stderr.write(f"error: {visible(message)}\n")
    sys.exit(code)


def _exit_leaving_requests(code: int) -> None:
    """Exit now, even while a worker thread still waits for a slow answer.

    Everything that matters is done: the delivered records are flushed and their checkpoint
    committed. Python would join the lookup pool's threads at exit, so a request in flight could
    hold the exit for as long as its deadline; a stop must take at most a moment."""
    lingering = [
        t for t in threading.enumerate()
        if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]  # fmt: skip
    if not lingering:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _reader_closed(stream: object) -> bool:
    """True when *stream* is a pipe whose reader has gone (poll reports an error on it)."""
    try:
        descriptor = stream.fileno()  # type: ignore[attr-defined]
        poller = select.poll()
        poller.register(descriptor, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # not a real file, or no poll (Windows)
        return False


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
