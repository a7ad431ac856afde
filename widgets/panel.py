"""Base of the overview panels: a focusable box that says where its figures come from."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from oos_tui.widgets.text_line import QuietStatic

__all__ = ["Panel"]


class Panel(QuietStatic, can_focus=True):
    """A bordered, focusable summary box.

    Subclasses set ``SOURCE`` (shown in the provenance line when focused) and
    ``TARGET`` (the screen ``enter`` opens), and call :meth:`show` with fresh
    content; identical content is not repainted, so an idle screen stays idle.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="panel.open"),
    ]

    DEFAULT_CSS = """
    Panel {
        height: 1fr;
        overflow: hidden;
    }
    """

    SOURCE: ClassVar[str] = ""
    """Where the panel's figures come from, in words an operator can check."""

    TARGET: ClassVar[str | None] = None
    """The screen (mode name) that explains this panel in detail."""

    class Opened(Message):
        """The operator asked to open the detailed screen of this panel (``arg``: what to show)."""

        def __init__(self, panel: Panel, target: str, arg: str = "") -> None:
            super().__init__()
            self.panel = panel
            self.target = target
            self.arg = arg

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = title

    @property
    def inner_width(self) -> int:
        """Usable text width (content region), with a sane fallback before layout."""
        return max(10, self.content_region.width or 36)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "enter: Open" only where there is a screen to open.
        return not (
            action == "open" and self.TARGET is None and type(self).action_open is Panel.action_open
        )

    def action_open(self) -> None:
        """Open the screen that explains this panel."""
        if self.TARGET:
            self.post_message(self.Opened(self, self.TARGET))
