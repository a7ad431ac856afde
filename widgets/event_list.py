"""The event list: millions of rows through the line API, each read from disk only when shown.

A :class:`EventList` shows either the whole stream (a
:class:`~oos_tui.eventlog.stream.StreamView`'s merged order) or a filtered
list of refs. Rows are rendered by :meth:`render_line` for the visible lines
only; each record is read and parsed on demand (cached), so the memory cost
of a 2,000,000-line file is its index, not its text.

Follow mode keeps the cursor on the newest row as events arrive; moving up
leaves follow mode and the number of rows that arrived since is reported;
``f`` or ``End`` resumes. ``p`` pauses the display without losing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.stream import StreamView
from oos_tui.eventlog.unreadable import GappedOrder
from oos_tui.models import Event, ParseError, Severity
from oos_tui.sanitize import default_sanitizer

__all__ = ["EventList", "Row", "row_cells"]

_SEV_WORD = {
    Severity.DEBUG: ("DBG", "debug"),
    Severity.INFO: ("INF", "info"),
    Severity.WARNING: ("WRN", "warning"),
    Severity.ERROR: ("ERR", "error"),
    Severity.CRITICAL: ("CRT", "critical"),
}

Row = tuple[str, str]  # (text, component class suffix)


def _length(rows: Any) -> int:
    """Rows in a list of refs, an array, or a chunked order (``length``)."""
    return len(rows) if not hasattr(rows, "length") else int(rows.length)


def _cut(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def row_cells(rec: Event | ParseError, ts: float, width: int) -> list[Row]:
    """The cells of one row for a terminal ``width`` (pure: tested without a UI).

    Every part of the row that comes from a log is sanitised; the severity is
    a word as well as a colour; an unreadable line says so and shows its text.
    """
    clean = default_sanitizer().clean
    wide = width >= 140
    when = "--:--:--.---"
    if ts == ts and ts > 0:
        dt = datetime.fromtimestamp(ts, UTC)
        fmt = "%m-%d %H:%M:%S." if wide else "%H:%M:%S."
        when = dt.strftime(fmt) + f"{dt.microsecond // 1000:03d}"
    source_w, type_w = (20, 12) if wide else (12, 8)
    if isinstance(rec, ParseError):
        text = f"unreadable {rec.file}:{rec.line}: {rec.reason}: {clean(rec.raw)}"
        cells: list[Row] = [
            (when, "time"),
            (" ???", "unreadable"),
            (f" {rec.kind or '?':<5}", "meta"),
        ]
        used = sum(len(t) for t, _ in cells) + 1
        return [*cells, (" " + _cut(text, width - used), "unreadable")]
    word, cls = _SEV_WORD.get(rec.severity, ("INF", "info"))
    source = _cut(clean(rec.source), source_w)
    etype = _cut(clean(rec.event_type), type_w)
    first, _, rest = rec.message.partition("\n")
    message = clean(first) + (" ⏎" if rest else "")
    cells = [
        (when, "time"),
        (f" {word}", cls),
        (f" {rec.kind:<5}", "meta"),
        (f" {source:<{source_w}}", "meta"),
        (f" {etype:<{type_w}}", "type"),
    ]
    used = sum(len(t) for t, _ in cells) + 1
    return [*cells, (" " + _cut(message, width - used), "message" if cls == "info" else cls)]


class EventList(ScrollView, can_focus=True):
    """A virtual list of events; the screen feeds it views and refs and reacts to its messages."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-list--cursor",
        "event-list--time",
        "event-list--meta",
        "event-list--type",
        "event-list--message",
        "event-list--debug",
        "event-list--info",
        "event-list--warning",
        "event-list--error",
        "event-list--critical",
        "event-list--unreadable",
        "event-list--match",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="events.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="events.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="events.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="events.page_up"),
        Binding("home,g", "top", "Top", show=False, id="events.top"),
        Binding("end,G", "bottom", "Bottom", show=False, id="events.bottom"),
        Binding("f", "follow", "Follow", id="events.follow"),
        Binding("p", "pause", "Pause", id="events.pause"),
        Binding("enter", "toggle_detail", "Detail", id="events.detail"),
        Binding("t", "trace", "Trace", id="events.trace"),
        Binding("n", "jump('match', 1)", "Next match", show=False, id="events.next_match"),
        Binding("N", "jump('match', -1)", "Prev match", show=False, id="events.prev_match"),
        Binding("e", "jump('error', 1)", "Next error", id="events.next_error"),
        Binding("E", "jump('error', -1)", "Prev error", show=False, id="events.prev_error"),
    ]

    DEFAULT_CSS = """
    EventList {
        height: 1fr;
        overflow-y: scroll;
        overflow-x: hidden;
    }
    """

    class CursorMoved(Message):
        """The selected row changed (``ref`` None when the list is empty)."""

        def __init__(self, ref: int | None) -> None:
            super().__init__()
            self.ref = ref

    class Requested(Message):
        """The operator asked for something about the selected row (detail, trace, a jump)."""

        def __init__(self, what: str, ref: int | None, direction: int = 0) -> None:
            super().__init__()
            self.what = what
            self.ref = ref
            self.direction = direction

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: StreamView | None = None
        self._rows: Any = np.empty(0, dtype=np.int64)  # the merged order (Chunked) or refs
        self._count = 0
        self._pending: tuple[StreamView, Any] | None = None
        self._reader = RecordReader()
        self._cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(2048)
        self._style_table: dict[tuple[Style, bool, bool], dict[str, Style]] = {}
        self._prefetched: tuple[int, int, int] | None = None  # (view, scroll, height) read ahead
        self._matches: set[int] = set()
        self._highlight: Callable[[str], list[tuple[int, int]]] | None = None
        self.cursor = 0
        self.following = True
        self.paused = False
        self.arrived = 0  # rows added while not following
        self.held = 0  # rows that arrived while paused, shown on resume

    # -- data in -------------------------------------------------------------------

    @property
    def view(self) -> StreamView | None:
        """The stream view being shown."""
        return self._view

    @property
    def count(self) -> int:
        """Rows shown."""
        return self._count

    def show(
        self, view: StreamView, refs: Sequence[int] | np.ndarray | GappedOrder | None = None
    ) -> None:
        """Show ``view`` (all of it, or only ``refs`` in that order).

        ``refs`` may be a :class:`GappedOrder` (the view's order with some rows
        left out, such as hidden unreadable lines): it is read row by row like
        the order itself, never copied.
        """
        rows = view.order if refs is None else refs
        if self.paused:
            self._pending = (view, rows)
            self.held = max(0, _length(rows) - self._count)
            return
        self._apply(view, rows)

    def _apply(self, view: StreamView, rows: Any) -> None:
        old_ref = self.selected_ref
        old_count = self._count
        old = self._view
        if old is not None and (view.version < old.version or len(view.files) < len(old.files)):
            self._cache.clear()  # another stream (a reload): its refs name other records
        self._view = view
        self._rows = rows
        self._count = _length(rows)
        self._set_row_count()
        # The row cache survives a new view: a ref names the same record for the
        # stream's whole life (a rotated or truncated file gets a new slot), so
        # following re-renders only the rows that arrived, not the whole screen.
        if self.following:
            self.cursor = max(0, self._count - 1)
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.arrived += max(0, self._count - old_count)
            self.cursor = self._find(old_ref, self.cursor)
        self.refresh()
        if self.selected_ref != old_ref:
            self.post_message(self.CursorMoved(self.selected_ref))

    def _set_row_count(self) -> None:
        size = Size(self.size.width, self._count)
        old = self.virtual_size
        visible = self.container_size.height
        if (
            self.is_mounted
            and old.width == size.width
            and (old.height > visible) == (size.height > visible)
        ):
            # More rows, the same scrollbars: Textual's virtual_size is a layout
            # reactive, so assigning it re-arranged the whole screen for every
            # batch of followed lines (measured: every frame at 2,000 lines/s).
            # Only the list and its scrollbar's thumb change.
            if size != old:
                self.set_reactive(EventList.virtual_size, size)
                self._scroll_update(size)
                self.refresh()
        else:
            self.virtual_size = size

    def set_marks(
        self, matches: set[int], highlight: Callable[[str], list[tuple[int, int]]] | None
    ) -> None:
        """Rows to mark as matches and a function giving spans to highlight in messages."""
        self._matches = matches
        self._highlight = highlight
        self._cache.clear()
        self.refresh()

    def ref_at(self, row: int) -> int | None:
        """The ref shown at ``row``."""
        if not 0 <= row < self._count:
            return None
        return int(self._rows[row])

    @property
    def selected_ref(self) -> int | None:
        """The ref under the cursor."""
        return self.ref_at(self.cursor)

    def record(self, ref: int) -> Event | ParseError | None:
        """The record behind ``ref`` in the current view."""
        if self._view is None:
            return None
        return self._reader.record(self._view, ref)

    def ts_of(self, ref: int) -> float:
        """The indexed time of ``ref``."""
        if self._view is None:
            return float("nan")
        return self._view.ts_one(ref)

    def _find(self, ref: int | None, near: int) -> int:
        """The row of ``ref`` (searched around its old row), else the nearest valid row."""
        if ref is None or self._count == 0:
            return min(max(0, near), max(0, self._count - 1))
        lo, hi = max(0, near - 2000), min(self._count, near + 2000)
        hits = np.flatnonzero(self._rows_between(lo, hi) == ref)
        if hits.size:
            return lo + int(hits[0])
        return min(max(0, near), self._count - 1)

    def _rows_between(self, lo: int, hi: int) -> np.ndarray:
        """The refs of rows ``lo:hi`` (the merged order, or the filtered refs)."""
        if hasattr(self._rows, "slice"):
            return self._rows.slice(lo, hi)
        return np.asarray(self._rows[lo:hi], dtype=np.int64)

    def row_of(self, ref: int) -> int | None:
        """The row showing ``ref``, found by time (binary search) then exact ref."""
        if self._view is None or self._count == 0:
            return None
        target = self.ts_of(ref)
        lo, hi = 0, self._count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.ts_of(int(self._rows[mid])) < target:
                lo = mid + 1
            else:
                hi = mid
        for row in range(lo, min(self._count, lo + 5000)):
            if int(self._rows[row]) == ref:
                return row
            if self.ts_of(int(self._rows[row])) > target:
                break
        return None

    # -- rendering -------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._count)
        self._cache.clear()
        # Shorter (the detail pane opened) or taller: the selected row stays in
        # view, and the newest one at the bottom while following.
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif self._count:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._style_table.clear()

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if row >= self._count or self._view is None:
            return Strip.blank(width, base)
        ref = int(self._rows[row])
        is_cursor = row == self.cursor
        source = self._view.source(ref)
        key = (ref, width, is_cursor, self.has_focus, source.path if source is not None else None)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        window = (id(self._view), scroll_y, self.size.height)
        if window != self._prefetched:
            # The first row this frame that must be read: read the page in one go.
            self._prefetched = window
            stop = min(self._count, scroll_y + self.size.height)
            self._reader.prefetch(self._view, self._rows_between(row, stop).tolist())
        strip = self._render_row(ref, width, is_cursor, base)
        self._cache[key] = strip
        return strip

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"event-list--{name}", partial=True)

    def _styles(self, base: Style, is_cursor: bool) -> dict[str, Style]:
        """Each cell class's full style (base, class, cursor), looked up once per theme."""
        key = (base, is_cursor, self.has_focus)  # the cursor's style depends on focus
        table = self._style_table.get(key)
        if table is None:
            cursor = self._style("cursor") if is_cursor else None
            table = {}
            # The cursor goes under each cell's own style (as Strip.apply_style puts it).
            for name in self._CELL_CLASSES:
                style = base + self._style(name)
                table[name] = cursor + style if cursor is not None else style
            table["pad"] = cursor + base if cursor is not None else base
            table["highlight"] = self._style("match")  # added on top of a message's style
            self._style_table[key] = table
        return table

    _CELL_CLASSES = tuple(
        sorted(
            name.removeprefix("event-list--")
            for name in COMPONENT_CLASSES
            if name != "event-list--cursor"
        )
    )
    """The classes a cell of a row can have (every component class but the cursor)."""

    def _render_row(self, ref: int, width: int, is_cursor: bool, base: Style) -> Strip:
        """One row as one Strip of exactly ``width`` cells (styles and padding built in).

        Following re-renders every visible row a few times a second, so a row
        costs one Strip: no crop, no extend, no second pass for the cursor.
        """
        assert self._view is not None
        rec = self._reader.record(self._view, ref)
        ts = self.ts_of(ref)
        cells = row_cells(rec, ts, width - 2)
        styles = self._styles(base, is_cursor)
        mark = "▶ " if ref in self._matches else "  "
        segments = [Segment(mark, styles["match"])]
        for text, cls in cells:
            style = styles[cls]
            if (
                cls in ("message", "info", "warning", "error", "critical")
                and self._highlight
                and text.startswith(" ")
            ):
                segments.extend(self._highlighted(text, style, styles["highlight"]))
            else:
                segments.append(Segment(text, style))
        used = 2 + sum(cell_len(text) for text, _ in cells)
        if used > width:  # wide characters: let Textual cut by cells
            return Strip(segments).crop_extend(0, width, styles["pad"])
        if used < width:
            segments.append(Segment(" " * (width - used), styles["pad"]))
        return Strip(segments, width)

    def _highlighted(self, text: str, style: Style, mark: Style) -> list[Segment]:
        assert self._highlight is not None
        spans = self._highlight(text)
        if not spans:
            return [Segment(text, style)]
        out, pos = [], 0
        match = style + mark
        for a, b in sorted(spans):
            if a < pos:
                continue
            out.append(Segment(text[pos:a], style))
            out.append(Segment(text[a:b], match))
            pos = b
        out.append(Segment(text[pos:], style))
        return out

    # -- moving ---------------------------------------------------------------------

    def _move_to(self, row: int, *, follow: bool | None = None) -> None:
        if self._count == 0:
            return
        old = self.cursor
        self.cursor = min(max(0, row), self._count - 1)
        if follow is None:
            follow = self.cursor == self._count - 1 and self.following
        if follow != self.following:
            self.following = follow
            if follow:
                self.arrived = 0
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)
        self._cache.clear()
        self.refresh_lines(old - int(self.scroll_offset.y), 1)
        self.refresh()
        if old != self.cursor:
            self.post_message(self.CursorMoved(self.selected_ref))

    def action_cursor(self, delta: int) -> None:
        """Move the cursor; moving off the last row leaves follow mode."""
        target = self.cursor + delta
        self._move_to(target, follow=target >= self._count - 1 and delta > 0 and self.following)

    def action_page(self, direction: int) -> None:
        """Move a page."""
        self._move_to(self.cursor + direction * max(1, self.size.height - 1), follow=False)

    def action_top(self) -> None:
        """First row (leaves follow mode)."""
        self._move_to(0, follow=False)

    def action_bottom(self) -> None:
        """Last row, and follow again."""
        self.action_follow()

    def action_follow(self) -> None:
        """Resume following: newest row selected, kept at the bottom."""
        self.following = True
        self.arrived = 0
        if self.paused:
            self.action_pause()
        self._move_to(self._count - 1, follow=True)
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_pause(self) -> None:
        """Freeze the display (new events are kept and shown on resume)."""
        self.paused = not self.paused
        self.held = 0
        if not self.paused and self._pending is not None:
            view, rows = self._pending
            self._pending = None
            self._apply(view, rows)
        self.post_message(self.CursorMoved(self.selected_ref))

    def action_toggle_detail(self) -> None:
        """Ask the screen to show or hide the detail of the selected row."""
        self.post_message(self.Requested("detail", self.selected_ref))

    def action_trace(self) -> None:
        """Ask the screen to trace the selected event's item and correlation id."""
        self.post_message(self.Requested("trace", self.selected_ref))

    def action_jump(self, what: str, direction: int) -> None:
        """Ask the screen for the next (or previous) match or error."""
        self.post_message(self.Requested(what, self.selected_ref, direction))

    def go_to_row(self, row: int) -> None:
        """Select ``row`` (a jump from the screen)."""
        self._move_to(row, follow=False)

    def on_unmount(self) -> None:
        self._reader.close()
