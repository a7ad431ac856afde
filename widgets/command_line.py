"""The ``:`` command line (k9s style), with completion from the core grammar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from oos_tui.commandline import Command, CommandError, complete, parse

__all__ = ["CommandLine"]


class _CommandSuggester(Suggester):
    def __init__(self, themes: Callable[[], Sequence[str]], queries: Callable[[], Sequence[str]]):
        super().__init__(use_cache=False, case_sensitive=True)
        self._themes = themes
        self._queries = queries

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        options = complete(value, themes=self._themes(), queries=self._queries())
        return options[0] if options else None


class CommandLine(Input):
    """Opens on ``:``; ``tab``/``right`` accepts the completion; ``enter`` runs; ``esc`` closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="command.close"),
        Binding("tab", "accept_completion", "Complete", show=False, id="command.complete"),
    ]

    class Submitted(Message):
        """A command parsed cleanly and should run."""

        def __init__(self, command: Command) -> None:
            super().__init__()
            self.command = command

    class Failed(Message):
        """The command line could not be parsed (one-line reason)."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self,
        themes: Callable[[], Sequence[str]] = tuple,
        queries: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        super().__init__(
            placeholder=":command  (queues, events QUERY, theme NAME, q)",
            suggester=_CommandSuggester(themes, queries),
            id="command-line",
            disabled=True,
        )
        self._themes = themes
        self.cursor_blink = False

    def open(self) -> None:
        """Show and focus the command line, empty."""
        self.value = ""
        self.disabled = False
        self.add_class("-open")
        # Synchronously, not focus() (which defers): the keys typed right after
        # ":" are already queued and must land here, not on the screen ("q" quits).
        self.screen.set_focus(self)

    def action_close(self) -> None:
        """Hide without running anything."""
        self.value = ""
        self.remove_class("-open")
        self.disabled = True  # a closed command line never takes focus
        self.screen.focus_next()

    def action_accept_completion(self) -> None:
        """Take the suggested completion (like ``right`` at the end of the line)."""
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        """Parse the line; run it or report why not."""
        text = self.value
        try:
            command = parse(text, themes=tuple(self._themes()))
        except CommandError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.action_close()
        self.post_message(self.Submitted(command))
