"""``system_metrics`` for ``ai_events.log``: real psutil samples, or a seeded model.

In normal runs the samples are the producer host's own, taken with the
console's :class:`~oos_tui.sources.system.SystemSampler`, so the history the
console plots is true. With ``--fixed-time`` they come from a seeded random
walk instead: a reproducible run cannot contain the machine's load.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Protocol

__all__ = ["MetricsSource", "RealMetrics", "SyntheticMetrics"]


class MetricsSource(Protocol):
    """Anything that gives one ``system_metrics`` object per call."""

    def sample(self) -> dict[str, Any]:
        """One sample."""
        ...


class RealMetrics:
    """Samples this host with psutil (through the console's own sampler)."""

    def __init__(self, workspace: Path) -> None:
        from oos_tui.sources.system import SystemSampler

        self._sampler = SystemSampler(workspace)
        self._sampler.sample()  # psutil's CPU figures are deltas: start the first interval now

    def sample(self) -> dict[str, Any]:
        """CPU, memory, load, disk and swap of the host now."""
        s = self._sampler.sample()
        return {
            "cpu_percent": round(s.cpu_percent, 1),
            "memory_percent": round(s.mem_percent, 1),
            "memory_available_percent": round(s.mem_available_percent, 1),
            "load1": round(s.load1, 2),
            "disk_percent": round(s.disk_percent, 1),
            "swap_percent": round(s.swap_percent, 1),
        }


class SyntheticMetrics:
    """A seeded random walk with the same keys as :class:`RealMetrics`."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._cpu = 20.0
        self._mem = 40.0
        self._disk = 55.0

    def _walk(self, value: float, step: float, low: float, high: float) -> float:
        return min(high, max(low, value + self._rng.uniform(-step, step)))

    def sample(self) -> dict[str, Any]:
        """The next point of the walk."""
        self._cpu = self._walk(self._cpu, 8.0, 2.0, 98.0)
        self._mem = self._walk(self._mem, 1.5, 20.0, 92.0)
        self._disk = self._walk(self._disk, 0.05, 40.0, 85.0)
        return {
            "cpu_percent": round(self._cpu, 1),
            "memory_percent": round(self._mem, 1),
            "memory_available_percent": round(100.0 - self._mem, 1),
            "load1": round(self._cpu / 25.0, 2),
            "disk_percent": round(self._disk, 1),
            "swap_percent": 0.0,
        }
