"""A markup-free Static that repaints only when what it shows changes."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

__all__ = ["QuietStatic"]


class QuietStatic(Static):
    """Screens push state every second; an unchanged text must cost nothing.

    ``Static.update`` always refreshes (and lays out) the widget, which also
    repaints its neighbours' scrollbars: on an idle console that was a
    terminal write every state push.
    """

    def __init__(
        self, *, id: str | None = None, classes: str | None = None, fixed: bool = False
    ) -> None:
        """``fixed``: its height never depends on its text (a one-row line), so no layout."""
        super().__init__("", id=id, classes=classes, markup=False)
        self._shown: Content | None = None
        self._fixed = fixed

    def show(self, content: Content) -> None:
        """Display ``content`` unless it is what is already shown."""
        if self._shown is not None and content == self._shown:
            return
        self._shown = content
        self.update(content, layout=not self._fixed)
