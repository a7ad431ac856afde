"""Events: every source in one live stream, with search, histogram, detail and trace."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.worker import get_current_worker

from oos_tui.eventlog.search import SearchCancelled, Searcher, SearchResult
from oos_tui.eventlog.stream import StreamView
from oos_tui.eventlog.unreadable import UnreadableFinder, UnreadableResult
from oos_tui.memory import release_free_memory
from oos_tui.models import Event
from oos_tui.query import Query, QueryError, compile_query
from oos_tui.screens.base import ConsoleScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.event_detail import EventDetail
from oos_tui.widgets.event_list import EventList
from oos_tui.widgets.filter_bar import FilterBar
from oos_tui.widgets.histogram import Histogram, HistogramData, SortedTimes, bucket
from oos_tui.widgets.text_line import QuietStatic

__all__ = ["EventsScreen"]

_SEVERITY_QUERIES = {"error": "severity>=error", "warning": "severity:warning"}
_LIVE_SEARCH_SECONDS = 0.3
_SEVERITY_SECONDS = 2.0
_HISTOGRAM_SECONDS = 0.5
"""While the stream only grows, the histogram is recounted at most this often."""
_TRIM_AFTER_SCANNED = 500_000
"""A search that read more records than this frees enough to hand back to the OS."""


class EventsScreen(ConsoleScreen):
    """The stream, filtered live by the search language; ``t`` traces, ``enter`` shows detail.

    ``u`` hides unreadable lines (and shows them again). Finding them runs in a
    thread worker a bounded slice at a time (:class:`UnreadableFinder`); each
    slice's result replaces the list's rows, and the next slice starts when
    the last one is done, with the newest view (so following goes on).
    """

    MODE: ClassVar[str] = "events"
    AUTO_FOCUS = "EventList"
    FILTER_HINT = '/query  e.g. type:FAIL source:Tech* since:15m -kind:ai "time out"'

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_mode", "Only/mark matches", id="events.mode"),
        Binding("u", "toggle_unreadable", "Unreadable", id="events.unreadable"),
    ]

    class SearchDone(Message):
        """A search finished (or failed with a one-line reason)."""

        def __init__(
            self, text: str, result: SearchResult | None, error: str | None = None
        ) -> None:
            super().__init__()
            self.text = text
            self.result = result
            self.error = error

    class SeverityIndex(Message):
        """Refs of warnings and errors in the current view (for e/E and the histogram)."""

        def __init__(self, version: int, errors: np.ndarray, warnings: np.ndarray) -> None:
            super().__init__()
            self.version = version
            self.errors = errors
            self.warnings = warnings

    class UnreadableFound(Message):
        """One slice of the hunt for unreadable lines finished (or failed with a reason)."""

        def __init__(
            self, run: int, result: UnreadableResult | None, error: str | None = None
        ) -> None:
            super().__init__()
            self.run = run
            self.result = result
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self._searcher = Searcher()
        self._finder = UnreadableFinder()
        self._hide_unreadable = False
        self._hidden: UnreadableResult | None = None
        """The last unreadable lines found (while they are hidden)."""
        self._hidden_error: str | None = None
        self._find_run = 0
        """Numbers the finder's runs: a result from a run since superseded is dropped."""
        self._finding = False
        self._listed: object = None
        """The rows last handed to the list (None: the whole order of the view)."""
        self._sev_searcher = Searcher(cache_queries=2)
        self._view: StreamView | None = None
        self._text = ""
        self._query: Query | None = None
        self._result: SearchResult | None = None
        self._error: str | None = None
        self._searching = False
        self._only_matches = True
        self._errors = np.empty(0, dtype=np.int64)
        self._warnings = np.empty(0, dtype=np.int64)
        self._sev_version = -1
        self._last_runs: dict[str, float] = {}
        self._pending_runs: dict[str, Timer] = {}
        self._hist_due = True
        self._hist_stale = False
        self._hist_counted = -1e9
        self._hist_timer: Timer | None = None
        self._hist_data: HistogramData | None = None
        self._hist_query = ""
        """The query the histogram counts ("" for the whole stream)."""

    def compose_body(self) -> ComposeResult:
        yield Histogram(id="histogram")
        yield QuietStatic(id="events-info", fixed=True)
        yield EventList(id="event-list")
        yield EventDetail(id="event-detail")

    def on_mount(self) -> None:
        self.query_one(EventDetail).display = False

    # -- state in -----------------------------------------------------------------

    def show_body(self, state: ConsoleState, now: float) -> None:
        view = state.stream
        if view is None or view is self._view:
            self._render_info()
            return
        # Growth of a ready stream (following) is recounted at a bounded rate;
        # anything else (the index finished, a rotation rebuilt it) at once.
        if self._view is not None and self._view.ready and view.ready:
            self._hist_stale = True
        else:
            self._hist_due = True
        self._view = view
        self._show_list()
        if self._hide_unreadable and not self._finding:
            self._find_unreadable_now()
        if self._query is not None:
            self._at_most_every("search", _LIVE_SEARCH_SECONDS, self._search_newest)
        if view.ready:
            self._at_most_every("severity", _SEVERITY_SECONDS, self._index_newest)
        # The rows first: counting the histogram's columns takes up to 20 ms.
        self.call_after_refresh(self._update_histogram)
        self._render_info()

    def _at_most_every(self, name: str, seconds: float, run: Callable[[], None]) -> None:
        """Run ``run`` now, or once ``seconds`` after its last run: never less often.

        Following re-runs the live search and the error index for each new
        view, at a bounded rate; a view that arrives inside the interval is
        caught up by a timer, not left until the next write (the newest
        matches and errors were missing when the writer went quiet).
        """
        if name in self._pending_runs:
            return  # a timer will run it for the newest view
        wait = self._last_runs.get(name, -1e9) + seconds - time.monotonic()
        if wait <= 0:
            self._last_runs[name] = time.monotonic()
            run()
            return

        def later() -> None:
            del self._pending_runs[name]
            self._last_runs[name] = time.monotonic()
            run()

        self._pending_runs[name] = self.set_timer(wait, later)

    def _search_newest(self) -> None:
        if self._query is not None and self._view is not None:
            self._search(self._text, self._view)

    def _index_newest(self) -> None:
        if self._view is not None and self._view.ready:
            self._severity_index(self._view)

    def _filtered_refs(self, view: StreamView) -> np.ndarray | None:
        if self._result is None:
            return np.empty(0, dtype=np.int64)
        return self._result.refs if self._only_matches else None

    def _show_list(self) -> None:
        """Hand the list what it shows now: the matches, or the stream (maybe without unreadable).

        While unreadable lines are hidden the list shows the view the last
        finder run was for (at most one run behind the newest view), so a
        new unreadable line is never shown before it is known.
        """
        view = self._view
        if view is None:
            return
        lst = self.query_one(EventList)
        refs = self._filtered_refs(view) if self._query is not None else None
        hidden = self._hidden if self._hide_unreadable else None
        if refs is not None:
            lst.show(view, refs)
            self._listed = refs
        elif hidden is not None:
            if self._listed is not hidden.rows:  # the same rows again: nothing to redo
                lst.show(hidden.view, hidden.rows)
                self._listed = hidden.rows
        else:
            lst.show(view)
            self._listed = None

    # -- the query ----------------------------------------------------------------

    def filter_target(self):  # type: ignore[override]
        return self.query_one(EventList)

    def open_filter(self) -> bool:
        self._filter_target = self.query_one(EventList)
        self.query_one(FilterBar).open(self._text)
        return True

    def filter_changed(self, text: str) -> None:
        self.set_query(text)

    def apply_command_argument(self, arg: str) -> None:
        """``:events QUERY`` lands here."""
        self.set_query(arg)

    def set_query(self, text: str) -> None:
        """Compile and run ``text``; an invalid query is reported and the last results stay."""
        text = text.strip()
        if not text:
            self._text, self._query, self._result, self._error = "", None, None, None
            self.workers.cancel_group(self, "search")
            self._searching = False
            lst = self.query_one(EventList)
            lst.set_marks(set(), None)
            self._show_list()
            self._hist_due = True
            self._update_histogram()
            self._render_info()
            return
        try:
            query = compile_query(text, now=self.oos_app.clock.now())
        except QueryError as exc:
            self._error = str(exc)
            self._render_info()
            return
        self._error = None
        self._text, self._query = text, query
        if self._view is not None:
            self._search(text, self._view)
        self._render_info()

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, text: str, view: StreamView) -> None:
        worker = get_current_worker()
        query = self._query
        if query is None or query.text != text:
            return
        self._searching = True
        try:
            result = self._searcher.search(view, query, cancelled=lambda: worker.is_cancelled)
        except SearchCancelled:
            return
        except Exception as exc:  # an unreadable file mid-search: say so, keep the old results
            self.post_message(self.SearchDone(text, None, f"search failed: {exc}"))
            return
        if result.scanned > _TRIM_AFTER_SCANNED:
            release_free_memory()  # a first search over millions of records frees a lot
        if not worker.is_cancelled:
            self.post_message(self.SearchDone(text, result))

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        if message.text != self._text:
            return
        self._searching = False
        if message.result is None:
            self._error = message.error
        else:
            self._result = message.result
            lst = self.query_one(EventList)
            self._show_list()
            marks = set() if self._only_matches else set(message.result.refs.tolist())
            query = self._query
            lst.set_marks(marks, query.highlights if query is not None else None)
            if self._hist_query == message.text:
                self._hist_stale = True  # the live re-run of the same query
            else:
                self._hist_due = True
            self._update_histogram()
        self._render_info()

    def action_toggle_mode(self) -> None:
        """Show only the matches, or everything with the matches marked (n/N jump between them)."""
        self._only_matches = not self._only_matches
        lst = self.query_one(EventList)
        if self._view is not None and self._query is not None:
            self._show_list()
            marks = (
                set()
                if self._only_matches or self._result is None
                else set(self._result.refs.tolist())
            )
            lst.set_marks(marks, self._query.highlights)
        self._render_info()

    # -- unreadable lines ------------------------------------------------------------

    def action_toggle_unreadable(self) -> None:
        """Hide unreadable lines (parse errors) from the list, or show them again."""
        self._hide_unreadable = not self._hide_unreadable
        self._hidden, self._hidden_error = None, None
        if self._hide_unreadable:
            self._find_unreadable_now()
        else:
            self._find_run += 1  # a result still on its way is dropped
            self._finding = False
            self.workers.cancel_group(self, "unreadable")
            self._show_list()
        self._render_info()

    def _find_unreadable_now(self) -> None:
        """Start the next finder run on the newest view (one run at a time)."""
        if self._view is None:
            return
        self._find_run += 1
        self._finding = True
        self._find_unreadable(self._find_run, self._view)

    @work(thread=True, exclusive=True, group="unreadable", exit_on_error=False)
    def _find_unreadable(self, run: int, view: StreamView) -> None:
        worker = get_current_worker()
        try:
            result = self._finder.find(view, cancelled=lambda: worker.is_cancelled)
        except SearchCancelled:
            return
        except Exception as exc:  # a file gone unreadable: say so, keep what was found
            self.post_message(self.UnreadableFound(run, None, f"{exc}"))
            return
        if result.scanned > _TRIM_AFTER_SCANNED:
            release_free_memory()
        if not worker.is_cancelled:
            self.post_message(self.UnreadableFound(run, result))

    @on(UnreadableFound)
    def _unreadable_found(self, message: UnreadableFound) -> None:
        if message.run != self._find_run or not self._hide_unreadable:
            return
        self._finding = False
        result = message.result
        if result is None:
            self._hidden_error = message.error
            self._render_info()
            return  # the next new view tries again
        self._hidden, self._hidden_error = result, None
        self._show_list()
        self._render_info()
        view = self._view
        if view is not None and (not result.complete or view is not result.view):
            self._find_unreadable_now()  # more to check, or lines arrived meanwhile

    def _unreadable_words(self) -> str:
        """What the info line says about hidden unreadable lines (words, not only colour)."""
        hidden = self._hidden
        if hidden is None:
            words = "unreadable hidden (finding them…)"
        elif hidden.complete:
            words = f"{hidden.count:,} unreadable hidden"
        else:
            words = f"{hidden.count:,} unreadable hidden (checking {hidden.checked * 100:.0f}%)"
        if self._hidden_error:
            words += f" ✕ {self._hidden_error}"
        return f"· {words} "

    # -- severity index, histogram ----------------------------------------------------

    @work(thread=True, exclusive=True, group="severity", exit_on_error=False)
    def _severity_index(self, view: StreamView) -> None:
        worker = get_current_worker()
        found = {}
        scanned = 0
        try:
            for name, text in _SEVERITY_QUERIES.items():
                result = self._sev_searcher.search(
                    view, compile_query(text), cancelled=lambda: worker.is_cancelled
                )
                found[name], scanned = result.refs, scanned + result.scanned
        except SearchCancelled:
            return
        except Exception:
            return
        if scanned > _TRIM_AFTER_SCANNED:
            release_free_memory()
        self.post_message(self.SeverityIndex(view.version, found["error"], found["warning"]))

    @on(SeverityIndex)
    def _severity_ready(self, message: SeverityIndex) -> None:
        self._errors, self._warnings = message.errors, message.warnings
        first = self._sev_version < 0
        self._sev_version = message.version
        if first:
            self._hist_due = True
        else:
            self._hist_stale = True  # a live refresh: at the bounded rate
        self._update_histogram()

    def on_resize(self) -> None:
        self._hist_due = True
        self.call_after_refresh(self._update_histogram)  # once the histogram has its new width

    def _histogram_timer(self) -> None:
        self._hist_timer = None
        self._update_histogram()

    def _update_histogram(self) -> None:
        """Recount the histogram when due (or stale for long enough); else leave it be.

        A count binary-searches the column edges in the time-sorted order (a
        few thousand reads, whatever the stream's size); a growing stream is
        still recounted at a bounded rate, and a cursor move only redraws the
        cursor's column (:meth:`_show_histogram_cursor`).
        """
        view = self._view
        if view is None:
            return
        if self._hist_stale and not self._hist_due:
            wait = self._hist_counted + _HISTOGRAM_SECONDS - time.monotonic()
            if wait > 0:
                if self._hist_timer is None:
                    self._hist_timer = self.set_timer(wait, self._histogram_timer)
                return
            self._hist_due = True
        if not self._hist_due:
            return
        self._hist_due = self._hist_stale = False
        self._hist_counted = time.monotonic()
        hist = self.query_one(Histogram)
        if self._query is not None and self._result is not None:
            refs, self._hist_query = self._result.refs, self._text
            errs = np.intersect1d(self._errors, refs, assume_unique=True)
            warns = np.intersect1d(self._warnings, refs, assume_unique=True)
            every = SortedTimes(refs.shape[0], lambda at: view.ts_of(refs[at]))
        else:
            errs, warns, order = self._errors, self._warnings, view.order
            self._hist_query = ""
            every = SortedTimes(order.length, lambda at: view.ts_of(order.take(at)))
        # Search results (and so errors and warnings) are in stream order: by time.
        width = max(10, hist.size.width - 5)
        self._hist_data = bucket(
            every,
            SortedTimes(warns.shape[0], lambda at: view.ts_of(warns[at])),
            SortedTimes(errs.shape[0], lambda at: view.ts_of(errs[at])),
            width,
            None,
        )
        self._show_histogram_cursor()

    def _show_histogram_cursor(self) -> None:
        """Draw the last counts with the cursor's column marked."""
        data = self._hist_data
        if data is not None:
            lst = self.query_one(EventList)
            cursor = lst.selected_ref
            data = data.at(lst.ts_of(cursor) if cursor is not None else None)
        self.query_one(Histogram).show(data)

    # -- info line ----------------------------------------------------------------------

    def _render_info(self) -> None:
        lst = self.query_one(EventList)
        view = self._view
        parts: list[tuple[str, str]] = []
        if view is None:
            parts.append(("reading the logs…", "$text-muted"))
        elif not view.ready:
            parts.append((f"indexing {view.progress * 100:.0f}% (newest lines shown) ", "$warning"))
        if self._text:
            parts.append((f"/{self._text} ", "bold"))
            if self._searching or (self._result is None and self._error is None):
                parts.append(("searching… ", "$text-muted"))
            if self._result is not None and view is not None:
                mode = "shown" if self._only_matches else "marked (n/N)"
                parts.append((f"{self._result.count:,} of {view.total:,} {mode} ", ""))
        elif view is not None:
            parts.append((f"{view.total:,} events ", ""))
        if self._hide_unreadable:
            parts.append((self._unreadable_words(), "$warning"))
        if self._error:
            parts.append((f"✕ {self._error} (previous results kept) ", "$sev-error"))
        if lst.paused:
            parts.append((f"‖ paused, {lst.held} new · p resumes", "bold $warning"))
        elif lst.following:
            parts.append(("● following", "$success"))
        else:
            parts.append((f"▲ {lst.arrived} new · f follows", "$warning"))
        self.query_one("#events-info", QuietStatic).show(Content.assemble(*parts))

    # -- list requests ------------------------------------------------------------------

    @on(EventList.CursorMoved)
    def _cursor_moved(self, message: EventList.CursorMoved) -> None:
        lst = self.query_one(EventList)
        if message.ref is not None:
            rec = lst.record(message.ref)
            where = getattr(rec, "file", None) or "?"
            line = getattr(rec, "line", None)
            self.set_where_from(f"{where}:{line}" if line else where)
            detail = self.query_one(EventDetail)
            if detail.display:
                detail.show(rec, lst.ts_of(message.ref))
        self._show_histogram_cursor()
        self._render_info()

    @on(EventList.Requested)
    def _requested(self, message: EventList.Requested) -> None:
        lst = self.query_one(EventList)
        if message.what == "detail":
            detail = self.query_one(EventDetail)
            detail.display = not detail.display
            if detail.display and message.ref is not None:
                detail.show(lst.record(message.ref), lst.ts_of(message.ref))
        elif message.what == "trace":
            self._trace(message.ref)
        elif message.what in ("match", "error"):
            self._jump(message.what, message.ref, message.direction)

    def _jump(self, what: str, ref: int | None, direction: int) -> None:
        lst = self.query_one(EventList)
        if what == "match" and (self._query is None or self._only_matches):
            if self._query is None:
                self.notify("no query: type / to search", timeout=3)
            else:
                lst.action_cursor(direction)
            return
        targets = (
            self._errors
            if what == "error"
            else (self._result.refs if self._result is not None else None)
        )
        if targets is None or targets.size == 0:
            self.notify("no errors indexed yet" if what == "error" else "no matches", timeout=3)
            return
        if self._view is None:
            return
        here = lst.ts_of(ref) if ref is not None else -np.inf
        ts = self._view.ts_of(targets)
        order = np.lexsort((targets, ts))
        targets, ts = targets[order], ts[order]
        if direction > 0:
            idx = int(np.searchsorted(ts, here, side="right"))
            idx = idx if idx < targets.size else 0
        else:
            idx = int(np.searchsorted(ts, here, side="left")) - 1
            idx = idx if idx >= 0 else targets.size - 1
        row = lst.row_of(int(targets[idx]))
        if row is None:
            self.notify(f"that {what} is not in the current view (clear the query)", timeout=3)
            return
        lst.go_to_row(row)

    def _trace(self, ref: int | None) -> None:
        lst = self.query_one(EventList)
        rec = lst.record(ref) if ref is not None else None
        if not isinstance(rec, Event):
            self.notify("select an event to trace", timeout=3)
            return
        if not (rec.item_id or rec.correlation_id):
            self.notify("this event has no item id or correlation id to trace", timeout=4)
            return
        from oos_tui.screens.trace import TraceScreen

        if self._view is not None:
            self.app.push_screen(TraceScreen(self._view, rec))

    def on_unmount(self) -> None:
        self._searcher.close()
        self._sev_searcher.close()
        self._finder.close()
