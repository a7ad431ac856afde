"""Help, generated from the live bindings (so remapped keys show as remapped)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from oos_tui.commandline import COMMANDS

__all__ = ["HelpEntry", "HelpScreen"]

HelpEntry = tuple[str, str, str]  # (section, keys, description)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every key of the screen below, plus the ``:`` commands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close"),
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
    ]

    def __init__(self, entries: Iterable[HelpEntry]) -> None:
        super().__init__()
        self._entries = list(entries)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys — esc to close"
            yield Static(self._help_text(), markup=False)

    def _help_text(self) -> Content:
        parts: list[Content] = []
        section = None
        for sect, keys, desc in self._entries:
            if sect != section:
                section = sect
                parts.append(Content.styled(f"\n{sect}", "bold $primary"))
            parts.append(Content.assemble((f"  {keys:<14}", "bold"), (desc, "")))
        parts.append(Content.styled("\n: commands", "bold $primary"))
        for spec in COMMANDS:
            name = f":{spec.name}" + (f" {spec.arg}" if spec.arg else "")
            alias = f" ({', '.join(':' + a for a in spec.aliases)})" if spec.aliases else ""
            parts.append(Content.assemble((f"  {name:<20}", "bold"), (spec.help + alias, "")))
        return Content("\n").join(parts)

    def action_dismiss_help(self) -> None:
        """Close help."""
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        """Scroll the list."""
        self.query_one("#help-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        """Scroll the list."""
        self.query_one("#help-body", VerticalScroll).scroll_up()
