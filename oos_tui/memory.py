"""Give freed memory back to the operating system (glibc keeps it otherwise).

Indexing a 2,000,000-line log, counting its history and the first searches
allocate large temporary arrays in worker threads. glibc keeps what they
free in per-thread arenas, so the console's resident size stayed at its peak
(about 400 MB instead of under 200 MB). ``malloc_trim(0)`` returns the free
pages of every arena. Elsewhere (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

__all__ = ["configure_allocator", "release_free_memory"]

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


@cache
def _libc():  # type: ignore[no-untyped-def]
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def configure_allocator(mmap_threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Long-running console: big blocks always mmapped (freed at once), few arenas.

    glibc raises its mmap threshold each time a large block is freed, up to
    32 MB; after that the index's and the searches' arrays land in the heap
    and, freed, keep it fragmented. A fixed threshold keeps each large array
    its own mapping, and two arenas stop every worker thread from keeping a
    heap of its own (settled RSS on 2,000,000 lines: 181 → 161 MB).
    """
    libc = _libc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
    return libc.mallopt(_M_ARENA_MAX, arenas) == 1 and ok


def release_free_memory() -> bool:
    """Return free heap pages to the OS; True when the C library could (glibc)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
