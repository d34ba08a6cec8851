"""What a sink is to the rest of gta: one :class:`SinkSpec` per sink, registered by scheme.

A spec is cheap to import (its options model and a few names); the sink's own module, and what
it needs (httpx, sockets), loads only in ``open`` and ``check``. The built-in sinks are
registered like any other, each the first time one of its schemes is used
(``gta.sinks._builtins.BUILTINS``); a package of its own registers a spec with
:func:`register_sink`, or names it in the ``gta.sinks`` entry point group, read the first time a
scheme is not found or every sink is listed.
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
_plugins_loaded = False
_loading = threading.RLock()


def register_sink(spec: SinkSpec, *, replace: bool = False) -> None:
    """Make ``spec``'s schemes open its sink. A scheme taken by another spec (a built-in's too,
    loaded or not) is refused unless ``replace`` is set: a plugin cannot silently take over
    ``splunk-hec+https``."""
    if not spec.schemes:
        raise ValueError(f"sink {spec.name!r} names no scheme")
    schemes = [scheme.lower() for scheme in spec.schemes]
    with _loading:
        for scheme in schemes:
            taken = _BY_SCHEME.get(scheme) or _builtin(scheme)
            if taken is not None and taken is not spec and not replace:
                raise ValueError(f"sink scheme {scheme!r} is already registered by {taken.name!r}")
        for scheme in schemes:
            _BY_SCHEME[scheme] = spec


def unregister_sink(spec: SinkSpec) -> None:
    """Remove ``spec``'s schemes (tests, plugins that are switched off)."""
    with _loading:
        for scheme, held in list(_BY_SCHEME.items()):
            if held is spec:
                del _BY_SCHEME[scheme]


def registered() -> tuple[SinkSpec, ...]:
    """Every registered spec once: the built-ins first (each loaded now), then the others in
    registration order."""
    from gta.sinks._builtins import BUILTINS

    for scheme in BUILTINS:
        spec_for(scheme)
    _load_plugins()
    order = [*BUILTINS, *(scheme for scheme in _BY_SCHEME if scheme not in BUILTINS)]
    seen: dict[int, SinkSpec] = {}
    for scheme in order:
        spec = _BY_SCHEME.get(scheme)
        if spec is not None:
            seen.setdefault(id(spec), spec)
    return tuple(seen.values())


def spec_for(scheme: str) -> SinkSpec | None:
    """The spec of ``scheme``: registered, else a built-in (its module imported now), else one
    from the ``gta.sinks`` entry points (read the first time a scheme is not found)."""
    from gta.sinks._builtins import BUILTINS

    scheme = scheme.lower()
    spec = _BY_SCHEME.get(scheme)
    if spec is not None:
        return spec
    with _loading:  # jobs open sinks from several threads
        builtin = _builtin(scheme) if scheme in BUILTINS else None
        if builtin is not None:
            if scheme not in _BY_SCHEME:
                register_sink(builtin)
        else:
            _load_plugins()
    return _BY_SCHEME.get(scheme)


def _builtin(scheme: str) -> SinkSpec | None:
    """The built-in spec of ``scheme`` (its module imported now), if there is one."""
    import importlib

    from gta.sinks._builtins import BUILTINS

    if scheme not in BUILTINS:
        return None
    module_name, _, attribute = BUILTINS[scheme].partition(":")
    spec: SinkSpec = getattr(importlib.import_module(module_name), attribute)
    return spec


def _load_plugins() -> None:
    """Specs named in the ``gta.sinks`` entry point group, once: a ``SinkSpec`` or a function
    that returns one. A plugin that fails to load is logged and skipped: the other sinks still
    work."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _loading:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
                spec = loaded if isinstance(loaded, SinkSpec) else loaded()
                if not isinstance(spec, SinkSpec):
                    raise TypeError(f"{point.value} is not a SinkSpec")
                register_sink(spec)
            except Exception as exc:  # a third party's bug must not take the built-ins down
                log.warning(
                    "sink plugin %s not loaded: %s: %s", point.name, type(exc).__name__, exc
                )
