"""Screens whose content belongs to a later issue: an honest line, no fake data."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from oos_tui.screens.base import ConsoleScreen

__all__ = ["not_built_screen"]


def not_built_screen(mode: str, title: str, what: str) -> type[ConsoleScreen]:
    """Make a screen class that says plainly that this view is not built yet."""

    class NotBuilt(ConsoleScreen):
        MODE: ClassVar[str] = mode

        def compose_body(self) -> ComposeResult:
            yield Static(
                f"{title}: not built yet.\n\n{what}",
                classes="not-built",
                markup=False,
            )

    NotBuilt.__name__ = f"{title}Screen"
    NotBuilt.__qualname__ = NotBuilt.__name__
    return NotBuilt
