"""A section of docs/benchmarks.md that one benchmark writes between two HTML comment markers,
so a benchmark rewrites its own part of the page and a full report keeps everyone else's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MarkedSection:
    begin: str
    end: str

    def keep(self, old: str, new: str) -> str:
        """*new* page text with this section of *old* kept (or *new*'s own, if it has one)."""
        section = self.find(new) or self.find(old)
        body = self.without(new).rstrip("\n")
        return body + "\n\n" + section if section else body + "\n"

    def find(self, text: str) -> str:
        start, end = text.find(self.begin), text.find(self.end)
        if start < 0 or end < start:
            return ""
        return text[start : end + len(self.end)] + "\n"

    def without(self, text: str) -> str:
        start, end = text.find(self.begin), text.find(self.end)
        if start < 0 or end < start:
            return text
        return text[:start].rstrip("\n") + "\n" + text[end + len(self.end) :].lstrip("\n")

    def write(self, report: Path, section: str) -> None:
        """Put *section* into *report*, replacing the old one; the rest of the page is untouched."""
        old = report.read_text(encoding="utf-8") if report.exists() else "# Benchmarks\n"
        report.write_text(self.without(old).rstrip("\n") + "\n\n" + section, encoding="utf-8")
