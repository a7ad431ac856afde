"""Breakers: every circuit breaker, the selected one in detail, observed transitions, reset."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer

from oos_tui.actions.breakers import (
    format_open_for,
    format_rate,
    format_retry_in,
    reset_breaker,
    state_look,
    trip_progress,
)
from oos_tui.breaker_history import Transition
from oos_tui.models import Breaker
from oos_tui.sanitize import default_sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.screens.confirm import ConfirmResult, ConfirmScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.breaker_detail import BreakerDetail
from oos_tui.widgets.breaker_table import BreakerTable
from oos_tui.widgets.transition_list import TransitionList

__all__ = ["BreakersScreen", "reset_confirmation"]

_TICKING = ("open", "half_open")
_ERROR_CHARS = 120
_SEVERITY = {"ok": "information", "refused": "warning", "error": "error"}


def reset_confirmation(b: Breaker, now: float) -> tuple[str, list[str], list[str]]:
    """Title, lines and warnings of the reset confirmation (pure: tested without a UI).

    The title names the breaker only when its name cannot be read as markup
    (the modal's title is markup); the lines, shown as plain text, always do.
    """
    clean = default_sanitizer().clean
    name = clean(b.name)
    word, symbol = state_look(b.state)
    safe = "[" not in name and "\\" not in name
    title = f"Reset breaker {name}" if safe else "Reset this breaker"
    lines = [
        f"breaker   {name}",
        f"state     {symbol} {word}",
        f"trip      {trip_progress(b)}",
        f"calls     {b.total_failures} failed · {b.total_successes} succeeded "
        f"({format_rate(b)} failing)",
    ]
    if format_open_for(b, now) != "-":
        lines.append(f"open for  {format_open_for(b, now)}")
    if format_retry_in(b, now) != "-":
        lines.append(f"retry     {format_retry_in(b, now)}")
    last = next((p.strip() for p in (b.last_error or "").splitlines() if p.strip()), "")
    if last:
        lines.append(f"last err  {clean(last)[:_ERROR_CHARS]}")
    lines.append(
        "Reset sets it closed with 0 consecutive failures and clears opened_at and "
        "retry_at; the totals and the last error stay."
    )
    warnings: list[str] = []
    plural = "s" if b.consecutive_failures != 1 else ""
    streak = f"{b.consecutive_failures} consecutive failure{plural}"
    if b.state == "open":
        ago = format_open_for(b, now)
        when = f"it opened {ago} ago" if ago != "-" else "it is open"
        warnings.append(f"{when} after {streak}; its worker will resume at once")
    elif b.state == "half_open":
        warnings.append(
            "it is half-open: reset closes it without waiting for a trial call to succeed"
        )
    elif b.consecutive_failures:
        warnings.append(f"it is closed but {trip_progress(b)}: the count goes back to 0")
    elif b.state == "closed" and b.opened_at is None and b.retry_at is None:
        warnings.append(
            "it is closed with no failures counted: the store will refuse (nothing to reset)"
        )
    return title, lines, warnings


class BreakersScreen(ConsoleScreen):
    """The breakers table; ``x`` resets the selected one, ``h`` narrows the history to it."""

    MODE: ClassVar[str] = "breakers"
    AUTO_FOCUS = "BreakerTable"
    FILTER_HINT = "/text  filters the focused list by breaker name (enter keeps, esc clears)"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "reset", "Reset", id="breakers.reset"),
        Binding("h", "toggle_history", "History: this/all", id="breakers.history"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._breakers: dict[str, Breaker] = {}
        self._history: tuple[Transition, ...] = ()
        self._empty = "reading the store…"
        self._only_selected = False
        self._ticker: Timer | None = None
        self._pending: str | None = None
        self._blocked: str | None = None
        self._history_title = ""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="breakers-body"):
            yield BreakerTable(id="breaker-table")
            with Horizontal(id="breakers-lower"):
                yield BreakerDetail(id="breaker-detail")
                yield TransitionList(id="breaker-transitions")

    def on_mount(self) -> None:
        self.query_one(BreakerDetail).border_title = "Detail"
        self._title_history()

    # -- state in -------------------------------------------------------------------

    def show_body(self, state: ConsoleState, now: float) -> None:
        snap = state.store
        breakers = tuple(getattr(snap, "breakers", ()) or ())
        self._breakers = {b.name: b for b in breakers}
        self._history = tuple(state.breaker_history)
        self._empty = _empty_message(snap)
        self.query_one(BreakerTable).show(breakers, now)
        if self._pending is not None and self._select(self._pending):
            self._pending = None
        self._show_selected(now)
        self._arm_ticker(breakers)
        blocked = self._reset_blocker(state)
        if blocked != self._blocked:
            self._blocked = blocked
            self.refresh_bindings()

    def _show_selected(self, now: float) -> None:
        name = self.query_one(BreakerTable).selected_name
        breaker = self._breakers.get(name) if name is not None else None
        self.query_one(BreakerDetail).show(breaker, self._history, now, self._empty)
        only = name if self._only_selected else None
        self.query_one(TransitionList).show(self._history, only)
        self._title_history()

    def _title_history(self) -> None:
        name = self.query_one(BreakerTable).selected_name
        scope = "all breakers"
        if self._only_selected:
            scope = default_sanitizer().clean(name) if name else "no breaker selected"
        title = f"Transitions · {scope}"
        if title != self._history_title:  # setting a title repaints, even the same one
            self._history_title = title
            self.query_one(TransitionList).border_title = Content(title)

    @on(BreakerTable.Selected)
    def _selected(self, message: BreakerTable.Selected) -> None:
        self._show_selected(self.oos_app.clock.now())

    # -- the countdown ----------------------------------------------------------------

    def _arm_ticker(self, breakers: tuple[Breaker, ...]) -> None:
        """Tick each second only while a countdown or open-for time is running."""
        needed = self.is_current and any(b.state in _TICKING for b in breakers)
        if needed and self._ticker is None:
            self._ticker = self.set_interval(1.0, self._tick)
        elif not needed and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        self.show_body(self.oos_app.state, self.oos_app.clock.now())

    def on_screen_suspend(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    @property
    def ticking(self) -> bool:
        """True while the 1 s countdown timer runs."""
        return self._ticker is not None

    # -- selection ------------------------------------------------------------------------

    def apply_command_argument(self, arg: str) -> None:
        """``:breakers NAME`` (and an alert's jump) select that breaker."""
        name = arg.strip()
        if not name:
            return
        if self.oos_app.state.store is None:
            self._pending = name  # selected when the first store poll arrives
        elif not self._select(name):
            self.notify(
                f"no breaker named {default_sanitizer().clean(name)!r}",
                severity="warning",
                markup=False,
                timeout=4,
            )

    def _select(self, name: str) -> bool:
        table = self.query_one(BreakerTable)
        if name not in self._breakers:
            matches = [n for n in self._breakers if name.lower() in n.lower()]
            if len(matches) != 1:
                return False
            name = matches[0]
        if not table.select(name):
            table.apply_filter("")
            if not table.select(name):
                return False
        table.focus()
        return True

    def action_toggle_history(self) -> None:
        """Show the transitions of every breaker, or of the selected one only."""
        self._only_selected = not self._only_selected
        self._show_selected(self.oos_app.clock.now())

    @property
    def history_scope(self) -> str:
        """``all`` or ``selected``: what the transitions pane lists."""
        return "selected" if self._only_selected else "all"

    # -- reset ------------------------------------------------------------------------------

    def _reset_blocker(self, state: ConsoleState) -> str | None:
        if self.oos_app.settings.read_only:
            return "read-only mode (--read-only): no action runs, breakers cannot be reset"
        health = getattr(state.store, "health", None)
        if getattr(health, "newer_schema", False):
            return getattr(health, "message", None) or "newer store schema: actions refused"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reset":
            return None if self._reset_blocker(self.oos_app.state) else True
        return True

    def on_key(self, event: events.Key) -> None:
        # Textual skips a disabled binding without a word; the operator should hear why.
        active = self.active_bindings.get(event.key)
        if active is not None and active.binding.action == "reset" and not active.enabled:
            event.stop()
            event.prevent_default()
            self._say_blocked()

    def _say_blocked(self) -> None:
        reason = self._reset_blocker(self.oos_app.state)
        if reason:
            self.notify(reason, title="reset breaker", severity="warning", markup=False)

    def action_reset(self) -> None:
        """Ask, then reset the selected breaker (one audited transaction)."""
        if self._reset_blocker(self.oos_app.state):
            self._say_blocked()
            return
        name = self.query_one(BreakerTable).selected_name
        breaker = self._breakers.get(name) if name is not None else None
        if breaker is None:
            self.notify("no breaker selected", severity="warning", timeout=3)
            return
        title, lines, warnings = reset_confirmation(breaker, self.oos_app.clock.now())
        self.app.push_screen(
            ConfirmScreen(title, lines, warnings=warnings, ask_reason=True, verb="Reset"),
            callback=partial(self._confirmed, breaker.name),
        )

    def _confirmed(self, name: str, answer: ConfirmResult | None) -> None:
        if answer is not None and answer.confirmed:
            self._run_reset(name, answer.reason)

    @work(group="breaker-reset", exit_on_error=False)
    async def _run_reset(self, name: str, reason: str) -> None:
        settings = self.oos_app.settings
        clean = default_sanitizer().clean
        try:
            result = await reset_breaker(
                Path(settings.store_path),
                name,
                reason=reason or None,
                read_only=settings.read_only,
                clock_now=self.oos_app.clock.now(),
            )
        except Exception as exc:  # the core reports store trouble as a result; this is a bug
            self.notify(
                clean(f"reset failed: {type(exc).__name__}: {exc}"),
                title="reset breaker",
                severity="error",
                markup=False,
            )
            raise
        self.notify(
            clean(result.message),
            title=f"reset breaker: {result.outcome}",
            severity=_SEVERITY.get(result.outcome, "warning"),
            markup=False,
        )
        self.oos_app.refresh_slow_feeds()

    # -- provenance ---------------------------------------------------------------------

    @on(events.DescendantFocus)
    def _focused(self, event: events.DescendantFocus) -> None:
        store = _display_path(self.oos_app.settings.store_path, self.oos_app.settings.workspace)
        if isinstance(event.widget, TransitionList):
            self.set_where_from(
                "transitions this console saw: state changes between store polls, "
                "and log lines naming a breaker with a state"
            )
        else:
            self.set_where_from(
                f"{store} circuit_breakers, every store poll · countdowns: console clock"
            )


def _display_path(path: Path | str, workspace: Path | str) -> str:
    try:
        return str(Path(path).relative_to(workspace))
    except ValueError:
        return str(path)


def _empty_message(snap: object) -> str:
    """What the detail pane says when there is no breaker to show."""
    if snap is None:
        return "reading the store…"
    health = getattr(snap, "health", None)
    if health is not None and not getattr(health, "present", True):
        return getattr(health, "message", None) or "no store yet"
    if health is not None and "circuit_breakers" in getattr(health, "missing_tables", ()):
        return "circuit_breakers: not present"
    if not getattr(snap, "breakers", ()):
        return "no circuit breakers in the store"
    return "no breaker selected"
