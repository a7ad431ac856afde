"""The pipeline's rules as pure functions: retry backoff, breaker transitions, error signatures.

Kept free of I/O so the rules the console relies on (CONTRACT §3) are unit
tested on their own, and the simulation only applies them to store rows.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from oos_tui.formats.base import format_ts
from oos_tui.timeutil import parse_ts

__all__ = [
    "BACKOFF",
    "Breaker",
    "admit",
    "backoff_seconds",
    "headline",
    "record_failure",
    "record_success",
    "signature",
]

BACKOFF: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 120, 300)
"""Seconds before the n-th retry (CONTRACT §3: 1, 2, 4 … 120, then 300 at most)."""


def backoff_seconds(attempts: int) -> float:
    """Nominal delay after the ``attempts``-th failure (1-based; 300 s from the 9th on)."""
    return float(BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


@dataclass(frozen=True, slots=True)
class Breaker:
    """One ``circuit_breakers`` row, in the contract's column order."""

    name: str
    state: str
    consecutive_failures: int
    failure_threshold: int
    total_failures: int
    total_successes: int
    opened_at: str | None
    retry_at: str | None
    last_error: str | None
    updated_at: str

    def retry_ts(self) -> float | None:
        """``retry_at`` as epoch seconds (any ISO form the console may write), or None."""
        return parse_ts(self.retry_at) if self.retry_at else None


def admit(row: Breaker, t: float) -> tuple[bool, Breaker | None]:
    """May work guarded by this breaker start at ``t``?

    Returns:
        Whether to go ahead, and the changed row when going ahead moves an
        open breaker whose ``retry_at`` has passed to ``half_open`` (the
        caller then sends exactly one trial through it). An open breaker
        without a readable ``retry_at`` is treated as due: a row the
        simulation cannot read must not stop a worker forever.
    """
    if row.state != "open":
        return True, None
    retry = row.retry_ts()
    if retry is not None and t < retry:
        return False, None
    return True, dataclasses.replace(row, state="half_open", updated_at=format_ts(t))


def record_success(row: Breaker, t: float) -> Breaker:
    """A guarded call succeeded: a half-open breaker closes, a closed one forgets its failures.

    A success that lands while the breaker is open (a call already in flight
    when it tripped) is counted but changes nothing else, so an open breaker
    always has at least ``failure_threshold`` consecutive failures.
    """
    stamp = format_ts(t)
    total = row.total_successes + 1
    if row.state == "open":
        return dataclasses.replace(row, total_successes=total, updated_at=stamp)
    return dataclasses.replace(
        row,
        state="closed",
        consecutive_failures=0,
        total_successes=total,
        opened_at=None,
        retry_at=None,
        updated_at=stamp,
    )


def headline(error: str) -> str:
    """The line an operator reads first: a traceback's last line, else the first line."""
    lines = error.strip().splitlines()
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def record_failure(row: Breaker, t: float, error: str, window: float) -> Breaker:
    """A guarded call failed: count it; open at the threshold, or again after a half-open trial.

    Args:
        row: The breaker as read in this transaction.
        t: Simulated time of the failure.
        error: The error's text; its :func:`headline` becomes ``last_error``.
        window: Seconds (already divided by ``--speed``) until ``retry_at``.
    """
    stamp = format_ts(t)
    consecutive = row.consecutive_failures + 1
    changed = dataclasses.replace(
        row,
        consecutive_failures=consecutive,
        total_failures=row.total_failures + 1,
        last_error=headline(error),
        updated_at=stamp,
    )
    if row.state == "half_open" or (row.state == "closed" and consecutive >= row.failure_threshold):
        return dataclasses.replace(
            changed, state="open", opened_at=stamp, retry_at=format_ts(t + window)
        )
    return changed


_VOLATILE = re.compile(
    r"https?://\S+|/[\w./-]+|'[^']*'|\b[0-9a-f]{8,}\b|\b[A-Za-z]+_\d+\b|\d+(?:\.\d+)?"
)


def signature(error: str) -> str:
    """The error's first line with ids, paths, quoted values and numbers masked.

    Errors of one cause then share a signature (pattern detection groups by
    it), as the console's "group dead letters by error signature" will.
    """
    return _VOLATILE.sub("…", headline(error))[:160]
