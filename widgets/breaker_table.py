"""The Breakers screen's table: one row per circuit breaker, the worst first."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable

from oos_tui.actions.breakers import format_open_for, format_rate, format_retry_in, state_look
from oos_tui.models import Breaker
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.table import OosTable, Row

__all__ = [
    "COLUMNS",
    "BreakerTable",
    "breaker_rows",
    "plan_columns",
    "progress_bar",
    "sort_breakers",
    "state_class",
]

_STATE_RANK = {"open": 0, "half_open": 1, "closed": 3}
_BAR_CELLS = 10
_HOT_RATIO = 0.7
_ERROR_MIN = 12
_NAME_MIN = 12
_CELL_PAD = 2  # DataTable's cell_padding of 1 on each side
_SCROLLBAR = 2


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its key, header and whether it is always shown."""

    key: str
    label: str
    required: bool
    priority: int = 0  # optional columns are added in this order while they fit
    numeric: bool = False  # right-aligned, header too

    def header(self) -> Text:
        """The column's header cell."""
        return Text(self.label, justify="right" if self.numeric else "left")


COLUMNS: tuple[Column, ...] = (
    Column("state", "state", True),
    Column("name", "breaker", True),
    Column("trip", "trip", True),
    Column("rate", "fail rate", False, 1, numeric=True),
    Column("failures", "failures", False, 3, numeric=True),
    Column("successes", "successes", False, 4, numeric=True),
    Column("open_for", "open for", False, 2, numeric=True),
    Column("retry", "retry", True),
    Column("error", "last error", True),
)
"""Every column in display order; the narrow table keeps the required ones."""


def state_class(state: str) -> str:
    """The component class that colours a state (``breaker-table--open``…)."""
    known = {"closed": "closed", "open": "open", "half_open": "half-open"}
    return f"breaker-table--{known.get(state, 'unknown')}"


def sort_breakers(breakers: Sequence[Breaker]) -> list[Breaker]:
    """Open first (longest open first), then half-open, then closed closest to tripping.

    An unknown state sorts between half-open and closed: it is odd enough to look at.
    """

    def key(b: Breaker) -> tuple[int, float, float, str]:
        rank = _STATE_RANK.get(b.state, 2)
        opened = b.opened_at if b.opened_at is not None else math.inf
        ratio = b.consecutive_failures / b.failure_threshold if b.failure_threshold > 0 else 0.0
        return (rank, opened if rank < 2 else -ratio, -b.consecutive_failures, b.name)

    return sorted(breakers, key=key)


def progress_bar(b: Breaker, cells: int = _BAR_CELLS) -> tuple[str, str]:
    """The filled and empty parts of the trip bar (``▰▰▰▰▰▰▰``, ``▱▱▱``).

    Any failure shows at least one filled cell, so 1/20 is not drawn as 0.
    """
    if b.failure_threshold <= 0:
        filled = cells if b.consecutive_failures else 0
    else:
        filled = math.ceil(cells * b.consecutive_failures / b.failure_threshold)
    filled = max(0, min(cells, filled))
    return "▰" * filled, "▱" * (cells - filled)


def is_hot(b: Breaker) -> bool:
    """A closed breaker at 70 % or more of its threshold is about to trip."""
    return (
        b.failure_threshold > 0
        and b.consecutive_failures / b.failure_threshold >= _HOT_RATIO
        and b.state == "closed"
    )


def _first_line(text: str | None) -> str:
    for part in (text or "").splitlines():
        if part.strip():
            return part.strip()
    return ""


def _cells(b: Breaker, now: float, styles: Callable[[str], Style]) -> dict[str, Text]:
    """Every column's cell for ``b``; store text sanitized, never markup."""
    clean = default_sanitizer().clean
    word, symbol = state_look(b.state)
    state_style = styles(state_class(b.state))
    count_w = len(str(b.failure_threshold))
    filled, empty = progress_bar(b)
    bar_style = (
        state_style
        if b.state != "closed"
        else styles("breaker-table--hot" if is_hot(b) else "breaker-table--bar")
    )
    trip = Text.assemble(
        (f"{b.consecutive_failures:>{count_w}}/{b.failure_threshold} ", ""),
        (filled, bar_style),
        (empty, styles("breaker-table--bar-empty")),
    )
    muted = styles("breaker-table--muted")
    return {
        "state": Text(f"{symbol} {word}", style=state_style),
        "name": Text(clean(b.name)),
        "trip": trip,
        "rate": Text(format_rate(b), justify="right"),
        "failures": Text(str(b.total_failures), justify="right"),
        "successes": Text(str(b.total_successes), justify="right"),
        "open_for": Text(format_open_for(b, now), justify="right"),
        "retry": Text(format_retry_in(b, now), style=state_style if b.state == "open" else ""),
        "error": Text(clean(_first_line(b.last_error)) or "-", style="" if b.last_error else muted),
    }


