"""The selected circuit breaker in full: figures, times, the whole last error, its transitions."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from oos_tui.actions.breakers import (
    format_open_for,
    format_rate,
    format_retry_in,
    retry_in,
    state_look,
    trip_progress,
)
from oos_tui.breaker_history import Transition
from oos_tui.models import Breaker
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.content_pane import ContentPane
from oos_tui.widgets.transition_list import STATE_STYLE, state_content, transition_time

__all__ = ["BreakerDetail", "render_breaker_detail", "what_happens_next"]

_RECENT = 5
_LABEL = 8


def _ago(duration: str) -> str:
    return "" if duration == "-" else f"{duration} ago"


def _when(ts: float | None, suffix: str = "") -> str:
    if ts is None:
        return "-"
    return transition_time(ts) + (f", {suffix}" if suffix and suffix != "-" else "")


def what_happens_next(b: Breaker, now: float) -> str:
    """One line in the contract's words: what the breaker does next on its own."""
    if b.state == "open":
        seconds = retry_in(b, now)
        if seconds is None:
            return "open with no retry time: calls stay blocked until it is reset"
        if seconds > 0:
            return "calls blocked until retry_at, then half-open for a trial call"
        return "retry time passed: half-open at the next call"
    if b.state == "half_open":
        return "a trial call decides: one success closes it, a failure opens it again"
    if b.state == "closed":
        left = b.failure_threshold - b.consecutive_failures
        if b.consecutive_failures and left > 0:
            if left == 1:
                return "one more consecutive failure opens it"
            return f"{left} more consecutive failures open it"
        return f"calls flow; it opens after {b.failure_threshold} consecutive failures"
    return "an unknown state: the contract knows closed, open and half_open"


def render_breaker_detail(
    b: Breaker | None,
    transitions: Sequence[Transition],
    now: float,
    empty: str = "no breaker selected",
) -> Content:
    """Every field of ``b``, the whole last error and its latest transitions (newest first).

    Store text is sanitized and never markup; line breaks of the last error
    are kept.
    """
    if b is None:
        return Content.styled(empty, "$text-muted")
    clean = default_sanitizer().clean
    word, symbol = state_look(b.state)
    style = STATE_STYLE.get(b.state, "$text-muted")

    def field(label: str, *value: Content | str) -> Content:
        return Content.assemble((f"{label:<{_LABEL}}", "bold $text-muted"), *value)

    parts = [
        Content.assemble((f"{symbol} {word}", style), "  ", (clean(b.name), "bold")),
        field("trip", trip_progress(b)),
        field("calls", f"{b.total_failures} failed · {b.total_successes} ok"),
        field("rate", f"{format_rate(b)} of calls failed"),
        field("opened", _when(b.opened_at, _ago(format_open_for(b, now)))),
        field("retry", _when(b.retry_at, format_retry_in(b, now))),
        field("next", what_happens_next(b, now)),
        Content.styled("last error", "bold $text-muted"),
        Content(clean(b.last_error, multiline=True))
        if b.last_error
        else Content.styled("-", "$text-muted"),
        field("updated", _when(b.updated_at)),
        Content.styled("transitions seen (newest first)", "bold $text-muted"),
    ]
    mine = [t for t in reversed(transitions) if t.name == b.name][:_RECENT]
    if not mine:
        parts.append(Content.styled("none since the console started", "$text-muted"))
    for t in mine:
        parts.append(
            Content.assemble(
                (transition_time(t.at), "$text-muted"),
                " ",
                state_content(t.old),
                " → ",
                state_content(t.new),
                (f" {t.via}", "$text-muted"),
            )
        )
    return Content("\n").join(parts)


class BreakerDetail(ContentPane):
    """A scrollable detail pane; the screen calls :meth:`show` when the selection or data change."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown_name: str | None = None

    def show(
        self,
        breaker: Breaker | None,
        transitions: Sequence[Transition],
        now: float,
        empty: str = "no breaker selected",
    ) -> None:
        """Display ``breaker`` as of ``now``; a new breaker scrolls back to the top."""
        name = breaker.name if breaker is not None else None
        same = name == self._shown_name
        self._shown_name = name
        self.show_content(
            render_breaker_detail(breaker, transitions, now, empty), scroll_home=not same
        )
