"""The Textual app: wiring only. Screens show, feeds fetch, the core decides."""

from __future__ import annotations

import functools
import importlib
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ScreenStackError
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input

from oos_tui import themes
from oos_tui.alerts import AlertEngine, AlertInputs
from oos_tui.breaker_history import BreakerTracker
from oos_tui.clock import Clock, SystemClock
from oos_tui.commandline import Command
from oos_tui.config import Settings
from oos_tui.eventlog.first import FirstStep
from oos_tui.feeds import (
    AlertFacts,
    BackupsListed,
    EventsArrived,
    FeedFailed,
    Feeds,
    HostSampled,
    JobsScanned,
    ResourcesSampled,
    StoreUpdated,
)
from oos_tui.keys import validate_keymap
from oos_tui.memory import settle_collector
from oos_tui.palette import ConsoleCommands
from oos_tui.sanitize import configure as configure_sanitizer
from oos_tui.sanitize import default_sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.screens.help import HelpEntry, HelpScreen
from oos_tui.screens.placeholder import not_built_screen
from oos_tui.screens.registry import DEFAULT_SCREEN, SCREEN_MODES, SCREENS, screen_title
from oos_tui.screens.stylesheet import OnceStylesheet, preload_default_css
from oos_tui.state import ConsoleState
from oos_tui.widgets.command_line import CommandLine
from oos_tui.widgets.panel import Panel

__all__ = ["OosApp", "make_app"]

_FEEDS_AT_LATEST = 1.0
"""Seconds after mount the feeds start even if no first frame was reported."""

_NOT_BUILT = {
    "queues": "Queues and dead letters arrive with issue 6.",
    "breakers": "Circuit breakers arrive with issue 7.",
    "resources": "Host, processes and store health arrive with issue 8.",
    "jobs": "Pipeline jobs arrive with issue 10.",
    "backups": "Backups arrive with issue 9.",
    "audit": "The audit log arrives with issue 6.",
}


@functools.cache
def _screen_class(mode: str) -> type[Screen]:
    """A mode's screen: ``oos_tui.screens.<mode>.<Title>Screen``, or an honest placeholder.

    Imported on first use: a screen module and its widgets cost 5 to 30 ms to
    import, and the console should draw its first screen before importing
    the seven others (bench/first_screen.py).
    """
    title = screen_title(mode)
    try:
        module = importlib.import_module(f"oos_tui.screens.{mode}")
        return getattr(module, f"{title}Screen")
    except ModuleNotFoundError as exc:
        if exc.name != f"oos_tui.screens.{mode}":
            raise
        return not_built_screen(mode, title, _NOT_BUILT.get(mode, ""))


def _make_screen(mode: str) -> Screen:
    return _screen_class(mode)()


