"""The provenance line: where the focused figure comes from."""

from __future__ import annotations

from textual.widgets import Static

__all__ = ["WhereFrom"]


class WhereFrom(Static):
    """One muted line under the panels, e.g. ``from data/oos.db: tasks by queue``."""

    DEFAULT_CSS = """
    WhereFrom { height: 1; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._text = ""

    def show(self, text: str) -> None:
        """Show ``text`` (plain, never markup)."""
        if text != self._text:
            self._text = text
            # One row whatever the text: no layout (a followed list moves the
            # cursor, and so this line, on every frame).
            self.update(text, layout=False)
