"""What a sink is to the rest of gta: one :class:`SinkSpec` per sink, registered by scheme.

A spec is cheap to import (its options model and a few names); the sink's own module, and what
it needs (httpx, sockets), loads only in ``open`` and ``check``. The built-in sinks are
registered like any other (``gta.sinks._builtins``); a package of its own registers a spec with
:func:`register_sink`, or names it in the ``gta.sinks`` entry point group, loaded the first time
the registry is read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gta.sinks._base import Sink
from gta.sinks._options import SinkOptions

__all__ = ["Check", "SinkSpec", "on_call", "register_sink", "registered", "spec_for"]

log = logging.getLogger("gta.sinks")

ENTRY_POINT_GROUP = "gta.sinks"


@dataclass(frozen=True)
class Check:
    """One line of a ``gta sinks check`` report: what was checked, whether it passed, and what
    we saw."""

    name: str
    ok: bool
    detail: str


Opener = Callable[[str, dict[str, Any]], Sink]
Checker = Callable[[str, dict[str, Any]], list[Check]]
KeyOf = Callable[[str, Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class SinkSpec:
    """One sink: the URL schemes it answers, its options, and how to open and check it.

    - ``open(url, options)`` returns the :class:`~gta.sinks.Sink`; every option problem is one
      ``SinkConfigError`` (parse with ``read_options(name, options_model, ...)``).
    - ``check(url, options)`` runs ``gta sinks check`` (reach, TLS, credentials) without writing
      a record; ``None``: the sink has nothing to check.
    - ``destination_key(url, options)`` names the place written to (two jobs with the same key
      write the same place), without a secret; ``None`` (the default) keys on the URL with any
      secret redacted.
    - ``path_scheme``: the URL is ``scheme:PATH`` rather than ``scheme://HOST``.
    """

    name: str
    schemes: tuple[str, ...]
    summary: str
    url: str
    options: type[SinkOptions]
    open: Opener
    check: Checker | None = None
    destination_key: KeyOf | None = None
    path_scheme: bool = False

    def scheme_form(self, scheme: str) -> str:
        """How a URL of ``scheme`` starts (``jsonl:``, ``syslog+tls://``)."""
        return f"{scheme}:" if self.path_scheme else f"{scheme}://"


def on_call(target: str) -> Callable[[str, dict[str, Any]], Any]:
    """``"module:function"`` as a function that imports the module when first called, so a
    spec can name a sink's ``open`` or ``check`` without loading the sink (or httpx)."""
    module_name, _, attribute = target.partition(":")

    def call(url: str, options: dict[str, Any]) -> Any:
        import importlib

        return getattr(importlib.import_module(module_name), attribute)(url, options)

    call.__name__ = call.__qualname__ = attribute
    return call


_BY_SCHEME: dict[str, SinkSpec] = {}
_loaded = False
_loading = threading.RLock()


def register_sink(spec: SinkSpec, *, replace: bool = False) -> None:
    """Make ``spec``'s schemes open its sink. A scheme taken by another spec is refused unless
    ``replace`` is set (a plugin cannot silently take over ``splunk-hec+https``)."""
    if not spec.schemes:
        raise ValueError(f"sink {spec.name!r} names no scheme")
    schemes = [scheme.lower() for scheme in spec.schemes]
    for scheme in schemes:
        taken = _BY_SCHEME.get(scheme)
        if taken is not None and taken is not spec and not replace:
            raise ValueError(f"sink scheme {scheme!r} is already registered by {taken.name!r}")
    for scheme in schemes:
        _BY_SCHEME[scheme] = spec


def unregister_sink(spec: SinkSpec) -> None:
    """Remove ``spec``'s schemes (tests, plugins that are switched off)."""
    for scheme, held in list(_BY_SCHEME.items()):
        if held is spec:
            del _BY_SCHEME[scheme]


def registered() -> tuple[SinkSpec, ...]:
    """Every registered spec once, built-ins first, in registration order."""
    _load()
    seen: dict[int, SinkSpec] = {}
    for spec in _BY_SCHEME.values():
        seen.setdefault(id(spec), spec)
    return tuple(seen.values())


def spec_for(scheme: str) -> SinkSpec | None:
    _load()
    return _BY_SCHEME.get(scheme.lower())


def _load() -> None:
    """Register the built-ins and the entry points once. Jobs open their sinks from several
    threads: none may look a scheme up before the built-ins are in."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        from gta.sinks._builtins import BUILTIN_SPECS

        for spec in BUILTIN_SPECS:
            register_sink(spec)
        _load_entry_points()
        _loaded = True


def _load_entry_points() -> None:
    """Specs named in the ``gta.sinks`` entry point group: a ``SinkSpec`` or a function that
    returns one. A plugin that fails to load is logged and skipped: the other sinks still work."""
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            spec = loaded if isinstance(loaded, SinkSpec) else loaded()
            if not isinstance(spec, SinkSpec):
                raise TypeError(f"{point.value} is not a SinkSpec")
            register_sink(spec)
        except Exception as exc:  # a third party's bug must not take the built-ins down
            log.warning("sink plugin %s not loaded: %s: %s", point.name, type(exc).__name__, exc)
