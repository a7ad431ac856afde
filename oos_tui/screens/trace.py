"""Trace: one item's or one correlation id's story across every source, in time order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.search import SearchCancelled, Searcher
from oos_tui.eventlog.stream import StreamView
from oos_tui.models import Event, ParseError
from oos_tui.sanitize import default_sanitizer
from oos_tui.trace import Trace, TraceRow, build_trace
from oos_tui.widgets.event_detail import EventDetail
from oos_tui.widgets.key_bar import KeyBar
from oos_tui.widgets.table import OosTable

if TYPE_CHECKING:
    from oos_tui.app import OosApp

__all__ = ["TraceScreen"]


def _when(ts: float) -> str:
    if ts != ts or ts <= 0:
        return "--:--:--.---"
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


class TraceScreen(Screen):
    """Every event sharing the item id or correlation id, plus the item's tasks and dead letters."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="trace.close"),
        # Before the focused table's own enter (select the row), which took it.
        Binding("enter", "toggle_detail", "Detail", priority=True, id="trace.detail"),
    ]

    class Ready(Message):
        """The trace was assembled."""

        def __init__(self, trace: Trace) -> None:
            super().__init__()
            self.trace = trace

    def __init__(self, view: StreamView, event: Event) -> None:
        super().__init__()
        self._view = view
        self._event = event
        self._searcher = Searcher(cache_queries=1)
        self._reader = RecordReader(cache_size=512)
        self._rows: dict[str, TraceRow] = {}

    def compose(self) -> ComposeResult:
        clean = default_sanitizer().clean
        what = []
        if self._event.item_id:
            what.append(f"item {clean(self._event.item_id)}")
        if self._event.correlation_id:
            what.append(f"correlation {clean(self._event.correlation_id)}")
        with Vertical(id="trace-body"):
            yield Static(f"Trace of {' and '.join(what)} — tracing…", id="trace-head", markup=False)
            table = OosTable(id="trace-table")
            table.add_columns("time", "what", "source", "type / status", "message")
            yield table
            yield EventDetail(id="trace-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(EventDetail).display = False
        self._build()

    @work(thread=True, exclusive=True, group="trace", exit_on_error=False)
    def _build(self) -> None:
        worker = get_current_worker()
        app: OosApp = self.app  # type: ignore[assignment]
        try:
            trace = build_trace(
                self._view,
                self._event,
                self._searcher,
                app.settings.store_path,
                cancelled=lambda: worker.is_cancelled,
            )
        except SearchCancelled:
            return
        self.post_message(self.Ready(trace))

    @on(Ready)
    def _ready(self, message: Ready) -> None:
        trace = message.trace
        clean = default_sanitizer().clean
        head = self.query_one("#trace-head", Static)
        summary = (
            f"Trace {clean(trace.query)}: {trace.events} events across "
            f"{len(trace.sources)} sources ({', '.join(trace.sources)})"
        )
        if trace.problem:
            summary += f" — {trace.problem}"
        head.update(Content(summary))
        rows = []
        for n, row in enumerate(trace.rows):
            key = f"r{n}"
            self._rows[key] = row
            rows.append((key, self._cells(row)))
        self.query_one(OosTable).set_rows(rows)

    def _cells(self, row: TraceRow) -> tuple[object, ...]:
        clean = default_sanitizer().clean
        if row.kind == "event" and row.ref is not None:
            rec = self._reader.record(self._view, row.ref)
            if isinstance(rec, ParseError):
                return (_when(row.ts), "unreadable", rec.file, "", clean(rec.reason))
            return (
                _when(row.ts),
                f"{rec.kind} {rec.severity.word}",
                clean(rec.source)[:24],
                clean(rec.event_type)[:16],
                clean(rec.message.split("\n", 1)[0])[:200],
            )
        if row.task is not None:
            t = row.task
            return (
                _when(row.ts),
                "task",
                f"{t.queue} #{t.id}",
                f"{t.status} {t.attempts}/{t.max_attempts}",
                clean(t.last_error or "")[:200],
            )
        d = row.dead_letter
        assert d is not None
        return (
            _when(row.ts),
            "DEAD LETTER",
            f"{d.queue} #{d.id}",
            d.task_type,
            clean(d.error_first_line)[:200],
        )

    def action_toggle_detail(self) -> None:
        """Show the selected row in full."""
        detail = self.query_one(EventDetail)
        detail.display = not detail.display
        self._show_selected()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        detail = self.query_one(EventDetail)
        key = self.query_one(OosTable).selected_key
        row = self._rows.get(key or "")
        if not detail.display or row is None:
            return
        if row.kind == "event" and row.ref is not None:
            detail.show(self._reader.record(self._view, row.ref), row.ts)
        else:
            detail.show_content(Content(repr(row.task or row.dead_letter)))

    def action_close(self) -> None:
        """Back to the Events screen."""
        self.dismiss()

    def on_unmount(self) -> None:
        self._searcher.close()
        self._reader.close()
