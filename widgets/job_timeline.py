"""A job's timeline: the job and stage transitions its pipeline log recorded, in time order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text

from oos_tui.sanitize import default_sanitizer
from oos_tui.sources.jobs import TimelineEntry
from oos_tui.timeutil import format_duration
from oos_tui.widgets.job_table import short_time, styled_cell
from oos_tui.widgets.stage_table import seconds_text
from oos_tui.widgets.table import OosTable

__all__ = ["JobTimeline", "timeline_cells"]

_WORDS = {
    "job_started": ("▶ job started", "job"),
    "job_finished": ("■ job finished", "job"),
    "stage_started": ("▷ started", "started"),
    "stage_finished": ("✓ finished", "finished"),
    "stage_failed": ("✕ failed", "failed"),
}
_MAX_DETAIL = 200


def timeline_cells(entry: TimelineEntry, started: float | None) -> tuple[tuple[str, ...], str]:
    """The plain cells of one transition (time, offset, event, stage, detail) and its style name.

    Pure, so tests check it without a UI. The offset counts from the job's
    start; every string from the log is sanitised.
    """
    clean = default_sanitizer().clean
    word, style = _WORDS.get(entry.kind, (clean(entry.kind), "started"))
    status = clean(entry.status) if entry.status else ""
    if entry.kind == "stage_finished" and status and status != "success":
        word = f"↷ finished ({status})" if status == "skipped" else f"? finished ({status})"
    if entry.kind == "job_finished":
        word = "✕ job failed" if status == "failed" else "✓ job finished"
        style = "failed" if status == "failed" else "job"
    detail = ""
    if entry.kind == "stage_finished":
        took = f"in {seconds_text(entry.seconds)}" if entry.seconds is not None else ""
        detail = " ".join(x for x in (status, took) if x)
    elif entry.kind == "stage_failed":
        detail = clean(entry.error or "")
    elif entry.kind == "job_finished":
        detail = status
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 1] + "…"
    offset = "-" if started is None else "+" + format_duration(max(0.0, entry.ts - started))
    cells = (
        short_time(entry.ts, "%H:%M:%S"),
        offset,
        word,
        clean(entry.stage) if entry.stage else "",
        detail,
    )
    return cells, style


class JobTimeline(OosTable):
    """The transitions of the open job's pipeline log (other log lines stay in Events: ``l``)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "job-timeline--job",
        "job-timeline--started",
        "job-timeline--finished",
        "job-timeline--failed",
        "job-timeline--muted",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timeline: Sequence[TimelineEntry] | None = None
        self._started: float | None = None
        self.other_lines = 0
        """Pipeline-log records that are not transitions (shown in Events, not here)."""

    def on_mount(self) -> None:
        for label, key in (
            ("Time", "time"),
            ("Elapsed", "offset"),
            ("Event", "event"),
            ("Stage", "stage"),
            ("Detail", "detail"),
        ):
            self.add_column(label, key=key)
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self._render_rows)
        )

    def show(self, timeline: Sequence[TimelineEntry], started: float | None) -> None:
        """Show a job's timeline; the same tuple again (nothing new in the log) is skipped."""
        if timeline is self._timeline and started == self._started:
            return
        self._timeline = timeline
        self._started = started
        self._render_rows()

    def _render_rows(self) -> None:
        timeline = self._timeline or ()
        rows = []
        other = 0
        for i, entry in enumerate(timeline):
            if not entry.is_transition:
                other += 1
                continue
            cells, style = timeline_cells(entry, self._started)
            key = f"{entry.file}:{entry.line}" if entry.file and entry.line else f"#{i}"
            rows.append((key, self._styled(cells, style)))
        self.other_lines = other
        self.set_rows(rows)

    def _styled(self, cells: tuple[str, ...], style: str) -> tuple[Text, ...]:
        muted = self._style("muted")
        accent = self._style(style)
        return (
            styled_cell(cells[0], muted),
            styled_cell(cells[1], muted),
            styled_cell(cells[2], accent),
            styled_cell(cells[3]),
            styled_cell(cells[4], accent if style == "failed" else None),
        )

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"job-timeline--{name}", partial=True)
