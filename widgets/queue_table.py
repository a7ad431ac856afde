"""Queues pane: per queue the task counts, age, throughput, depth trend, alert and workers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from textual.content import Content

from oos_tui.models import QueueStats
from oos_tui.sanitize import Sanitizer
from oos_tui.timeutil import format_duration
from oos_tui.triage import MAX_WORKERS, WORKER_STEPS, recommend_workers
from oos_tui.widgets.spark import spark
from oos_tui.widgets.styled_table import Cell, Column, StyledTable

__all__ = ["QueueTable", "compact", "queue_columns", "queue_rows", "worker_rule"]

_SPARK_NARROW = 8
_SPARK_WIDE = 24


def compact(n: int, width: int = 5) -> str:
    """``n`` in at most about ``width`` characters: ``1204``, ``12k``, ``3.4M``."""
    text = str(n)
    if len(text) <= width:
        return text
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def worker_rule() -> str:
    """The advice rule in one line, from the same steps :func:`recommend_workers` uses."""
    steps = " ".join(f"<{below}→{workers}" for below, workers in WORKER_STEPS)
    return f"workers advised from pending (OOS resource manager): {steps} else {MAX_WORKERS}"


def queue_columns(wide: bool) -> tuple[Column, ...]:
    """The columns at this width: short headers at 80 columns, words at 160."""
    if wide:
        return (
            Column("queue", "queue", None, min_width=10, max_width=24),
            Column("pending", "pending", 9, justify="right"),
            Column("processing", "processing", 10, justify="right"),
            Column("completed", "completed", 9, justify="right"),
            Column("failed", "failed", 6, justify="right"),
            Column("dead", "dead letters", 12, justify="right"),
            Column("oldest", "oldest pending", 14, justify="right"),
            Column("rate", "done/min", 8, justify="right"),
            Column("trend", "depth trend", _SPARK_WIDE),
            Column("workers", "workers advised", 15, justify="right"),
            Column("alert", "alert", 14),
        )
    return (
        Column("queue", "queue", None, min_width=6, max_width=20),
        Column("pending", "pending", 7, justify="right"),
        Column("processing", "proc", 4, justify="right"),
        Column("completed", "done", 5, justify="right"),
        Column("failed", "fail", 4, justify="right"),
        Column("dead", "dead", 4, justify="right"),
        Column("oldest", "oldest", 6, justify="right"),
        Column("rate", "/min", 5, justify="right"),
        Column("trend", "trend", _SPARK_NARROW),
        Column("workers", "wkrs", 4, justify="right"),
    )


def _rate(completed_last_hour: int) -> str:
    per_min = completed_last_hour / 60
    if per_min == 0:
        return "0"
    return f"{per_min:.2f}" if per_min < 10 else f"{per_min:.0f}"


def queue_rows(
    queues: Sequence[QueueStats],
    history: Mapping[str, Sequence[int]],
    threshold: int,
    now: float,
    wide: bool,
    clean: Callable[[str], str] = str,
) -> list[tuple[str, tuple[Cell, ...]]]:
    """One keyed row per queue; a queue past ``threshold`` is marked ``▲`` as well as coloured.

    Throughput is the completed tasks of the last hour per minute; the trend
    is the pending count over the last store polls, on its own scale.
    Queue names are store text: ``clean`` makes them safe to show.
    """
    rows = []
    for q in queues:
        over = q.pending > threshold
        alert = "alert" if over else ""
        points = list(history.get(q.queue, ())) or [q.pending]
        age = format_duration(now - q.oldest_pending_at) if q.oldest_pending_at is not None else "-"
        width = _SPARK_WIDE if wide else _SPARK_NARROW
        workers = recommend_workers(q.pending)
        pending = f"{q.pending:,}" if wide else compact(q.pending)
        cells: list[Cell] = [
            (clean(q.queue), "name-alert" if over else "name"),
            (pending + (" ▲" if over and not wide else ""), alert or "number"),
            (compact(q.processing, 10 if wide else 4), ""),
            (compact(q.completed, 9 if wide else 5), ""),
            (compact(q.failed, 6 if wide else 4), "failed" if q.failed else "muted"),
            (compact(q.dead_letters, 12 if wide else 4), "failed" if q.dead_letters else "muted"),
            (age, "muted" if q.oldest_pending_at is None else ""),
            (_rate(q.completed_last_hour), ""),
            (spark(points, width), "spark-alert" if over else "spark"),
            (str(workers), alert or ""),
        ]
        if wide:
            cells.append((f"▲ over {threshold:,}" if over else "ok", alert or "muted"))
        rows.append((q.queue, tuple(cells)))
    return rows


class QueueTable(StyledTable):
    """Every queue in one row; the screen pushes snapshots in with :meth:`show`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--name",
        "queue-table--name-alert",
        "queue-table--number",
        "queue-table--alert",
        "queue-table--failed",
        "queue-table--muted",
        "queue-table--spark",
        "queue-table--spark-alert",
    }
    ROLE_PREFIX: ClassVar[str] = "queue-table"
    CURSOR_WHEN_BLURRED: ClassVar[bool] = False

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id, sanitizer=sanitizer)
        self._queues: tuple[QueueStats, ...] = ()
        self._history: Mapping[str, Sequence[int]] = {}
        self._threshold = 1000
        self._now = 0.0

    def show(
        self,
        queues: Sequence[QueueStats],
        history: Mapping[str, Sequence[int]],
        threshold: int,
        now: float,
        note: str | None = None,
    ) -> None:
        """Show the queues of one snapshot (``note`` explains an empty table)."""
        self._queues, self._history = tuple(queues), history
        self._threshold, self._now = threshold, now
        over = sum(1 for q in queues if q.pending > threshold)
        title = f"Queues  {len(queues)} · alert above {threshold:,} pending"
        if over:
            title += f" · ▲ {over} over"
        if note and not queues:
            title += f" · {note}"
        self.border_title = Content(self.clean(title))
        self.redraw()

    def columns_for(self, wide: bool) -> tuple[Column, ...]:
        return queue_columns(wide)

    def rows_for(self, wide: bool) -> list[tuple[str, tuple[Cell, ...]]]:
        return queue_rows(self._queues, self._history, self._threshold, self._now, wide, self.clean)

    @property
    def selected_queue(self) -> str | None:
        """The queue under the cursor."""
        return self.selected_key

    def select_queue(self, name: str) -> bool:
        """Put the cursor on ``name``; False when there is no such queue."""
        for index, (key, _cells) in enumerate(self._cells):
            if key == name:
                self.move_cursor(row=index, animate=False)
                return True
        return False
