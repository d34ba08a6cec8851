"""What a log line or a metric is about: tenant, job and stream, in a context variable.

The sync loop binds ``tenant`` and ``job``, the engine binds ``stream``; a log filter and the
SDK's request observers read them. The engine's worker threads start in a copy of the context
of the thread that created them (``in_context``), so a lookup on a pool thread still knows its
job and stream.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

R = TypeVar("R")

FIELDS = ("tenant", "job", "stream")
_current: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "gta_log_context", default=MappingProxyType({})
)


def current() -> Mapping[str, str]:
    """The fields bound here (a read-only view: bind to change them)."""
    return _current.get()


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Add fields for the duration of the block (a ``None`` value leaves a field as it is)."""
    merged = {**_current.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _current.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _current.reset(token)


def in_context(fn: Callable[..., R]) -> Callable[..., R]:
    """``fn`` bound to the caller's context, to run on another thread (each call runs in its
    own copy: one context cannot be entered by two threads at once)."""
    ctx = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> R:
        return ctx.copy().run(fn, *args, **kwargs)

    return run
