"""The base of every detail pane: a scrollable, markup-free text that repaints only on change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content

from oos_tui.widgets.text_line import QuietStatic

__all__ = ["ContentPane"]


class ContentPane(VerticalScroll):
    """Shows one :class:`~textual.content.Content`; subclasses render their record into one.

    The text is never markup (it holds log and store text), identical content
    is not repainted (screens call ``show`` on every state push), and new
    content scrolls back to the top unless the caller says it is the same
    subject (a countdown ticking, a record being followed).
    """

    DEFAULT_CSS = """
    ContentPane { height: 1fr; }
    ContentPane > Static { width: 1fr; height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield QuietStatic()

    def show_content(self, content: Content, *, scroll_home: bool = True) -> bool:
        """Display ``content``; False when it was already shown (nothing repainted)."""
        if not self.query_one(QuietStatic).show(content):
            return False
        if scroll_home:
            self.scroll_home(animate=False)
        return True

    @property
    def text(self) -> str:
        """The plain text shown (for tests and the provenance line)."""
        shown = self.query_one(QuietStatic).shown
        return shown.plain if shown is not None else ""
