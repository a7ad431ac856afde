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
    """One line per queue: ``name ▁▃▅█ 1204/1000 ▲``; past the threshold: a mark and colour.

    The sparkline shows the trend on its own scale (a queue of 12 still shows
    its shape); the threshold is stated beside the depth, so both the trend
    and the distance to the alert read at a glance.
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
        mark = " ▲" if over else "  "
        count = f" {depth:>5}"
        limit = f"/{threshold}"
        spark_w = max(4, width - name_w - len(count) - len(limit) - len(mark) - 1)
        line = Content.assemble(
            (f"{name[:name_w]:<{name_w}} ", "bold" if over else ""),
            (spark(points, spark_w), "$threshold" if over else "$primary"),
            (count, "bold $alert-critical" if over else "bold"),
            (limit, "$text-muted"),
            (mark, "bold $alert-critical"),
        )
        lines.append(line)
    return Content("\n").join(lines)


class QueueDepths(Panel):
    """Queue depth per queue (pending tasks), history and threshold."""

    SOURCE = "data/oos.db tasks: status='pending' counted per queue, every store poll"
    TARGET = "queues"
