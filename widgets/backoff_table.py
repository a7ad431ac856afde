"""Backing-off pane: tasks waiting for their next attempt, with a countdown and attempt count."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from textual.content import Content

from oos_tui.models import Task
from oos_tui.sanitize import Sanitizer
from oos_tui.timeutil import format_duration
from oos_tui.triage import meaningful_line
from oos_tui.widgets.styled_table import Cell, Column, StyledTable

__all__ = ["BackoffTable", "backing_off", "backoff_columns", "backoff_rows"]


def backing_off(tasks: Sequence[Task], now: float) -> list[Task]:
    """Tasks with attempts made and a next attempt still ahead, soonest first.

    The snapshot was taken a moment ago; a task whose time has come since
    is no longer backing off and is left out.
    """
    waiting = [
        t
        for t in tasks
        if t.attempts > 0 and t.next_attempt_at is not None and t.next_attempt_at > now
    ]
    return sorted(waiting, key=lambda t: (t.next_attempt_at or 0.0, t.id))


def backoff_columns(wide: bool) -> tuple[Column, ...]:
    """The columns at this width (worker and the clock time of the retry only when wide)."""
    if wide:
        return (
            Column("task", "task", 8, justify="right"),
            Column("queue", "queue", 14),
            Column("type", "task type", 14),
            Column("attempt", "attempt", 8, justify="right"),
            Column("retry", "retry in", 10, justify="right"),
            Column("at", "next attempt", 12),
            Column("worker", "worker", 18),
            Column("error", "last error", None, min_width=20),
        )
    return (
        Column("task", "task", 6, justify="right"),
        Column("queue", "queue", 8),
        Column("type", "type", 10),
        Column("attempt", "attempt", 7, justify="right"),
        Column("retry", "retry in", 9, justify="right"),
        Column("error", "last error", None, min_width=12),
    )


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def backoff_rows(
    tasks: Sequence[Task], now: float, wide: bool, clean: Callable[[str], str] = str
) -> list[tuple[int, tuple[Cell, ...]]]:
    """One keyed row per backing-off task (:func:`backing_off`); store text via ``clean``."""
    rows = []
    for t in backing_off(tasks, now):
        due = t.next_attempt_at or now
        late = t.attempts >= t.max_attempts - 1
        cells: list[Cell] = [
            (str(t.id), "muted"),
            (clean(t.queue), ""),
            (clean(t.task_type), ""),
            (f"{t.attempts}/{t.max_attempts}", "last" if late else ""),
            (f"in {format_duration(due - now)}", "countdown"),
        ]
        if wide:
            cells.append((_clock(due), "muted"))
            cells.append((clean(t.worker_id or "-"), ""))
        cells.append((clean(meaningful_line(t.last_error or "")) or "-", "error"))
        rows.append((t.id, tuple(cells)))
    return rows


class BackoffTable(StyledTable):
    """Tasks backing off; the screen pushes the snapshot's tasks and the clock in :meth:`show`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "backoff-table--muted",
        "backoff-table--countdown",
        "backoff-table--last",
        "backoff-table--error",
    }
    ROLE_PREFIX: ClassVar[str] = "backoff-table"
    CURSOR_WHEN_BLURRED: ClassVar[bool] = False

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id, sanitizer=sanitizer)
        self._tasks: tuple[Task, ...] = ()
        self._now = 0.0

    def show(self, tasks: Sequence[Task], now: float) -> None:
        """Show the tasks still waiting at ``now`` (countdowns are relative to it)."""
        self._tasks, self._now = tuple(tasks), now
        count = len(backing_off(tasks, now))
        words = f"{count} task{'s' if count != 1 else ''}" if count else "none"
        self.border_title = Content(f"Backing off  {words} · attempt n/max, retry countdown")
        self.redraw()

    def columns_for(self, wide: bool) -> tuple[Column, ...]:
        return backoff_columns(wide)

    def rows_for(self, wide: bool) -> list[tuple[int, tuple[Cell, ...]]]:
        return backoff_rows(self._tasks, self._now, wide, self.clean)
