"""The top line: every screen with its number key, the current one marked."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

__all__ = ["NavBar"]


class NavBar(Static):
    """Shows ``1 Overview  2 Events …`` with the active screen marked by ▸ and style."""

    DEFAULT_CSS = """
    NavBar { height: 1; }
    """

    def __init__(self, screens: Sequence[tuple[str, str]], current: str) -> None:
        super().__init__("", markup=False)
        self._screens = list(screens)
        self._current = current

    def on_mount(self) -> None:
        self.update(self._build(self.size.width or 80))

    def on_resize(self) -> None:
        self.update(self._build(self.size.width))

    def _build(self, width: int) -> Content:
        parts: list[tuple[str, str]] = []
        total = sum(len(title) + 3 for _mode, title in self._screens)
        short = total > width  # at 80 columns the full names fit; narrower, abbreviate
        for index, (mode, title) in enumerate(self._screens, start=1):
            label = title if not short else title[:3]
            if mode == self._current:
                parts.append((f"▸{index} {label}", "reverse bold"))
            else:
                parts.append((f" {index}", "bold $accent"))
                parts.append((f" {label}", ""))
        return Content.assemble(*parts)
