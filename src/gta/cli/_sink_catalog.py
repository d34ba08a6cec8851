"""What ``gta sinks list`` prints: every registered sink's URL schemes and options, read from
the specs themselves (``gta.sinks.sink_specs()``), so the list cannot drift from the code and a
sink registered from outside shows up like a built-in. Reading a spec imports no sink module."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SinkInfo", "SinkOption", "catalogue"]


@dataclass(frozen=True)
class SinkOption:
    name: str
    default: str
    meaning: str


@dataclass(frozen=True)
class SinkInfo:
    schemes: tuple[str, ...]
    url: str
    summary: str
    options: tuple[SinkOption, ...]


def catalogue() -> tuple[SinkInfo, ...]:
    """One entry per registered sink, built-ins first."""
    from gta.sinks import option_rows, sink_specs

    return tuple(
        SinkInfo(
            schemes=spec.schemes,
            url=spec.url,
            summary=spec.summary,
            options=tuple(SinkOption(*row) for row in option_rows(spec.options)),
        )
        for spec in sink_specs()
    )
