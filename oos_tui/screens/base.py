"""The frame every console screen shares: navigation, command line, filter, status, footer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget

from oos_tui.screens.registry import SCREENS
from oos_tui.state import ConsoleState, status_line
from oos_tui.widgets.command_line import CommandLine
from oos_tui.widgets.filter_bar import FilterBar
from oos_tui.widgets.key_bar import KeyBar
from oos_tui.widgets.nav_bar import NavBar
from oos_tui.widgets.status_bar import StatusBar
from oos_tui.widgets.where_from import WhereFrom

if TYPE_CHECKING:
    from oos_tui.app import OosApp

__all__ = ["ConsoleScreen"]


class ConsoleScreen(Screen):
    """A base screen: subclasses yield their body from :meth:`compose_body`.

    The app hands every new :class:`ConsoleState` to the active screen through
    :meth:`show_state`; the screen passes what each pane needs down to it.
    """

    class Drawn(Message):
        """The screen's first frame was drawn (the app starts its feeds after the first)."""

    MODE: ClassVar[str] = ""
    FILTER_HINT: ClassVar[str] = "/filter  (enter keeps, esc clears)"

    @property
    def oos_app(self) -> OosApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def __init__(self) -> None:
        super().__init__()
        self._reloads: dict[str, list[bool]] = {}
        self._drawn = False

    def _compositor_refresh(self) -> None:
        # Textual (8.x, pinned) lays out the first screen inside the batch update
        # that wraps the app's compose and mount, draws a whole frame for it and
        # drops it unwritten (App._display ignores frames drawn in a batch); the
        # frame is drawn again after the batch. Until this screen's first frame
        # is written, one drawn in a batch is skipped and asked for again once
        # the batch is over: 10 to 20 ms sooner on screen at start-up (measured).
        app = self.app
        if not self._drawn and app._batch_count and not app.is_inline:
            app.call_later(self.refresh)  # the app's queue runs once its batch ended
            return
        first = not self._drawn
        self._drawn = True
        super()._compositor_refresh()
        if first:
            self.post_message(self.Drawn())

    def compose(self) -> ComposeResult:
        yield NavBar(SCREENS, self.MODE)
        yield from self.compose_body()
        with Vertical(id="chrome-bottom"):
            yield WhereFrom()
            yield FilterBar(self.FILTER_HINT)
            yield CommandLine(themes=self.oos_app.theme_names, queries=self.oos_app.recent_queries)
            yield StatusBar()
            yield KeyBar()

    def compose_body(self) -> ComposeResult:
        """The screen's own content."""
        yield from ()

    def on_screen_resume(self) -> None:
        self.show_state(self.oos_app.state)

    def show_state(self, state: ConsoleState) -> None:
        """Show a new state: the status bar here, the body in :meth:`show_body`."""
        now = self.oos_app.clock.now()
        self.query_one(StatusBar).show(status_line(state, now))
        self.show_body(state, now)

    def show_body(self, state: ConsoleState, now: float) -> None:
        """Subclasses update their panes."""

    def reload(self, name: str, load: Callable[[], Awaitable[None]]) -> None:
        """Run ``load`` in a worker; asked again while it runs, it runs once more after.

        A busy producer changes the store every poll: cancelling the running
        load each time (an exclusive worker) could starve a table forever, so a
        load in progress finishes and one more follows.
        """
        state = self._reloads.setdefault(name, [False, False])  # running, again
        if state[0]:
            state[1] = True
            return
        state[0] = True
        self.run_worker(self._reload_loop(state, load), group=f"reload-{name}", exit_on_error=False)

    async def _reload_loop(self, state: list[bool], load: Callable[[], Awaitable[None]]) -> None:
        try:
            while True:
                state[1] = False
                await load()
                if not state[1]:
                    break
        finally:
            state[0] = False

    def set_where_from(self, text: str) -> None:
        """Say where the focused figure comes from."""
        self.query_one(WhereFrom).show(text)

    # -- command line and filter ---------------------------------------------

    def open_command_line(self) -> None:
        """Show the ``:`` command line."""
        self.query_one(CommandLine).open()

    def filter_target(self) -> Widget | None:
        """The list ``/`` filters: the focused one if it can be filtered."""
        focused = self.focused
        return focused if focused is not None and hasattr(focused, "apply_filter") else None

    def open_filter(self) -> bool:
        """Open the filter bar for the focused list; False if nothing here filters."""
        target = self.filter_target()
        if target is None:
            return False
        self._filter_target = target
        self.query_one(FilterBar).open(getattr(target, "filter_text", ""))
        return True

    def on_filter_bar_updated(self, event: FilterBar.Updated) -> None:
        self.filter_changed(event.text)

    def filter_changed(self, text: str) -> None:
        """The ``/`` text settled: filter the target list (screens may do more)."""
        target = getattr(self, "_filter_target", None)
        if target is not None and hasattr(target, "apply_filter"):
            target.apply_filter(text)

    def on_filter_bar_closed(self, event: FilterBar.Closed) -> None:
        target = getattr(self, "_filter_target", None)
        if target is not None:
            target.focus()

    def on_command_line_failed(self, event: CommandLine.Failed) -> None:
        self.notify(event.reason, severity="warning", markup=False, timeout=4)
