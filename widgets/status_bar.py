"""The bottom status line: workspace, store mode, schema, freshness, errors, cost."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from oos_tui.state import StatusLine

__all__ = ["StatusBar"]


class StatusBar(Static):
    """Renders a :class:`~oos_tui.state.StatusLine`; every state has a word, not only a colour."""

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._line: StatusLine | None = None

    def show(self, line: StatusLine) -> None:
        """Repaint only when a shown field changed."""
        if line == self._line:
            return
        self._line = line
        self.update(self._build(line, self.size.width or 80))

    def on_resize(self) -> None:
        if self._line is not None:
            self.update(self._build(self._line, self.size.width))

    @staticmethod
    def _build(s: StatusLine, width: int) -> Content:
        sep = (" │ ", "$text-muted")
        parts: list[tuple[str, str]] = [
            (" " + _shorten(s.workspace, 24), "bold"),
            sep,
            (
                "RO" if s.mode == "read-only" else "RW",
                "bold $warning" if s.mode == "read-only" else "",
            ),
            sep,
            (s.schema, "$warning" if "newer" in s.schema or "no store" in s.schema else ""),
            sep,
            ("↻ " + s.refresh + (" stale" if s.stale else ""), "$warning" if s.stale else ""),
        ]
        if s.alerts:
            style = "bold $alert-critical" if s.alerts_critical else "bold $alert-warning"
            parts += [sep, (f"▲ {s.alerts} alert{'s' if s.alerts != 1 else ''}", style)]
        if s.unreadable:
            parts += [sep, (f"? {s.unreadable} unreadable", "$sev-warning")]
        if s.data_errors:
            parts += [sep, (f"! {s.data_errors} data err", "$sev-warning")]
        tail = [sep, (f"me {s.self_cpu} {s.self_mem}", "$text-muted")]
        used = sum(len(t) for t, _ in parts) + sum(len(t) for t, _ in tail)
        if s.problem and width - used > 12:
            room = width - used - 5
            parts += [sep, ("✕ " + _shorten(s.problem, room), "$sev-error")]
        return Content.assemble(*parts, *tail)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1) :] if width > 1 else "…"
