"""Logs for people (text) and for machines (JSON lines), and the service's own lines.

``--log-format json`` makes every stderr line of ``gta export``/``gta sync`` one JSON object:
``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``, and ``tenant``, ``job``, ``stream``
when known (read from the sync context, so a lookup on a worker thread still names its job).
The service's pass and error lines are records of the ``gta.service`` logger, which logs at
``info`` unless ``--log-level`` says otherwise, so they show by default. Secrets stay out: the
SDK and sinks never put them in a message, and no request header is ever logged.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from gta._context import FIELDS, current
from gta._text import VisibleFormatter
from gta._time import format_rfc3339

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "JsonFormatter",
    "configure_logging",
    "final_line",
    "json_logging",
    "log_failure",
    "service_line",
]

LOG_FORMATS = ("text", "json")
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SERVICE = logging.getLogger("gta.service")
_RESERVED = set(vars(logging.makeLogRecord({})))
_state = {"json": False}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; extra ``gta_*`` fields are added without their prefix."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "time": format_rfc3339(when),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str) and value:
                data[name] = value
        for key, value in vars(record).items():
            if key.startswith("gta_") and key not in _RESERVED:
                data.setdefault(key[4:], value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


class _ContextFilter(logging.Filter):
    """Copies tenant, job and stream from the sync context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(fmt: str, level: str | None, *, debug: bool = False) -> None:
    """Set up stderr logging: ``fmt`` text or json, ``level`` (or debug with ``--debug``, else
    warning); raises ValueError (one line) for an unknown name.

    Only our own handler is replaced. When another party (a test harness, a program embedding
    the CLI) already set up logging and nothing was asked for, it is left as it is."""
    fmt = fmt.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of: {', '.join(LOG_FORMATS)}")
    name = level.strip().lower() if level else None
    if name is not None and name not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of: {', '.join(LOG_LEVELS)}")
    threshold = LOG_LEVELS[name] if name else (logging.DEBUG if debug else logging.WARNING)
    # The service's own lines show unless the operator asked for fewer than info.
    SERVICE.setLevel(min(threshold, logging.INFO) if name is None else threshold)
    _state["json"] = fmt == "json"
    logging.captureWarnings(fmt == "json")  # a Python warning is a record too, not a raw line
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _StderrHandler)]
    if fmt == "text" and name is None and not ours and root.handlers:
        return
    for old in ours:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.addFilter(_ContextFilter())
    # A log line may quote a server (an error detail): shown as text, never obeyed. JSON
    # escapes control characters itself.
    handler.setFormatter(JsonFormatter() if fmt == "json" else VisibleFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(threshold)


def json_logging() -> bool:
    """Whether stderr carries JSON lines (then nothing else may be written there)."""
    return _state["json"]


def service_line(text: str, level: int = logging.INFO, **fields: Any) -> None:
    """A line of the service (a pass, a failed job, a stop): a JSON record in JSON mode, else
    the plain timestamped line log collectors already parse. ``fields`` become ``gta_*``
    attributes of the record (JSON keys)."""
    if json_logging():
        SERVICE.log(level, text, extra={f"gta_{k}": v for k, v in fields.items()})
        return
    sys.stderr.write(f"{format_rfc3339(datetime.now(UTC), 'seconds')} {text}\n")
    sys.stderr.flush()


def final_line(text: str) -> bytes:
    """A last line written straight to fd 2 (a second signal exits at once, past logging)."""
    if not json_logging():
        return f"{text}\n".encode()
    record = logging.LogRecord(SERVICE.name, logging.ERROR, __file__, 0, text, None, None)
    return (JsonFormatter().format(record) + "\n").encode()


def log_failure(message: str, exc: BaseException | None) -> bool:
    """In JSON mode, a command's final error as a record (with its traceback when given);
    returns False in text mode, where the caller writes ``error: ...`` itself."""
    if not json_logging():
        return False
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    SERVICE.error(message, exc_info=exc_info)
    return True
