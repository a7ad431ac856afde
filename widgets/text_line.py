"""A markup-free Static that repaints only when what it shows changes."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

__all__ = ["QuietStatic"]


class QuietStatic(Static):
    """Screens push state every second; an unchanged text must cost nothing.

    Used alone (one-line status and info lines, the overview panels) and inside
    the scrolling panes (detail panes, breaker transitions, store health).

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

    def show(self, content: Content) -> bool:
        """Display ``content`` unless it is what is already shown; True when repainted."""
        if self._shown is not None and content == self._shown:
            return False
        self._shown = content
        self.update(content, layout=not self._fixed)
        return True

    @property
    def shown(self) -> Content | None:
        """What is on screen (None before the first :meth:`show`)."""
        return self._shown
