"""Breaker state transitions the console has observed, from store polls and from log events.

The store holds only each breaker's current state; the history of opens,
half-opens and closes is what the console saw change between polls, plus
what the logs say about breakers (a worker logging "breaker X opened"),
kept in a bounded list with times.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oos_tui.models import Breaker, Event

__all__ = ["BreakerTracker", "Transition"]

_STATE_WORDS = {
    "open": "open",
    "opened": "open",
    "opening": "open",
    "tripped": "open",
    "half-open": "half_open",
    "half_open": "half_open",
    "half open": "half_open",
    "closed": "closed",
    "close": "closed",
    "reset": "closed",
    "recovered": "closed",
}
_WORD_RX = re.compile(
    r"\b(half[-_ ]open|opened|opening|open|tripped|closed|close|reset|recovered)\b", re.I
)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of a breaker's state, and how the console learned of it."""

    at: float
    name: str
    old: str | None  # None when only the new state is known (from a log line)
    new: str
    via: str  # "store" | "log"
    detail: str = ""


class BreakerTracker:
    """Remembers the last state of each breaker and records changes (bounded)."""

    def __init__(self, keep: int = 500) -> None:
        self._last: dict[str, str] = {}
        self._history: deque[Transition] = deque(maxlen=keep)

    def observe(self, breakers: Sequence[Breaker], now: float) -> tuple[Transition, ...]:
        """Compare a store snapshot's breakers with the last one seen; return the changes."""
        new: list[Transition] = []
        for b in breakers:
            before = self._last.get(b.name)
            if before is not None and before != b.state:
                at = b.updated_at if b.updated_at is not None else now
                detail = f"{b.consecutive_failures}/{b.failure_threshold} consecutive failures"
                new.append(Transition(at, b.name, before, b.state, "store", detail))
            self._last[b.name] = b.state
        self._history.extend(new)
        return tuple(new)

    def observe_events(self, events: Iterable[Event]) -> tuple[Transition, ...]:
        """Log events that name a known breaker together with a state word."""
        if not self._last:
            return ()
        new: list[Transition] = []
        for ev in events:
            text = f"{ev.event_type} {ev.message}"
            if "breaker" not in text.lower() and not any(n in text for n in self._last):
                continue
            name = next((n for n in self._last if n in text), None)
            match = _WORD_RX.search(text)
            if name is None or match is None:
                continue
            state = _STATE_WORDS[match.group(1).lower().replace("_", "-")]
            new.append(Transition(ev.ts, name, None, state, "log", ev.message[:200]))
        self._history.extend(new)
        return tuple(new)

    @property
    def history(self) -> tuple[Transition, ...]:
        """Every transition kept, oldest first."""
        return tuple(sorted(self._history, key=lambda t: t.at))
