"""Freed memory goes back to the OS (glibc keeps it in its arenas otherwise)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = r"""
import numpy as np, psutil
from oos_tui.memory import release_free_memory

proc = psutil.Process()
chunks = [np.ones(8192) for _ in range(3000)]  # 64 KB each: the heap, not mmap
keep = np.ones(8192)  # above them: the heap cannot simply shrink from the top
del chunks
held = proc.memory_info().rss
assert release_free_memory() is True
print(held - proc.memory_info().rss)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_free_memory_returns_freed_heap_pages() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    released = int(done.stdout.strip())
    assert released > 100 * 1024 * 1024  # of the ~190 MB freed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_configure_allocator_is_accepted_by_glibc() -> None:
    code = "from oos_tui.memory import configure_allocator; print(configure_allocator())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_the_collector_pauses_for_start_up_then_freezes_what_start_up_made() -> None:
    import gc

    from oos_tui.memory import pause_collector, settle_collector

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        settle_collector()  # not paused (the app built by a test): nothing happens
        assert gc.isenabled() and gc.get_freeze_count() == frozen
        pause_collector()
        assert not gc.isenabled()
        made_at_start_up = [[i] for i in range(1000)]  # tracked containers
        settle_collector()
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen + len(made_at_start_up)
        settle_collector()  # once only
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
