"""Overview panel: the newest error events from every source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from textual.content import Content

from oos_tui.models import Event, Severity
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.panel import Panel

__all__ = ["LatestErrors", "render_latest_errors"]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render_latest_errors(events: Sequence[Event], width: int, height: int) -> Content:
    """Newest first, one line each: time, severity word, message, then the source if it fits.

    The message comes before the source because at 80 columns it is the part
    an operator reads; everything is sanitised (log text is hostile).
    """
    if not events:
        return Content("no errors seen")
    clean = default_sanitizer().clean
    newest = sorted(events, key=lambda e: e.ts if e.ts == e.ts else 0.0, reverse=True)
    lines = []
    for ev in newest[: max(1, height)]:
        known = ev.ts == ev.ts  # NaN when the source had no readable time
        when = datetime.fromtimestamp(ev.ts, UTC).strftime("%H:%M:%S") if known else "--:--:--"
        critical = ev.severity >= Severity.CRITICAL
        head = f"{when} {'CRIT' if critical else 'ERR'} "
        style = "$sev-critical" if critical else "$sev-error"
        msg = clean((ev.message or ev.event_type).split("\n", 1)[0])
        room = max(0, width - len(head))
        source = f" · {clean(ev.source)}"
        if len(msg) + len(source) <= room:
            lines.append(Content.assemble((head, style), (msg, ""), (source, "$text-muted")))
        else:
            lines.append(Content.assemble((head, style), (_cut(msg, room), "")))
    return Content("\n").join(lines)


class LatestErrors(Panel):
    """The latest errors; ``enter`` opens Events filtered to errors."""

    SOURCE = "every log and the store's events table: severity error or worse, newest first"
    TARGET = "events"
