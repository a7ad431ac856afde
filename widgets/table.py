"""A DataTable with the console's keyboard (j/k/g/G) and a live text filter."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

__all__ = ["OosTable", "diff_rows", "plain"]

Row = tuple[Hashable, tuple[object, ...]]


def plain(cell: object) -> object:
    """A ``str`` cell as plain text: DataTable would parse a ``str`` as markup."""
    return Text(cell) if isinstance(cell, str) else cell


def diff_rows(
    old: Sequence[Row], new: Sequence[Row]
) -> tuple[list[Hashable], list[Row], list[Row], bool]:
    """Compare keyed rows: (removed keys, added rows, changed rows, order changed).

    Tables update in place from this (STYLE §6) so the cursor and scroll stay
    put while data changes underneath.
    """
    old_map = dict(old)
    new_map = dict(new)
    removed = [k for k in old_map if k not in new_map]
    added = [(k, v) for k, v in new if k not in old_map]
    changed = [(k, v) for k, v in new if k in old_map and old_map[k] != v]
    kept_old = [k for k, _ in old if k in new_map]
    kept_new = [k for k, _ in new if k in old_map]
    return removed, added, changed, kept_old != kept_new or bool(added and kept_new)


class OosTable(DataTable):
    """Row-cursor table: ``j``/``k`` move, ``g``/``G`` jump to the ends, rows keyed and diffed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("g", "scroll_top", "Top", show=False, id="list.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="list.bottom"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: list[Row] = []
        self.filter_text = ""

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows`` (already filtered), touching only what changed."""
        rows = list(rows)
        removed, added, changed, reordered = diff_rows(self._rows, rows)
        if not (removed or added or changed or reordered):
            return
        keep = self.cursor_row
        current = None
        if self.row_count and 0 <= keep < self.row_count:
            current = self.coordinate_to_cell_key((keep, 0)).row_key.value
        # Every str cell goes in as plain Text: table cells often hold log or
        # store text, and DataTable parses a str as markup.
        if reordered or removed:
            self.clear()
            for key, cells in rows:
                self.add_row(*map(plain, cells), key=str(key))
        else:
            columns = [c.key for c in self.ordered_columns]
            for key, cells in changed:
                for col, value in zip(columns, cells, strict=False):
                    self.update_cell(str(key), col, plain(value))
            for key, cells in added:
                self.add_row(*map(plain, cells), key=str(key))
        self._rows = rows
        if current is not None:
            keys = [str(k) for k, _ in rows]
            if current in keys:
                self.move_cursor(row=keys.index(current), animate=False)

    def action_scroll_top(self) -> None:
        """Cursor to the first row."""
        if self.row_count:
            self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        """Cursor to the last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count or self.cursor_row < 0:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
