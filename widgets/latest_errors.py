"""Overview panel: the newest error events from every source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from textual.content import Content

from oos_tui.models import Event, Severity
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.panel import Panel

__all__ = ["LatestErrors", "render_latest_errors"]


def render_latest_errors(events: Sequence[Event], width: int, height: int) -> Content:
    """Newest first, one line each: time, severity word, kind/source, message (made safe)."""
    if not events:
        return Content("no errors seen")
    clean = default_sanitizer().clean
    lines = []
    for ev in list(events)[::-1][: max(1, height)]:
        when = datetime.fromtimestamp(ev.ts, UTC).strftime("%H:%M:%S")
        word = "CRIT" if ev.severity >= Severity.CRITICAL else "ERR"
        style = "$sev-critical" if ev.severity >= Severity.CRITICAL else "$sev-error"
        head = f"{when} {word:<4} {ev.kind}/{clean(ev.source)[:14]} "
        msg = clean(ev.message or ev.event_type)
        lines.append(Content.assemble((head, style), (msg[: max(0, width - len(head))], "")))
    return Content("\n").join(lines)


class LatestErrors(Panel):
    """The latest errors; ``enter`` opens Events filtered to errors."""

    SOURCE = "from every log and the store's events table: severity error or critical, newest first"
    TARGET = "events"
