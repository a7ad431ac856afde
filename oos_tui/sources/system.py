"""Host and console resource sampling with psutil, injectable for tests.

The sampler is a plain object called from a thread worker; it keeps psutil's
per-thread CPU baselines by always being called from the same thread, and
takes a ``psutil``-like module so snapshots can use a fake one.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["HostSample", "MetricsHistory", "SystemSampler"]


@dataclass(frozen=True, slots=True)
class HostSample:
    """One sample of the host and of the console's own cost."""

    ts: float
    cpu_percent: float
    per_cpu: tuple[float, ...]
    load1: float
    load5: float
    load15: float
    mem_total: int
    mem_available: int
    mem_percent: float
    swap_percent: float
    disk_path: str
    disk_total: int
    disk_used: int
    disk_percent: float
    disk_read_bps: float | None  # bytes/s since the previous sample, None on the first
    disk_write_bps: float | None
    self_cpu_percent: float
    self_rss: int
    self_threads: int

    @property
    def mem_available_percent(self) -> float:
        """Available memory as a share of the total (the OOS pressure signal)."""
        return 100.0 * self.mem_available / self.mem_total if self.mem_total else 0.0

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape for ``oos-tui status --json``."""
        return {
            "ts": self.ts,
            "cpu_percent": self.cpu_percent,
            "per_cpu": list(self.per_cpu),
            "load": [self.load1, self.load5, self.load15],
            "memory": {
                "total": self.mem_total,
                "available": self.mem_available,
                "percent": self.mem_percent,
                "available_percent": round(self.mem_available_percent, 1),
            },
            "swap_percent": self.swap_percent,
            "disk": {
                "path": self.disk_path,
                "total": self.disk_total,
                "used": self.disk_used,
                "percent": self.disk_percent,
                "read_bps": self.disk_read_bps,
                "write_bps": self.disk_write_bps,
            },
            "console": {
                "cpu_percent": self.self_cpu_percent,
                "rss": self.self_rss,
                "threads": self.self_threads,
            },
        }


class SystemSampler:
    """Takes :class:`HostSample` values; call :meth:`sample` from one thread only."""

    def __init__(
        self,
        disk_path: str | os.PathLike[str],
        *,
        psutil_module: ModuleType | Any | None = None,
        clock: Any = None,
    ) -> None:
        if psutil_module is None:
            import psutil as psutil_module
        self._ps = psutil_module
        self._clock = clock
        self._disk_path = _existing_parent(Path(disk_path))
        self._self = self._ps.Process(os.getpid())
        self._last_io: tuple[float, int, int] | None = None
        self._primed = False

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else time.time()

    def _prime(self) -> None:
        # psutil's CPU figures are deltas since the previous call in this thread.
        self._ps.cpu_percent(None)
        self._ps.cpu_percent(None, percpu=True)
        self._self.cpu_percent(None)
        self._primed = True

    def sample(self) -> HostSample:
        """Take one sample (about 0.3 ms of work; run it off the UI thread)."""
        ps = self._ps
        if not self._primed:
            self._prime()
        now = self._now()
        cpu = float(ps.cpu_percent(None))
        per_cpu = tuple(float(c) for c in ps.cpu_percent(None, percpu=True))
        try:
            load1, load5, load15 = ps.getloadavg()
        except (AttributeError, OSError):
            load1 = load5 = load15 = 0.0
        vm = ps.virtual_memory()
        try:
            swap = float(ps.swap_memory().percent)
        except (OSError, RuntimeError):
            swap = 0.0
        try:
            du = ps.disk_usage(str(self._disk_path))
            disk_total, disk_used, disk_pct = int(du.total), int(du.used), float(du.percent)
        except OSError:
            disk_total = disk_used = 0
            disk_pct = 0.0
        read_bps = write_bps = None
        try:
            io = ps.disk_io_counters()
        except (OSError, RuntimeError, AttributeError):
            io = None
        if io is not None:
            # An injected clock paces the rates too, so samples from a fake psutil
            # are the same on every run.
            mono = now if self._clock is not None else time.monotonic()
            if self._last_io is not None:
                dt = mono - self._last_io[0]
                if dt > 0:
                    read_bps = max(0.0, (io.read_bytes - self._last_io[1]) / dt)
                    write_bps = max(0.0, (io.write_bytes - self._last_io[2]) / dt)
            self._last_io = (mono, int(io.read_bytes), int(io.write_bytes))
        with self._self.oneshot():
            # A very short first interval can overshoot: no process uses more
            # than every core.
            cores = len(per_cpu) or 1
            self_cpu = min(float(self._self.cpu_percent(None)), 100.0 * cores)
            self_rss = int(self._self.memory_info().rss)
            self_threads = int(self._self.num_threads())
        return HostSample(
            ts=now,
            cpu_percent=cpu,
            per_cpu=per_cpu,
            load1=float(load1),
            load5=float(load5),
            load15=float(load15),
            mem_total=int(vm.total),
            mem_available=int(vm.available),
            mem_percent=float(vm.percent),
            swap_percent=swap,
            disk_path=str(self._disk_path),
            disk_total=disk_total,
            disk_used=disk_used,
            disk_percent=disk_pct,
            disk_read_bps=read_bps,
            disk_write_bps=write_bps,
            self_cpu_percent=self_cpu,
            self_rss=self_rss,
            self_threads=self_threads,
        )


def _existing_parent(path: Path) -> Path:
    """The path, or its nearest existing ancestor (disk usage of a missing workspace)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


class MetricsHistory:
    """A bounded history of samples, handed to the UI as tuples (immutable copies)."""

    def __init__(self, maxlen: int = 900) -> None:
        self._samples: deque[HostSample] = deque(maxlen=maxlen)

    def add(self, sample: HostSample) -> None:
        """Append a sample, dropping the oldest past the bound."""
        self._samples.append(sample)

    def extend(self, samples: Iterable[HostSample]) -> None:
        """Append several samples."""
        self._samples.extend(samples)

    def snapshot(self) -> tuple[HostSample, ...]:
        """An immutable copy, oldest first."""
        return tuple(self._samples)

    @property
    def latest(self) -> HostSample | None:
        """The newest sample, if any."""
        return self._samples[-1] if self._samples else None
