"""Process settings for a long sync: the C allocator's arenas and the cyclic garbage collector.

The engine decodes pages of about a megabyte on several threads (fetch, enrich, lookups).
glibc's malloc gives each thread its own arena and raises its mmap threshold after large frees,
so those buffers land in per-thread heaps that fragment and rarely shrink: measured here, the
RSS of an export kept creeping for hundreds of pages although Python's own allocations
(tracemalloc) did not grow. One arena keeps the peak flat. (A fixed mmap threshold, tried too,
made every page-sized buffer a fresh mapping: page faults made orjson encoding about three times
slower, so the threshold is left to glibc.) Only glibc is tuned; elsewhere this
does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Iterator

_M_ARENA_MAX = -8
_tuned = False
GC_THRESHOLD = 10_000
"""Net container allocations between young-generation collections (Python's default is 700)."""


def tune_allocator(arenas: int = 1) -> bool:
    """Apply the settings once per process (before worker threads start); True if applied."""
    global _tuned
    if _tuned or not sys.platform.startswith("linux"):
        return _tuned
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _tuned = bool(mallopt(_M_ARENA_MAX, arenas))
    return _tuned


@contextlib.contextmanager
def sync_tuning(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """One malloc arena (for the life of the process), and for the block a cheap cyclic
    garbage collector, tuned for the sync's allocation pattern.

    Decoding and formatting a page allocates some 10,000 dicts and lists that reference counting
    frees without help; at Python's default threshold the collector runs every 700 net container
    allocations and, every few runs, walks every object the imports created (pydantic, Rich,
    httpx). ``gc.freeze`` moves the objects alive now (the imported modules) out of the
    collector's sight, and a threshold of 10,000 runs it about once per page instead of a dozen
    times: an export of 100k events took about 15% less CPU, measured side by side. Reference
    cycles, rare on this path since the SDK unbinds httpx's responses, are still collected.

    On exit the previous threshold is restored and frozen objects are handed back to the
    collector (``gc.unfreeze``), so a process that syncs in-process (a test, a library user)
    keeps its own settings and loses no garbage to the freeze.
    """
    tune_allocator()
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