def plan_columns(
    cells: Sequence[dict[str, Text]], width: int
) -> tuple[list[Column], dict[str, int]]:
    """Choose the columns that fit ``width``, and the widths of the name and the last error.

    Required columns always show; when they leave the last error less than
    a readable stretch, long names are cut first (down to 12 cells; the
    detail pane has them whole). Optional columns are then added by priority
    while the last error keeps twice that. Pure, so it is tested without a
    terminal.

    Returns:
        The columns in display order, and the cell widths of ``name`` and ``error``.
    """

    def need(col: Column) -> int:
        widest = max((c[col.key].cell_len for c in cells), default=0)
        return max(widest, len(col.label)) + _CELL_PAD

    fixed = [c for c in COLUMNS if c.required and c.key != "error"]
    used = sum(need(c) for c in fixed) + _CELL_PAD + _SCROLLBAR
    name_width = need(COLUMNS[1]) - _CELL_PAD
    short = _ERROR_MIN - (width - used)
    if short > 0:
        cut = min(short, max(0, name_width - _NAME_MIN))
        name_width -= cut
        used -= cut
    chosen = {c.key for c in fixed}
    for col in sorted((c for c in COLUMNS if not c.required), key=lambda c: c.priority):
        if width - used - need(col) >= 2 * _ERROR_MIN:
            used += need(col)
            chosen.add(col.key)
    chosen.add("error")
    columns = [c for c in COLUMNS if c.key in chosen]
    return columns, {"name": name_width, "error": max(_ERROR_MIN, width - used)}


def breaker_rows(
    breakers: Sequence[Breaker],
    now: float,
    width: int,
    styles: Callable[[str], Style] = lambda _name: Style(),
    name_filter: str = "",
) -> tuple[list[Column], list[Row]]:
    """The table's columns and keyed rows (by breaker name), sorted, for ``width`` cells."""
    needle = name_filter.strip().lower()
    shown = [b for b in sort_breakers(breakers) if needle in b.name.lower()]
    cells = [_cells(b, now, styles) for b in shown]
    columns, widths = plan_columns(cells, width)
    rows: list[Row] = []
    for b, cell in zip(shown, cells, strict=True):
        for key, room in widths.items():
            if cell[key].cell_len > room:
                cell[key].truncate(room, overflow="ellipsis")
        rows.append((b.name, tuple(cell[c.key] for c in columns)))
    return columns, rows


class BreakerTable(OosTable):
    """Every breaker, worst first; the screen pushes breakers in with :meth:`show`.

    The row under the cursor is announced with :class:`BreakerTable.Selected`.
    ``/`` filters by name (:meth:`apply_filter`). Columns follow the width:
    at 80 cells state, breaker, trip, retry and last error; wider, the
    failure rate, open-for time and totals join them.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "breaker-table--closed",
        "breaker-table--open",
        "breaker-table--half-open",
        "breaker-table--unknown",
        "breaker-table--bar",
        "breaker-table--hot",
        "breaker-table--bar-empty",
        "breaker-table--muted",
    }
    """
    | Class | Colours |
    | :- | :- |
    | `breaker-table--closed` / `--open` / `--half-open` | the state cell (``$state-*``) |
    | `breaker-table--unknown` | a state the contract does not name |
    | `breaker-table--bar` / `--hot` / `--bar-empty` | the trip bar (hot: 70 % of a trip) |
    | `breaker-table--muted` | an absent last error |

    Cells carry these styles baked in, so a theme change redraws the rows.
    """

    DEFAULT_CSS = """
    BreakerTable { height: auto; }
    """

    class Selected(Message):
        """The cursor rests on another breaker (``name`` None: the table is empty)."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._breakers: tuple[Breaker, ...] = ()
        self._now = 0.0
        self._columns: tuple[str, ...] = ()
        self._rows_shown: list[Row] = []
        self._announced: str | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def show(self, breakers: Sequence[Breaker], now: float) -> None:
        """Display ``breakers`` as of ``now`` (rows change in place; the cursor stays)."""
        self._breakers = tuple(breakers)
        self._now = now
        self._redraw()

    @property
    def selected_name(self) -> str | None:
        """The breaker under the cursor."""
        return self.selected_key

    def select(self, name: str) -> bool:
        """Put the cursor on ``name``; False when no such row is shown."""
        keys = [str(k) for k, _ in self._rows_shown]
        if name not in keys:
            return False
        self.move_cursor(row=keys.index(name), animate=False)
        self._announce()
        return True

    def apply_filter(self, text: str) -> None:
        """Show only breakers whose name contains ``text`` (case-insensitive)."""
        self.filter_text = text
        self._redraw()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        keep = self.selected_key
        width = self.size.width or self.app.size.width
        columns, rows = breaker_rows(
            self._breakers, self._now, width, self._style, self.filter_text
        )
        keys = tuple(c.key for c in columns)
        if keys != self._columns:
            self.set_rows([])
            self.clear(columns=True)
            for col in columns:
                self.add_column(col.header(), key=col.key)
            self._columns = keys
        self._rows_shown = rows
        self.set_rows(rows)
        names = [str(k) for k, _ in rows]
        if keep in names and self.selected_key != keep:
            self.move_cursor(row=names.index(keep), animate=False)
        self._announce()

    def _announce(self) -> None:
        name = self.selected_key
        if name != self._announced:
            self._announced = name
            self.post_message(self.Selected(name))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()

    def on_resize(self, event: Resize) -> None:
        self._redraw()