class OosApp(App[int]):
    """The operator's console. Build it with :func:`make_app`."""

    CSS_PATH: ClassVar[list[Any]] = themes.css_paths()  # type: ignore[misc]
    TITLE = "oos-tui"
    MODES: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        mode: functools.partial(_make_screen, mode) for mode in SCREEN_MODES
    }
    DEFAULT_MODE = DEFAULT_SCREEN
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        # The global keys are priority bindings: handled in order as the app takes
        # them off its queue, so a burst such as "2/type:FAIL" or ":queues" is
        # applied key by key to the right screen and bar. check_action steps
        # aside while a text field has focus or a non-console screen is up.
        *(
            Binding(str(i), f"go('{mode}')", title, show=False, priority=True, id=f"screen.{mode}")
            for i, (mode, title) in enumerate(SCREENS, start=1)
        ),
        Binding("colon", "command_line", "Cmd", priority=True, id="app.command"),
        Binding("slash", "filter", "Filter", priority=True, id="app.filter"),
        Binding("question_mark", "help", "Help", priority=True, id="app.help"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.force_quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        feeds: bool = True,
        sampler_factory: Callable[[], Any] | None = None,
        initial_state: ConsoleState | None = None,
        show_tracebacks: bool = False,
        start_screen: str = DEFAULT_SCREEN,
        first_step: FirstStep | None = None,
        css_cache: Path | None = None,
    ) -> None:
        self.DEFAULT_MODE = start_screen  # read by App.__init__: the first screen shown
        super().__init__()
        self.settings = settings
        # The bundled themes are known before the first CSS parse, so that parse
        # already has the chosen theme's variables (no second parse at mount).
        for theme in themes.load_themes():
            self.register_theme(theme)
        self.theme = settings.theme
        self.stylesheet = OnceStylesheet(variables=self.get_css_variables(), cache_dir=css_cache)
        _screen_class(start_screen)  # its widgets' CSS is parsed with the rest, once
        preload_default_css(self.stylesheet)
        self.show_tracebacks = show_tracebacks
        self.crash_log: Path | None = None
        self.crash_line: str | None = None
        self.clock: Clock = clock or SystemClock()
        self.state = initial_state or ConsoleState(
            workspace=str(settings.workspace), read_only=settings.read_only
        )
        self.alerts_ready = True
        self._alerts = AlertEngine(settings.alerts)
        self._alert_facts: dict[str, Any] = {}
        self._alert_baseline = False
        self._breakers = BreakerTracker()
        self._feeds = Feeds(
            self, settings, self.clock, sampler_factory=sampler_factory, first_step=first_step
        )
        self._feeds_enabled = feeds
        self._feeds_started = False
        self._history: deque[str] = deque(maxlen=32)
        self._queries: deque[str] = deque(maxlen=32)
        self._push_pending = False
        self._last_push = -1e9

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return themes.default_variables()

    def _fatal_error(self) -> None:
        """An unexpected error ends the console with one line, not a traceback on screen.

        The traceback goes to a crash log (the console's cache directory, or the
        temporary directory when that is not writable) whose path the line
        names; ``--debug`` shows Textual's full traceback instead. This is
        Textual's own hook for unhandled exceptions (pinned version).
        """
        if self.show_tracebacks or self._exception is None:
            super()._fatal_error()
            return
        from rich.text import Text

        self.crash_log = _write_crash_log(self.settings, self._exception)
        where = f" (details in {self.crash_log})" if self.crash_log else ""
        what = _one_line(self._exception)
        line = f"oos-tui: error: the console stopped on an unexpected error: {what}{where}"
        self.crash_line = default_sanitizer().clean(line)
        self._exit_renderables.append(Text(self.crash_line))
        self._close_messages_no_wait()

    # -- start and stop --------------------------------------------------------

    def on_load(self) -> None:
        # Before the first screen is composed: the newest events, read while
        # Textual loaded, are in the state that screen is first drawn with.
        if self._feeds_enabled and (first := self._feeds.first_arrival()) is not None:
            self.on_events_arrived(first)

    def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        # What already fires at start-up is shown, not announced one toast each.
        self._evaluate_alerts(announce=False)
        self._schedule_push()
        if self._feeds_enabled:
            # Started once the first frame is on screen (their first reads and
            # imports would share the GIL with drawing it); at the latest after:
            self.set_timer(_FEEDS_AT_LATEST, self._start_feeds)

    def on_console_screen_drawn(self, _message: ConsoleScreen.Drawn) -> None:
        self._start_feeds()

    def _start_feeds(self) -> None:
        settle_collector()  # start-up is over: what exists now lives as long as the app
        if self._feeds_enabled and not self._feeds_started:
            self._feeds_started = True
            self._feeds.start()

    def on_unmount(self) -> None:
        self._feeds.stop()

    # -- state flowing down ----------------------------------------------------

    def _schedule_push(self, *, at_once: bool = False) -> None:
        # Coalesce: many messages within one UI frame become one repaint, at most
        # ui_hz a second; the first news after a quiet spell is shown at once, and
        # so is the stream's first view (the newest events, at start-up).
        if at_once and self._push_pending:
            self._push_pending = False  # the pending timer's push finds nothing new
        if not self._push_pending:
            self._push_pending = True
            frame = 1 / max(1.0, self.settings.refresh.ui_hz)
            wait = -1.0 if at_once else self._last_push + frame - time.monotonic()
            if wait > 0:
                self.set_timer(wait, self._push_state)
            else:  # after the messages already queued (a zero-delay Timer divides by zero)
                self.call_later(self._push_state)

    def _push_state(self) -> None:
        self._push_pending = False
        self._last_push = time.monotonic()
        try:
            screen = self.screen
        except ScreenStackError:
            return  # shutting down: no screen to show anything on
        if isinstance(screen, ConsoleScreen) and screen.is_mounted:
            screen.show_state(self.state)

    def set_state(self, state: ConsoleState) -> None:
        """Replace the state (tests and feeds) and show it."""
        self.state = state
        self._schedule_push()

    def on_store_updated(self, message: StoreUpdated) -> None:
        now = self.clock.now()
        if message.snapshot is None:
            self.state = self.state.with_store_unchanged(now)
        else:
            self.state = self.state.with_store(message.snapshot, now)
            if self._breakers.observe(message.snapshot.breakers, now):
                self.state = self.state.with_breaker_history(self._breakers.history)
            self._evaluate_alerts()
        self._schedule_push()

    def on_events_arrived(self, message: EventsArrived) -> None:
        first = self.state.stream is None
        if first:  # the first view: taken once it is on screen
            self.call_after_refresh(self._feeds.batch_taken)
        else:
            self._feeds.batch_taken()
        update = message.update
        self.state = self.state.with_stream(update)
        if update.events and self._breakers.observe_events(update.events):
            self.state = self.state.with_breaker_history(self._breakers.history)
        if message.pipeline is not None:
            self.state = self.state.with_pipeline(message.pipeline, message.pipeline_progress)
        self._schedule_push(at_once=first)

    def on_host_sampled(self, message: HostSampled) -> None:
        self.state = self.state.with_host(message.sample)
        self._evaluate_alerts()
        self._schedule_push()

    def on_jobs_scanned(self, message: JobsScanned) -> None:
        self.state = self.state.with_jobs(message.snapshot)
        self._schedule_push()

    def on_resources_sampled(self, message: ResourcesSampled) -> None:
        self.state = self.state.with_resources(message)
        self._schedule_push()

    def on_backups_listed(self, message: BackupsListed) -> None:
        self.state = self.state.with_backups(message.backups)
        self._schedule_push()

    def on_alert_facts(self, message: AlertFacts) -> None:
        self._alert_facts = dict(message.facts)
        self._evaluate_alerts()
        self._schedule_push()

    def _evaluate_alerts(self, *, announce: bool = True) -> None:
        """Run the rules on the latest figures; say so when an alert starts firing."""
        state = self.state
        facts = self._alert_facts
        report = self._alerts.update(
            AlertInputs(
                now=self.clock.now(),
                store=state.store,
                host=state.host[-1] if state.host else None,
                dead_letters_in_window=facts.get("dead_letters_in_window"),
                integrity=facts.get("integrity"),
                backups=facts.get("backups"),
                error_counts=facts.get("error_counts"),
            )
        )
        self.state = self.state.with_alerts(report)
        # The first evaluation with every input known is the baseline: what fires
        # then was already true when the operator opened the console; it is shown
        # in the panel and the status bar, not announced toast by toast.
        if not self._alert_baseline:
            self._alert_baseline = state.store is not None and bool(facts)
            return
        if not announce:
            return
        for alert in (*report.fired, *report.changed):
            self.notify(
                f"{alert.summary} — :{alert.target} explains it",
                title=f"alert ({alert.severity})",
                severity="error" if alert.severity == "critical" else "warning",
                markup=False,
                timeout=8,
            )

    def refresh_slow_feeds(self) -> None:
        """Ask the feeds to re-read backups, sizes and alert facts now (after an action)."""
        self._feeds.refresh_slow()

    def on_feed_failed(self, message: FeedFailed) -> None:
        self.state = self.state.with_feed_error(message.source, message.message)
        self._schedule_push()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The command line and filter live in console screens; elsewhere (help,
        # trace, confirmations) they are hidden rather than silently inert.
        if action in ("command_line", "filter", "go", "help", "quit", "back"):
            # Not while typing into a field ("2", ":", "q" are text there), and not
            # over help, trace or a confirmation, whose own keys apply.
            return isinstance(self.screen, ConsoleScreen) and not isinstance(self.focused, Input)
        return True

    # -- navigation --------------------------------------------------------------

    async def action_go(self, mode: str) -> None:
        """Switch to a screen, remembering where we came from (``esc`` goes back).

        Awaited, so keys typed right after a number key (``2/type:FAIL``) are
        handled by the screen switched to, not the one being left.
        """
        if mode not in self.MODES:
            mode = "overview"
        if mode != self.current_mode:
            self._history.append(self.current_mode)
            await self.switch_mode(mode)

    async def action_back(self) -> None:
        """Return to the previous screen."""
        if self._history:
            await self.switch_mode(self._history.pop())

    def action_command_line(self) -> None:
        """Open the ``:`` command line."""
        if isinstance(self.screen, ConsoleScreen):
            self.screen.open_command_line()

    def action_filter(self) -> None:
        """Filter the focused list (``/``)."""
        if isinstance(self.screen, ConsoleScreen) and not self.screen.open_filter():
            self.notify("nothing to filter here: focus a list first", timeout=3)

    def action_help(self) -> None:
        """Show every key of this screen and the ``:`` commands."""
        self.push_screen(HelpScreen(self.help_entries()))

    def help_entries(self) -> list[HelpEntry]:
        """Keys of the current screen (as remapped), grouped: this screen first, then global.

        Bindings that share a description (``^c`` and ``super+c`` both copying) are
        one line with both keys, so the list reads as things to do, not key codes.
        """
        merged: dict[tuple[str, str], list[str]] = {}
        for _key, active in self.screen.active_bindings.items():
            b = active.binding
            if not b.description:
                continue
            section = "Global" if active.node is self else "This screen"
            keys = merged.setdefault((section, b.description), [])
            shown = self.get_key_display(b)
            if shown not in keys:
                keys.append(shown)
        entries = [(section, " ".join(keys), desc) for (section, desc), keys in merged.items()]
        return sorted(entries, key=lambda entry: entry[0] != "This screen")

    async def on_panel_opened(self, message: Panel.Opened) -> None:
        await self.open_screen(message.target, message.arg)

    async def on_command_line_submitted(self, message: CommandLine.Submitted) -> None:
        await self.run_command(message.command)

    async def open_screen(self, mode: str, arg: str = "") -> None:
        """Go to ``mode`` and hand it ``arg`` (a query, a name, a job id) once it is shown."""
        target = mode if mode in self.MODES else "overview"
        await self.action_go(target)
        if arg:
            self.call_after_refresh(self._apply_argument, target, arg)

    async def run_command(self, command: Command) -> None:
        """Carry out a parsed ``:`` command."""
        name, arg = command.name, command.arg
        if name == "quit":
            self.exit(0)
        elif name == "help":
            self.action_help()
        elif name == "theme":
            self.set_console_theme(arg)
        elif name == "alerts":
            await self.action_go("overview")
            self.call_after_refresh(self._focus_alerts)
        elif name in self.MODES:
            if arg:
                self._queries.appendleft(arg)
            await self.open_screen(name, arg)

    def _apply_argument(self, mode: str, arg: str) -> None:
        screen = self.screen
        apply = getattr(screen, "apply_command_argument", None)
        if apply is not None:
            apply(arg)
        else:
            self.notify(f":{mode} has nothing to show for {arg!r}", timeout=3, markup=False)

    def _focus_alerts(self) -> None:
        panel = self.screen.query_one_optional("#alerts-panel")
        if panel is not None:
            panel.focus()

    def set_console_theme(self, name: str) -> None:
        """Switch theme by name (unknown names are refused with a notice)."""
        if name not in self.available_themes:
            self.notify(f"unknown theme '{name}'", severity="warning", markup=False)
            return
        self.theme = name

    def theme_names(self) -> list[str]:
        """The bundled themes, default first."""
        return themes.theme_names()

    def recent_queries(self) -> list[str]:
        """Recent ``:events`` queries, for completion."""
        return list(self._queries)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _write_crash_log(settings: Settings, exc: BaseException) -> Path | None:
    """Write the traceback to a file; the terminal only gets its path."""
    import tempfile
    import time
    import traceback

    stamp = time.strftime("%Y%m%dT%H%M%S")
    text = "".join(traceback.format_exception(exc))
    for directory in (settings.cache_dir, Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"crash-{stamp}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def make_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    feeds: bool = True,
    sampler_factory: Callable[[], Any] | None = None,
    initial_state: ConsoleState | None = None,
    show_tracebacks: bool = False,
    start_screen: str = DEFAULT_SCREEN,
    first_step: FirstStep | None = None,
    css_cache: Path | None = None,
) -> OosApp:
    """Build the console (the one factory used by the CLI, Pilot and snapshot tests).

    ``first_step`` is the stream's first window, started by the CLI before
    Textual was imported (see :mod:`oos_tui.eventlog.first`); ``css_cache``
    where the parsed stylesheet is kept between runs (see
    :mod:`oos_tui.screens.stylesheet`). Tests pass neither: each parses.

    Raises:
        ConfigError: an unknown binding id in ``[keys]``, theme or start screen.
    """
    from oos_tui.config import ConfigError

    if start_screen not in SCREEN_MODES:
        modes = ", ".join(SCREEN_MODES)
        raise ConfigError(f"unknown screen '{start_screen}' (choose from {modes})")
    source = str(settings.config_file or "oos-tui.toml")
    validate_keymap(settings.keys, source)
    configure_sanitizer(settings.redact)
    if settings.theme not in themes.theme_names():
        raise ConfigError(
            f"unknown theme '{settings.theme}' (choose from {', '.join(themes.theme_names())})"
        )
    return OosApp(
        settings,
        clock=clock,
        feeds=feeds,
        sampler_factory=sampler_factory,
        initial_state=initial_state,
        show_tracebacks=show_tracebacks,
        start_screen=start_screen,
        first_step=first_step,
        css_cache=css_cache,
    )
