"""A keyed table whose cells name a style role; the theme colours each role by component class."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual.theme import Theme

from oos_tui.sanitize import Sanitizer, default_sanitizer
from oos_tui.widgets.table import OosTable

__all__ = ["Cell", "Column", "StyledTable", "fit_columns", "needed_width"]

Cell = tuple[str, str]
"""``(text, role)``: plain text (never markup) and a style role ("" for none)."""

SCROLLBAR = 1
"""Columns kept free for the vertical scrollbar (set to 1 in the table CSS)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: a fixed width, or ``width=None`` for the column that takes what is left."""

    key: str
    label: str
    width: int | None = None
    min_width: int = 10
    justify: Literal["left", "right"] = "left"
    max_width: int | None = None
    """A cap for the flexible column (a name needs no more), None for no cap."""


def needed_width(columns: Sequence[Column], padding: int = 1) -> int:
    """Cells ``columns`` need with the flexible one at its minimum."""
    widths = sum(c.width if c.width is not None else c.min_width for c in columns)
    return widths + 2 * padding * len(columns) + SCROLLBAR


def fit_columns(columns: Sequence[Column], total: int, padding: int = 1) -> list[int]:
    """Widths for ``columns`` in ``total`` cells: fixed ones as given, the flexible one the rest.

    Cutting the one long column (an error, a message) to what is left keeps
    every other column on screen at 80 columns instead of pushing them off
    behind a horizontal scrollbar.
    """
    fixed = sum(c.width for c in columns if c.width is not None)
    spare = total - fixed - 2 * padding * len(columns) - SCROLLBAR
    widths = []
    for c in columns:
        if c.width is not None:
            widths.append(c.width)
        else:
            flex = max(c.min_width, spare)
            widths.append(min(flex, c.max_width) if c.max_width is not None else flex)
    return widths


class StyledTable(OosTable):
    """An :class:`OosTable` fed cells as ``(text, role)``; the role picks a component class.

    Subclasses declare ``ROLE_PREFIX`` and a ``COMPONENT_CLASSES`` entry
    ``<prefix>--<role>`` for every role they use; the theme's TCSS colours
    them. They implement :meth:`layout_for` and call :meth:`redraw` when
    their data changes: the table picks the wide column set whenever its own
    width holds it (so a table beside a detail pane falls back to the narrow
    set), and rebuilds its cells as Rich ``Text`` (never parsed as markup) on
    every theme change and resize, because widths and colours are baked in.
    """

    DEFAULT_CSS = """
    StyledTable {
        height: auto;
        scrollbar-size-vertical: 1;
    }
    """

    ROLE_PREFIX: ClassVar[str] = "styled-table"

    CURSOR_WHEN_BLURRED: ClassVar[bool] = True
    """False for summary tables: their cursor row shows only while they have focus."""

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id)
        self.clean = (sanitizer or default_sanitizer()).clean
        """Makes store text safe to show (escapes controls, masks secrets)."""
        self._columns: tuple[Column, ...] = ()
        self._widths: list[int] = []
        self._cells: list[tuple[Hashable, tuple[Cell, ...]]] = []

    def on_mount(self) -> None:
        self.show_cursor = self.CURSOR_WHEN_BLURRED
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_focus(self) -> None:
        self.show_cursor = True

    def on_blur(self) -> None:
        self.show_cursor = self.CURSOR_WHEN_BLURRED

    def _theme_changed(self, _theme: Theme) -> None:
        self.call_after_refresh(self._render_cells)

    def on_resize(self) -> None:
        self.redraw()

    def columns_for(self, wide: bool) -> Sequence[Column]:
        """The wide or the narrow column set (subclasses)."""
        return ()

    def rows_for(self, wide: bool) -> Sequence[tuple[Hashable, Sequence[Cell]]]:
        """The keyed rows for that column set (subclasses)."""
        return ()

    def redraw(self) -> None:
        """Show the current data with the widest column set that fits."""
        wide = needed_width(self.columns_for(True), self.cell_padding) <= self.table_width
        self.set_cells(self.columns_for(wide), self.rows_for(wide))

    @property
    def table_width(self) -> int:
        """Cells available to the columns (the screen width before the first layout)."""
        return self.content_region.width or self.app.size.width

    def set_cells(
        self, columns: Sequence[Column], rows: Sequence[tuple[Hashable, Sequence[Cell]]]
    ) -> None:
        """Show ``rows`` under ``columns``, rebuilding the columns only when they changed."""
        columns = tuple(columns)
        widths = fit_columns(columns, self.table_width, self.cell_padding)
        if columns != self._columns or widths != self._widths:
            # Empty the keyed rows first so the diff starts again from nothing.
            self.set_rows([])
            self.clear(columns=True)
            for column, width in zip(columns, widths, strict=True):
                self.add_column(column.label, width=width, key=column.key)
            self._columns, self._widths = columns, widths
        self._cells = [(key, tuple(cells)) for key, cells in rows]
        self._render_cells()

    def _style(self, role: str) -> Style:
        if not role:
            return Style()
        return self.get_component_rich_style(f"{self.ROLE_PREFIX}--{role}", partial=True)

    def _render_cells(self) -> None:
        styles: dict[str, Style] = {}
        justify = [c.justify for c in self._columns]
        out = []
        for key, cells in self._cells:
            texts = []
            for (text, role), just in zip(cells, justify, strict=False):
                style = styles.get(role)
                if style is None:
                    style = styles[role] = self._style(role)
                texts.append(
                    Text(text, style=style, justify=just, no_wrap=True, overflow="ellipsis")
                )
            out.append((key, tuple(texts)))
        self.set_rows(out)
