"""The ``/`` filter bar: filters the focused list live as the operator types."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

__all__ = ["FilterBar"]

_DEBOUNCE_SECONDS = 0.15


class FilterBar(Input):
    """Posts :class:`FilterBar.Updated` (debounced) as you type; ``esc`` clears, ``enter`` keeps."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_and_close", "Clear filter", id="filter.clear"),
    ]

    class Updated(Message):
        """The filter text settled on a new value."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Closed(Message):
        """The bar closed; ``kept`` says whether the filter stays applied."""

        def __init__(self, kept: bool) -> None:
            super().__init__()
            self.kept = kept

    def __init__(self, placeholder: str = "/filter  (enter keeps, esc clears)") -> None:
        super().__init__(placeholder=placeholder, id="filter-bar", disabled=True)
        self.cursor_blink = False
        self._timer = None
        self._sent = ""

    def open(self, text: str = "") -> None:
        """Show and focus, starting from the current filter text."""
        self.value = text
        self._sent = text
        self.disabled = False
        self.add_class("-open")
        self.screen.set_focus(self)  # synchronously: keys typed right after "/" land here

    def _on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(_DEBOUNCE_SECONDS, self._settle)

    def _settle(self) -> None:
        if self.value != self._sent:
            self._sent = self.value
            self.post_message(self.Updated(self.value))

    def _close(self, kept: bool) -> None:
        self.remove_class("-open")
        self.disabled = True  # closed bars never take focus
        # Synchronously, as open() takes it: a key typed right after enter must
        # reach the screen's bindings, not this input (the list refocuses on Closed).
        self.screen.set_focus(None)
        self.post_message(self.Closed(kept))

    async def action_submit(self) -> None:
        """Keep the filter and return to the list."""
        self._settle()
        self._close(kept=True)

    def action_clear_and_close(self) -> None:
        """Drop the filter and return to the list."""
        self.value = ""
        if self._sent:
            self._sent = ""
            self.post_message(self.Updated(""))
        self._close(kept=False)
