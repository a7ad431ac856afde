"""The bottom line of key hints: one widget drawing the screen's shown bindings.

Textual's ``Footer`` mounts one widget per key and re-composes them all
whenever the bindings change (every screen switch and focus move): with the
console's twenty-odd keys that cost 50 to 100 ms on each first visit of a
screen (bench/first_screen.py, profiled). This bar keeps the same content, a
key then what it does, in one line that is only repainted.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.content import Content, Span
from textual.screen import Screen
from textual.style import Style
from textual.widget import Widget

__all__ = ["KeyBar", "key_hints"]

Hint = tuple[str, str, str, bool]
"""(key pressed, key as shown, description, enabled)."""


def key_hints(screen: Screen) -> list[Hint]:
    """The bindings the bar shows for ``screen``: one per action, in binding order.

    The command palette's key comes last, shown or not (as Textual's footer does).
    """
    seen: set[str] = set()
    hints: list[Hint] = []
    app = screen.app
    palette = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
    for key, (_node, binding, enabled, _tooltip) in screen.active_bindings.items():
        if not binding.show or binding.action in seen or key == palette:
            continue
        seen.add(binding.action)
        hints.append((binding.key, app.get_key_display(binding), binding.description, enabled))
    if palette is not None and palette in screen.active_bindings:
        _node, binding, enabled, _tooltip = screen.active_bindings[palette]
        hints.append((binding.key, app.get_key_display(binding), binding.description, enabled))
    return hints


class KeyBar(Widget, can_focus=False):
    """Shows each shown binding as ``key description``; a disabled one is dimmed.

    A click on a hint presses its key (a terminal with a mouse); without one,
    the keys themselves are the interface.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._hints: list[Hint] = []
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen:
            return
        hints = key_hints(screen)
        if hints != self._hints:
            self._hints = hints
            self.refresh()

    def render(self) -> Content:
        key_style = self.get_visual_style("key-bar--key", partial=True)
        text_style = self.get_visual_style("key-bar--description", partial=True)
        dim = Style(dim=True)
        parts: list[str] = []
        spans: list[Span] = []
        self._spans = []
        at = 0
        width = self.size.width
        for key, shown, description, enabled in self._hints:
            label = f" {description}" if description else ""
            if width and at + len(shown) + len(label) > width:
                break  # whole hints only: a cut-off word reads as another key
            begin = at
            extra = Style() if enabled else dim
            spans.append(Span(at, at + len(shown), key_style + extra))
            parts.append(shown)
            at += len(shown)
            if label:
                spans.append(Span(at, at + len(label), text_style + extra))
                parts.append(label)
                at += len(label)
            self._spans.append((begin, at, key))
            parts.append("  ")
            at += 2
        return Content("".join(parts).rstrip(), spans=spans)

    def on_click(self, event: events.Click) -> None:
        for begin, end, key in self._spans:
            if begin <= event.x < end:
                self.app.simulate_key(key)
                return
