"""Overview panel: circuit breakers by state, the open ones named."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from oos_tui.sanitize import default_sanitizer
from oos_tui.timeutil import format_duration
from oos_tui.widgets.panel import Panel

__all__ = ["STATE_LOOK", "BreakerSummary", "render_breaker_summary"]

# Word, symbol and theme variable of each state: never colour alone.
STATE_LOOK: dict[str, tuple[str, str, str]] = {
    "closed": ("closed", "●", "$state-closed"),
    "open": ("OPEN", "✕", "$state-open"),
    "half_open": ("half-open", "◐", "$state-half-open"),
}


def render_breaker_summary(breakers: Sequence[object], now: float, width: int) -> Content:
    """Counts per state, then one line per open or half-open breaker."""
    if not breakers:
        return Content("no circuit breakers in the store")
    counts = {state: 0 for state in STATE_LOOK}
    for b in breakers:
        counts[getattr(b, "state", "")] = counts.get(getattr(b, "state", ""), 0) + 1
    head: list[tuple[str, str]] = []
    for state, (word, symbol, style) in STATE_LOOK.items():
        head.append(
            (f"{symbol} {counts.get(state, 0)} {word}  ", style if counts.get(state) else "")
        )
    lines = [Content.assemble(*head)]
    for b in breakers:
        state = getattr(b, "state", "")
        if state == "closed":
            continue
        word, symbol, style = STATE_LOOK.get(state, (state, "?", ""))
        opened = getattr(b, "opened_at", None)
        retry = getattr(b, "retry_at", None)
        retry_text = ""
        if retry is not None:
            retry_text = f" retry {format_duration(retry - now)}" if retry > now else " retry due"
        since = f" {format_duration(now - opened)}" if opened is not None else ""
        name = default_sanitizer().clean(b.name)  # type: ignore[attr-defined]
        # Richest line whose name fits whole; else the shortest, name cut.
        for info in (f" {word}{since}{retry_text}", f" {word}{retry_text}", f" {word}"):
            if len(name) + len(info) + 2 <= width:
                break
        room = max(4, width - len(info) - 2)
        if len(name) > room:
            name = name[: room - 1] + "…"
        lines.append(Content.assemble((f"{symbol} {name}{info}"[:width], style)))
    return Content("\n").join(lines)


class BreakerSummary(Panel):
    """Breakers by state; open ones named with how long and when they retry."""

    SOURCE = "data/oos.db circuit_breakers: state, opened_at, retry_at, every poll"
    TARGET = "breakers"
