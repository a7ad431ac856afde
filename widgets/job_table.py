"""The jobs list: one row per job under ``out/``, newest first, each status a word and a symbol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from oos_tui.sanitize import default_sanitizer
from oos_tui.sources.jobs import FAILED, INCOMPLETE, RUNNING, SUCCESS, JobInfo, job_matches
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.table import OosTable

__all__ = [
    "JOB_SYMBOLS",
    "JobTable",
    "job_cells",
    "job_status_label",
    "live_duration",
    "short_time",
    "styled_cell",
]

JOB_SYMBOLS: dict[str, str] = {RUNNING: "▶", SUCCESS: "✓", FAILED: "✕", INCOMPLETE: "?"}
"""A symbol per job status, so the status reads without colour."""

_MAX_ID = 32


def job_status_label(status: str) -> str:
    """``✕ failed``: the symbol and the word (an unknown status keeps its own, cleaned, word)."""
    return f"{JOB_SYMBOLS.get(status, '?')} {default_sanitizer().clean(status)}"


def live_duration(info: JobInfo, now: float) -> float | None:
    """A running job's age by the console's clock; the scan's figure otherwise.

    The scanner computes a running job's duration when it scans (every few
    seconds); between scans the console's own clock keeps it ticking.
    """
    started = info.job.started_at
    if info.status == RUNNING and started is not None:
        return max(0.0, now - started)
    return info.duration_seconds


def short_time(ts: float | None, fmt: str = "%m-%d %H:%M") -> str:
    """A UTC timestamp in ``fmt``, or ``-`` when unknown or out of range."""
    if ts is None or ts != ts:
        return "-"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "-"


def styled_cell(text: str, style: Style | None = None) -> Text:
    """A table cell of plain text (never markup) with ``style`` as a span.

    A span, not the Text's base style: keyed tables compare cells with
    ``Text.__eq__``, which sees spans but not the base style, so a theme
    change would otherwise leave the old colours on screen.
    """
    cell = Text(text)
    if style:
        cell.stylize(style)
    return cell


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def job_cells(info: JobInfo, now: float) -> tuple[str, ...]:
    """The plain text of one row: job, status, stages, failed at, duration, output, started.

    Pure, so tests check it without a UI; every string from disk is sanitised.
    """
    clean = default_sanitizer().clean
    return (
        _cut(clean(info.id), _MAX_ID),
        job_status_label(info.status),
        f"{info.stages_done}/{info.stages_total}",
        clean(info.failed_stage) if info.failed_stage else "-",
        format_duration(live_duration(info, now)),
        format_bytes(info.job.output_bytes),
        short_time(info.job.started_at),
    )


class JobTable(OosTable):
    """The jobs under ``out/``; ``enter`` opens one, ``/`` filters by id, status or failed stage.

    The screen pushes each new snapshot with :meth:`show`; rows of jobs the
    scanner did not touch (the same :class:`JobInfo` object) are not rebuilt.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open", id="jobs.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "job-table--running",
        "job-table--success",
        "job-table--failed",
        "job-table--incomplete",
        "job-table--muted",
    }

    DEFAULT_CSS = """
    JobTable { height: 1fr; }
    """

    class Chosen(Message):
        """The operator asked to open a job."""

        def __init__(self, job_id: str) -> None:
            super().__init__()
            self.job_id = job_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._jobs: Sequence[JobInfo] = ()
        self._now = 0.0
        self._cache: dict[str, tuple[JobInfo, tuple[Text, ...]]] = {}

    def on_mount(self) -> None:
        for label, key in (
            ("Job", "job"),
            ("Status", "status"),
            ("Stages", "stages"),
            ("Failed at", "failed"),
            ("Duration", "duration"),
            ("Output", "output"),
            ("Started", "started"),
        ):
            self.add_column(label, key=key)
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def show(self, jobs: Sequence[JobInfo], now: float) -> None:
        """Show a scan's jobs (already newest first) as of ``now``."""
        self._jobs = jobs
        self._now = now
        alive = {info.id for info in jobs}
        for gone in [k for k in self._cache if k not in alive]:
            del self._cache[gone]
        self._render_rows()

    def apply_filter(self, text: str) -> None:
        """Keep the jobs whose id, status or failed stage hold every word of ``text``."""
        self.filter_text = text
        self._render_rows()

    @property
    def shown_count(self) -> int:
        """Rows after the filter."""
        return self.row_count

    def _render_rows(self) -> None:
        rows = [
            (info.id, self._cells(info))
            for info in self._jobs
            if not self.filter_text or job_matches(info, self.filter_text)
        ]
        self.set_rows(rows)

    def _cells(self, info: JobInfo) -> tuple[Text, ...]:
        cached = self._cache.get(info.id)
        if cached is not None and cached[0] is info and info.status != RUNNING:
            return cached[1]
        plain = job_cells(info, self._now)
        status = self._style(info.status if info.status in JOB_SYMBOLS else INCOMPLETE)
        muted = self._style("muted")
        cells = (
            styled_cell(plain[0]),
            styled_cell(plain[1], status),
            styled_cell(plain[2]),
            styled_cell(plain[3], self._style(FAILED) if info.failed_stage else muted),
            styled_cell(plain[4]),
            styled_cell(plain[5]),
            styled_cell(plain[6], muted),
        )
        self._cache[info.id] = (info, cells)
        return cells

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"job-table--{name}", partial=True)

    def _restyle(self, _theme: object) -> None:
        # The new theme's component styles are in place only after the next refresh.
        self._cache.clear()
        self.call_after_refresh(self._render_rows)

    def move_to(self, job_id: str) -> None:
        """Put the cursor on ``job_id`` (no-op when it is filtered out or gone)."""
        try:
            row = self.get_row_index(job_id)
        except RowDoesNotExist:
            return
        self.move_cursor(row=row, animate=False)

    def action_choose(self) -> None:
        """Open the job under the cursor."""
        key = self.selected_key
        if key is not None:
            self.post_message(self.Chosen(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))
