"""Sizes and rates as operators read them: one convention (decimal units) everywhere.

The CLI, the jobs and lineage views, the backups list and the Resources panes
all print sizes; they share these functions so ``1.2 MB`` means the same
everywhere. (The status bar's ``52M`` and the overview's ``250G`` are
deliberately terser forms for their one-line slots.)
"""

from __future__ import annotations

import math

__all__ = ["MIB", "format_bytes", "format_mib", "format_rate"]

MIB = 1024 * 1024
_UNITS = (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3))


def format_bytes(n: float | None) -> str:
    """``0 B``, ``840 kB``, ``1.2 MB``, ``512 GB``: at most three significant digits."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return "-"
    for unit, scale in _UNITS:
        if abs(n) >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if abs(value) >= 100 else f"{value:.1f} {unit}"
    return f"{n:.0f} B"


def format_rate(bps: float | None) -> str:
    """Bytes per second: ``1.5 MB/s``."""
    return "-" if bps is None else format_bytes(bps) + "/s"


def format_mib(size_mb: float | None) -> str:
    """A manifest's ``size_mb`` (mebibytes, CONTRACT §2.5) in the same units as everything else."""
    return "-" if size_mb is None else format_bytes(size_mb * MIB)
