"""Give freed memory back to the operating system (glibc keeps it otherwise),
and keep Python's cyclic collector off what lives as long as the console.

Indexing a 2,000,000-line log, counting its history and the first searches
allocate large temporary arrays in worker threads. glibc keeps what they
free in per-thread arenas, so the console's resident size stayed at its peak
(about 400 MB instead of under 200 MB). ``malloc_trim(0)`` returns the free
pages of every arena. Elsewhere (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import cache

__all__ = ["configure_allocator", "pause_collector", "release_free_memory", "settle_collector"]

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


def pause_collector() -> None:
    """No cyclic garbage collection while the console starts.

    Start-up creates some 80,000 objects that live as long as the console
    (modules, classes, functions, widgets); the collector scanned them over
    and over: 157 young, 14 middle and one full collection, 55 to 70 ms of
    the first screen (measured on the benchmark workspace).
    :func:`settle_collector` ends the pause.
    """
    gc.disable()


def settle_collector() -> None:
    """After start-up (the first frame): freeze what exists, then collect as usual.

    Frozen objects are left out of every later collection: a full one cost
    50 to 130 ms (a stall on screen) while following a busy file, most of it
    re-scanning start-up objects. The price is that cyclic garbage made during
    start-up is never collected (measured: about 2,000 objects). A no-op
    unless :func:`pause_collector` paused it (tests build the app directly).
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
