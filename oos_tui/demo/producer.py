"""The producer's loop: ticks paced to the wall clock (or not), and a clean stop on any signal.

Simulated time is ``start + tick / rate``. Paced, tick ``k`` runs at wall
time ``k / rate`` after the start, so timestamps track the clock; unpaced
(``--fixed-time`` with ``--ticks``) it runs as fast as it can and the output
is the same bytes. SIGINT, SIGTERM and SIGHUP only raise a flag that the loop
reads between ticks, so a transaction is never cut in half; a second signal
interrupts at once (the open transaction rolls back).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from oos_tui.demo.metrics import MetricsSource, RealMetrics, SyntheticMetrics
from oos_tui.demo.options import DemoOptions
from oos_tui.demo.world import World

__all__ = ["StopFlag", "run_producer"]

_MAX_SLEEP = 0.05


class StopFlag:
    """Set by a signal (or by a caller, e.g. a test thread) to end the loop after this tick."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        """Ask the loop to stop; a second request while stopping interrupts."""
        if self.reason is not None:
            raise KeyboardInterrupt
        self.reason = reason

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.set(signal.Signals(signum).name)

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        """Route SIGINT, SIGTERM and SIGHUP to this flag (main thread only), then restore."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        wanted = [signal.SIGINT, signal.SIGTERM]
        if hasattr(signal, "SIGHUP"):
            wanted.append(signal.SIGHUP)
        previous = {sig: signal.signal(sig, self._handler) for sig in wanted}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _metrics(options: DemoOptions) -> MetricsSource:
    if options.fixed_time is not None:
        return SyntheticMetrics(random.Random(f"{options.seed}:metrics"))
    return RealMetrics(options.workspace)


def run_producer(
    options: DemoOptions,
    *,
    ready_file: Path | None = None,
    stop: StopFlag | None = None,
    parent_pid: int | None = None,
) -> dict[str, Any]:
    """Run the simulation until ``--ticks``, ``--duration`` or a signal; return the summary.

    Args:
        options: The run's options.
        ready_file: Touched once the workspace is set up (the console launcher
            waits for it before opening the console).
        stop: A flag to stop the loop from elsewhere; one is made otherwise.
        parent_pid: Stop when this process is no longer our parent (the
            console that started us died without stopping us).

    Raises:
        StoreError, sqlite3.Error, OSError: the workspace cannot be set up or written.
    """
    flag = stop or StopFlag()
    start = options.fixed_time if options.fixed_time is not None else time.time()
    rate = options.rate
    with flag.installed():
        world = World(options, start, _metrics(options))
        cpu0 = time.process_time()
        wall0 = time.monotonic()
        reason = "signal"
        try:
            world.begin()
            if ready_file is not None:
                ready_file.write_text("ready\n")
            tick = 0
            paced = options.paced
            while flag.reason is None:
                if options.ticks is not None and tick >= options.ticks:
                    reason = "ticks"
                    break
                if parent_pid is not None and os.getppid() != parent_pid:
                    reason = "parent exited"
                    break
                now = time.monotonic()
                if options.duration is not None and now - wall0 >= options.duration:
                    reason = "duration"
                    break
                if paced:
                    delay = wall0 + tick / rate - now
                    if delay > 0:
                        time.sleep(min(delay, _MAX_SLEEP))
                        continue
                world.step(tick, start + tick / rate)
                tick += 1
        finally:
            world.finish()
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - wall0
    return {
        "workspace": str(options.workspace),
        "seed": options.seed,
        "stopped_by": flag.reason or reason,
        "paced": options.paced,
        "rate": options.rate,
        "speed": options.speed,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "cpu_percent": round(100.0 * cpu / wall, 1) if wall > 0 else 0.0,
        **world.summary(),
    }
