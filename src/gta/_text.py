"""Text from a server shown as text: never as Rich markup, never as terminal control.

A note, a title or an error body is written by whoever can reach the API. Printed as it is, a
``[/]`` in it breaks a Rich table (``MarkupError``) and an ESC, an OSC 8 hyperlink or a C1 byte
drives the terminal (moves the cursor, rewrites the screen, hides a link target). So every
server string bound for a terminal goes through :func:`visible`, which replaces each control
character (C0, DEL, C1) and each bidirectional override with a visible escape such as ``\\x1b``,
and reaches Rich only as a :class:`rich.text.Text` (which is never parsed as markup).

Machine formats (json, jsonl, csv) keep the data exact when written to a file or a pipe; written
to a terminal they go through :func:`visible` too (see :func:`for_terminal`).
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "VisibleFormatter",
    "cell",
    "for_terminal",
    "is_terminal",
    "visible",
    "visible_value",
]

# Bidirectional controls reorder what is shown (a "Trojan Source" note); format characters,
# but as dangerous on a screen as a control character.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _table(keep: str) -> dict[int, str]:
    codes = [*range(0x20), 0x7F, *range(0x80, 0xA0), *_BIDI]
    table = {code: _escape(code) for code in codes if chr(code) not in keep}
    # The backslash itself is left alone: a note may hold a Windows path; an escape we add is
    # recognisable by its form, and nothing a server sends can turn back into a control.
    assert all(unicodedata.category(chr(c)) in ("Cc", "Cf") for c in table)
    return table


_ONE_LINE = _table(keep="")
_MULTI_LINE = _table(keep="\n\t")


def visible(value: Any, *, multiline: bool = False) -> str:
    """``str(value)`` with every control character shown as an escape (``\\x1b``, ``\\u202e``).

    With *multiline*, newlines and tabs are kept (a block of text); else they are escaped too,
    so one value stays on its table row or output line.
    """
    text = value if isinstance(value, str) else str(value)
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)


def cell(value: Any, *, style: str = "", default: str = "") -> Text:
    """A table cell (or any printable) from a server value: plain text, controls made visible."""
    from rich.text import Text  # late: `gta --version` must not load Rich

    text = default if value is None or value == "" else visible(value)
    return Text(text, style=style)


def visible_value(value: Any) -> Any:
    """*value* with every string inside it (keys too) passed through :func:`visible`."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, Mapping):
        return {visible_value(key): visible_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [visible_value(item) for item in value]
    return value


def is_terminal(stream: TextIO) -> bool:
    """True when *stream* is a terminal (a person reads it), False for a file or a pipe."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def for_terminal(value: Any, stream: TextIO | None = None) -> Any:
    """*value* made safe to print when *stream* (default stdout) is a terminal; else unchanged.

    JSON already escapes C0 controls, but not DEL, C1 or bidirectional controls, and CSV
    escapes nothing: data bound for a screen is cleaned, data bound for a file stays exact.
    """
    return visible_value(value) if is_terminal(stream or sys.stdout) else value


class VisibleFormatter(logging.Formatter):
    """A log formatter for a terminal: a logged server string cannot drive the terminal.

    The message is one line (a newline in it is shown as ``\x0a``, so it cannot forge a log
    line); a traceback under ``--debug`` keeps its lines, with every other control shown.
    """

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg, safe.args = visible(record.getMessage()), None
        return visible(super().format(safe), multiline=True)
