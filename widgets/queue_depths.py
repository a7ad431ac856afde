"""Overview panel: depth of each queue with a sparkline and the alert threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content

from oos_tui.widgets.panel import Panel
from oos_tui.widgets.spark import spark

__all__ = ["QueueDepths", "render_queue_depths"]


def render_queue_depths(
    queues: Sequence[object],
    history: Mapping[str, Sequence[int]],
    threshold: int,
    width: int,
    store_message: str | None = None,
) -> Content:
    """One line per queue: ``name ▁▃▅█ 1204 ▲>1000``; past the threshold: a mark and colour.

    The sparkline is scaled so the threshold sits at the same height (three
    quarters up) whenever the history stays under it.
    """
    if not queues:
        return Content(store_message or "no queues yet (no tasks in the store)")
    name_w = min(12, max(len(getattr(q, "queue", "")) for q in queues))
    lines: list[Content] = []
    for q in queues:
        name = q.queue  # type: ignore[attr-defined]
        depth = q.pending  # type: ignore[attr-defined]
        points = list(history.get(name, ())) or [depth]
        over = depth > threshold
        mark = f" ▲>{threshold}" if over else ""
        count = f"{depth:>6}"
        spark_w = max(4, width - name_w - len(count) - len(mark) - 2)
        top = max(threshold * 4 / 3, max(points))
        line = Content.assemble(
            (f"{name[:name_w]:<{name_w}} ", "bold" if over else ""),
            (spark(points, spark_w, top=top), "$threshold" if over else "$primary"),
            (count, "bold" if over else ""),
            (mark, "bold $alert-critical"),
        )
        lines.append(line)
    return Content("\n").join(lines)


class QueueDepths(Panel):
    """Queue depth per queue (pending tasks), history and threshold."""

    SOURCE = "from data/oos.db: count of tasks with status 'pending', per queue, each store poll"
    TARGET = "queues"
