"""The command palette (ctrl+p): every screen, every ``:`` command, every key's action."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from oos_tui.screens.registry import SCREENS

if TYPE_CHECKING:
    from oos_tui.app import OosApp

__all__ = ["ConsoleCommands"]


def _take_backup(app: OosApp) -> object:
    # Imported when chosen: the Backups screen's module is not loaded at start-up.
    from oos_tui.screens.backups import take_backup_from_anywhere

    return take_backup_from_anywhere(app)


class ConsoleCommands(Provider):
    """Lists what the operator can do from here, found by fuzzy search."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: OosApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object]]] = []
        for index, (mode, title) in enumerate(SCREENS, start=1):
            out.append((f"Go to {title}", f"key {index}", partial(app.action_go, mode)))
        out.append(("Take a backup", "key b on Backups", partial(_take_backup, app)))
        for name in app.theme_names():
            out.append((f"Theme: {name}", ":theme " + name, partial(app.set_console_theme, name)))
        screen = self.screen
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            b = active.binding
            if not b.description or b.action in seen or not active.enabled:
                continue
            seen.add(b.action)
            shown = app.get_key_display(b)
            out.append(
                (b.description, f"key {shown}", partial(app.run_action, b.action, active.node))
            )
        return out

    async def discover(self) -> Hits:
        for text, help_text, callback in self._entries():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
