"""Keep the C allocator from turning a long sync into a slowly growing process.

The engine decodes pages of about a megabyte on several threads (fetch, enrich, lookups).
glibc's malloc gives each thread its own arena and raises its mmap threshold after large frees,
so those buffers land in per-thread heaps that fragment and rarely shrink: measured here, the
RSS of an export kept creeping for hundreds of pages although Python's own allocations
(tracemalloc) did not grow. One arena and a fixed mmap threshold (large buffers are mmapped and
returned to the OS when freed) keep the peak flat, at no measurable cost in speed. Only glibc
is tuned; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_tuned = False


def tune_allocator(arenas: int = 1, mmap_threshold: int = 128 * 1024) -> bool:
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
    _tuned = bool(mallopt(_M_ARENA_MAX, arenas)) and bool(
        mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    )
    return _tuned
