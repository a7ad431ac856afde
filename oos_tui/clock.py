"""Injectable clocks, so tests and snapshots can freeze time.

Nothing in the core or the widgets calls ``time.time()`` directly for values
it shows; it asks a :class:`Clock`. Timers that only pace work may use the
monotonic clock freely.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FrozenClock", "SystemClock"]


class Clock(Protocol):
    """A source of wall-clock time as UTC epoch seconds."""

    def now(self) -> float:
        """The current time."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        return time.time()


class FrozenClock:
    """A clock that only moves when told to (tests, snapshots, benchmarks)."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        """The frozen time."""
        return self.at

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.at += seconds
