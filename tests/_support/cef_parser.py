"""A CEF parser written from the ArcSight CEF specification, independent of the encoder.

Header: ``CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension``, fields split
on unescaped ``|``; ``\\|`` and ``\\\\`` unescape. Extension: ``key=value`` pairs separated by
spaces; a value runs until the space before the next ``key=`` whose ``=`` is unescaped (values
may hold spaces); in values ``\\=``, ``\\\\``, ``\\n``, ``\\r`` unescape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_HEADER_FIELDS = 7  # version .. severity


@dataclass
class CefEvent:
    version: str
    vendor: str
    product: str
    device_version: str
    signature_id: str
    name: str
    severity: str
    extension: dict[str, str] = field(default_factory=dict)


def _escaped(text: str, index: int) -> bool:
    """True when the character at ``index`` is preceded by an odd number of backslashes."""
    count = 0
    i = index - 1
    while i >= 0 and text[i] == "\\":
        count += 1
        i -= 1
    return count % 2 == 1


def _unescape_value(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append({"n": "\n", "r": "\r", "=": "=", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_extension(text: str) -> dict[str, str]:
    equals = [i for i, ch in enumerate(text) if ch == "=" and not _escaped(text, i)]
    starts = [text.rfind(" ", 0, pos) + 1 for pos in equals]
    result: dict[str, str] = {}
    for n, pos in enumerate(equals):
        key = text[starts[n] : pos]
        end = starts[n + 1] - 1 if n + 1 < len(equals) else len(text)
        result[key] = _unescape_value(text[pos + 1 : end])
    return result


def parse_cef(line: str) -> CefEvent:
    """Parse one CEF record (anything before ``CEF:``, such as a syslog header, is skipped)."""
    start = line.find("CEF:")
    if start < 0:
        raise ValueError("not a CEF record")
    text = line[start + 4 :].rstrip("\n")
    fields: list[str] = []
    current: list[str] = []
    i = 0
    while len(fields) < _HEADER_FIELDS:
        if i >= len(text):
            raise ValueError("CEF header has fewer than 8 fields")
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "\\|":
            current.append(text[i + 1])
            i += 2
        elif ch == "|":
            fields.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    return CefEvent(*fields, extension=parse_extension(text[i:]))
