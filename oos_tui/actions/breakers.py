"""Reset a circuit breaker (CONTRACT §5), and the pure figures the breakers view shows.

:func:`reset_breaker` runs through :func:`oos_tui.actions.runner.run_action`
like every action: one transaction with its audit row, refused in read-only
mode, on a newer schema or a busy store. The helpers below it read a
:class:`~oos_tui.models.Breaker` and a "now" and touch nothing, so the CLI and
the TUI show the same words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite

from oos_tui.actions.audit import now_iso
from oos_tui.actions.runner import DEFAULT_BUSY_TIMEOUT, ActionOutcome, Refused, run_action
from oos_tui.models import ActionResult, Breaker, iso
from oos_tui.timeutil import format_duration

__all__ = [
    "STATE_LOOK",
    "breaker_json",
    "format_open_for",
    "format_rate",
    "format_retry_in",
    "open_for",
    "reset_breaker",
    "retry_in",
    "state_look",
    "trip_progress",
]

STATE_LOOK: dict[str, tuple[str, str]] = {
    "closed": ("closed", "●"),
    "open": ("open", "✕"),
    "half_open": ("half-open", "◐"),
}
"""Word and symbol of each state, the same symbols as the overview's breaker panel."""


def state_look(state: str) -> tuple[str, str]:
    """The word and symbol of a state; an unknown state shows as itself with ``?``."""
    return STATE_LOOK.get(state, (state or "unknown", "?"))


def trip_progress(b: Breaker) -> str:
    """How close the breaker is to tripping: ``7/10 consecutive failures``."""
    return f"{b.consecutive_failures}/{b.failure_threshold} consecutive failures"


def open_for(b: Breaker, now: float) -> float | None:
    """Seconds since the breaker opened, while it is open or half-open; else None."""
    if b.state not in ("open", "half_open") or b.opened_at is None:
        return None
    return max(0.0, now - b.opened_at)


def retry_in(b: Breaker, now: float) -> float | None:
    """Seconds until ``retry_at`` while the breaker is open (negative once it is due); else None."""
    if b.state != "open" or b.retry_at is None:
        return None
    return b.retry_at - now


def format_open_for(b: Breaker, now: float) -> str:
    """``open for`` as text: ``12m05s``, or ``-`` when the breaker is not open."""
    return format_duration(open_for(b, now))


def format_retry_in(b: Breaker, now: float) -> str:
    """The countdown to ``retry_at``: ``in 25s``, ``due`` once passed, ``-`` when not open."""
    seconds = retry_in(b, now)
    if seconds is None:
        return "-"
    return f"in {format_duration(seconds)}" if seconds > 0 else "due"


def format_rate(b: Breaker) -> str:
    """The failure rate over all calls as a percentage, ``-`` before the first call."""
    rate = b.failure_rate
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _first_line(text: str | None) -> str:
    for part in (text or "").splitlines():
        if part.strip():
            return part.strip()
    return ""


def breaker_json(b: Breaker, now: float) -> dict[str, Any]:
    """The breaker with every figure the view shows, as the ``breakers --json`` object."""
    word, symbol = state_look(b.state)
    return {
        "name": b.name,
        "state": b.state,
        "state_word": word,
        "symbol": symbol,
        "consecutive_failures": b.consecutive_failures,
        "failure_threshold": b.failure_threshold,
        "trip_progress": trip_progress(b),
        "total_failures": b.total_failures,
        "total_successes": b.total_successes,
        "failure_rate": b.failure_rate,
        "opened_at": iso(b.opened_at) if b.opened_at is not None else None,
        "open_for_seconds": open_for(b, now),
        "retry_at": iso(b.retry_at) if b.retry_at is not None else None,
        "retry_in_seconds": retry_in(b, now),
        "last_error": b.last_error,
        "last_error_line": _first_line(b.last_error),
        "updated_at": iso(b.updated_at) if b.updated_at is not None else None,
    }


async def reset_breaker(
    store: Path,
    name: str,
    *,
    reason: str | None = None,
    read_only: bool = False,
    operator: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    clock_now: float | None = None,
) -> ActionResult:
    """Close a breaker by hand: state closed, no consecutive failures, no open or retry time.

    ``consecutive_failures`` becomes 0, ``opened_at`` and ``retry_at`` NULL,
    ``updated_at`` now; totals and the last error are history and stay. The
    audit detail keeps the row as it was (``before``) and the operator's
    ``reason``. Refused, with nothing changed but the audit row: a name with
    no breaker, and a breaker with nothing to reset (already closed, no
    consecutive failures, no open or retry time). A closed breaker that is
    counting failures toward a trip *is* reset: its counter goes to 0.

    Args:
        store: the store file.
        name: the breaker's ``name``.
        reason: why, in the operator's words; kept in the audit detail.
        read_only: the console's read-only mode: refused before opening anything.
        operator: who acts (default: the OS user, with the SSH client address).
        busy_timeout: seconds to wait for the producer's write lock.
        clock_now: "now" as epoch seconds for ``updated_at`` (tests).

    Returns:
        The result, target ``breaker:<name>``, action ``reset_breaker``; never
        raises for store trouble.
    """
    reason = reason.strip() if reason and reason.strip() else None

    async def body(conn: aiosqlite.Connection) -> ActionOutcome:
        async with conn.execute("SELECT * FROM circuit_breakers WHERE name = ?", (name,)) as cur:
            names = [d[0] for d in cur.description]
            found = await cur.fetchone()
        if found is None:
            raise Refused(f"no breaker named {name!r}: nothing changed", {"reason": reason})
        before = dict(zip(names, found, strict=True))
        if (
            before.get("state") == "closed"
            and not before.get("consecutive_failures")
            and before.get("opened_at") is None
            and before.get("retry_at") is None
        ):
            raise Refused(
                f"breaker {name} is already closed: nothing changed",
                {"before": before, "reason": reason},
            )
        cur = await conn.execute(
            "UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0,"
            " opened_at = NULL, retry_at = NULL, updated_at = ? WHERE name = ?",
            (now_iso(clock_now), name),
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"updated {cur.rowcount} breakers, expected 1")
        was = state_look(str(before.get("state")))[0]
        return ActionOutcome(
            f"breaker {name} reset: closed (was {was}, "
            f"{before.get('consecutive_failures')} consecutive failures)",
            {"before": before, "reason": reason},
        )

    return await run_action(
        store,
        action="reset_breaker",
        target=f"breaker:{name}",
        body=body,
        read_only=read_only,
        operator=operator,
        busy_timeout=busy_timeout,
    )
