"""Breaker state transitions the console has observed, newest first, for one breaker or all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from textual.containers import VerticalScroll
from textual.content import Content

from oos_tui.actions.breakers import state_look
from oos_tui.breaker_history import Transition
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.text_line import QuietStatic

__all__ = ["STATE_STYLE", "TransitionList", "render_transitions", "transition_time"]

STATE_STYLE: dict[str, str] = {
    "closed": "$state-closed",
    "open": "bold $state-open",
    "half_open": "$state-half-open",
}
"""The theme variable of each state (the word and symbol always come with it)."""

_WIDE = 72
_SHOWN = 200


def transition_time(ts: float) -> str:
    """``09-29 01:59:30`` (UTC), the console's compact time of day with its date."""
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M:%S")


def state_content(state: str | None) -> Content:
    """Symbol and word of a state in its colour; ``?`` when only the new state is known."""
    if state is None:
        return Content.styled("? unknown", "$text-muted")
    word, symbol = state_look(state)
    return Content.styled(f"{symbol} {word}", STATE_STYLE.get(state, "$text-muted"))


def _crop(content: Content, width: int) -> Content:
    return content if content.cell_length <= width else content.truncate(width, ellipsis=True)


def render_transitions(
    transitions: Sequence[Transition],
    width: int,
    only: str | None = None,
    *,
    limit: int = _SHOWN,
    text_filter: str = "",
) -> Content:
    """Newest first: time, breaker, old → new, via store/log, detail.

    Wide panes get one line per transition; narrow ones two (the change on
    the second line, indented). Names and details from the store and logs
    are sanitized and never markup.

    Args:
        transitions: oldest first, as the console state keeps them.
        width: usable cells per line.
        only: keep the transitions of this breaker alone.
        limit: at most this many, the newest.
        text_filter: keep lines whose breaker or detail contain it.
    """
    clean = default_sanitizer().clean
    needle = text_filter.strip().lower()
    picked = [
        t
        for t in reversed(transitions)
        if (only is None or t.name == only)
        and (not needle or needle in t.name.lower() or needle in t.detail.lower())
    ][:limit]
    if not picked:
        if only is not None:
            return Content.styled(
                "no transitions of this breaker seen yet (h shows every breaker)", "$text-muted"
            )
        return Content.styled(
            "no transitions seen yet: the console records a state change between two store "
            "polls, and log lines that name a breaker with a state, from the time it started",
            "$text-muted",
        )
    name_width = min(24, max(len(clean(t.name)) for t in picked))
    lines: list[Content] = []
    for t in picked:
        when = Content.styled(transition_time(t.at), "$text-muted")
        name = Content(clean(t.name))
        change = Content.assemble(state_content(t.old), " → ", state_content(t.new))
        via = Content.styled(f"{t.via:<5}", "$text-muted")
        detail = Content(clean(t.detail)) if t.detail else Content("")
        if width >= _WIDE:
            pad = max(0, name_width - name.cell_length)
            line = Content.assemble(
                when, "  ", name.pad_right(pad), "  ", via, "  ", change, "  ", detail
            )
            lines.append(_crop(line, width))
        else:
            lines.append(_crop(Content.assemble(when, " ", name), width))
            second = Content.assemble("  ", change, " ", via.rstrip())
            if t.detail:
                second = Content.assemble(second, " · ", detail)
            lines.append(_crop(second, width))
    return Content("\n").join(lines)


class TransitionList(VerticalScroll):
    """A scrollable list of observed transitions; the screen pushes them with :meth:`show`.

    ``/`` filters by breaker name or detail text (:meth:`apply_filter`).
    """

    DEFAULT_CSS = """
    TransitionList { height: 1fr; }
    TransitionList > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_text = ""
        self._transitions: tuple[Transition, ...] = ()
        self._only: str | None = None

    def compose(self):
        yield QuietStatic()

    def show(self, transitions: Sequence[Transition], only: str | None = None) -> None:
        """Display ``transitions`` (oldest first), all of them or ``only`` one breaker's."""
        self._transitions = tuple(transitions)
        self._only = only
        self._redraw()

    def apply_filter(self, text: str) -> None:
        """Keep transitions whose breaker or detail contains ``text``."""
        self.filter_text = text
        self._redraw()

    def _redraw(self) -> None:
        width = max(20, self.scrollable_content_region.width or 40)
        content = render_transitions(
            self._transitions, width, self._only, text_filter=self.filter_text
        )
        self.query_one(QuietStatic).show(content)

    def on_resize(self) -> None:
        self._redraw()
