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
        # One row high in every theme: no layout pass (it would repaint the neighbours).
        self.update(self._build(line, self.size.width or 80), layout=False)

    def on_resize(self) -> None:
        if self._line is not None:
            self.update(self._build(self._line, self.size.width), layout=False)

    @staticmethod
    def _build(s: StatusLine, width: int) -> Content:
        """Fit the fields into ``width``: low-priority fields give way first.

        At 80 columns nothing essential may fall off: the store mode, alerts
        and a failing source stay (the failure's text is cut, keeping its
        start); the console's own cost, the schema, the unreadable count and
        finally the workspace path give way.
        """
        ro = s.mode == "read-only"
        newer = "newer" in s.schema or "no store" in s.schema
        # (drop order: higher goes first, 0 never; text; style)
        fields: list[tuple[int, str, str]] = [
            (0, "RO" if ro else "RW", "bold $warning" if ro else ""),
            (2 if not newer else 0, s.schema, "$warning" if newer else ""),
            (1, "↻ " + s.refresh + (" stale" if s.stale else ""), "$warning" if s.stale else ""),
        ]
        if s.alerts:
            style = "bold $alert-critical" if s.alerts_critical else "bold $alert-warning"
            fields.append((0, f"▲ {s.alerts} alert{'s' if s.alerts != 1 else ''}", style))
        if s.unreadable:
            fields.append((3, f"? {s.unreadable} unreadable", "$sev-warning"))
        if s.data_errors:
            fields.append((3, f"! {s.data_errors} data err", "$sev-warning"))
        if s.problem:
            fields.append((0, "✕ " + " ".join(s.problem.split()), "$sev-error"))
        fields.append((4, f"me {s.self_cpu} {s.self_mem}".strip(), "$text-muted"))
        sep = " │ "
        path_min = 10

        def length(items: list[tuple[int, str, str]]) -> int:
            return sum(len(t) + len(sep) for _, t, _ in items) + 1

        for drop in (4, 3, 2, 1):
            if length(fields) + path_min <= width:
                break
            fields = [f for f in fields if f[0] != drop]
        over = length(fields) + path_min - width
        if over > 0 and s.problem:
            i = next(i for i, f in enumerate(fields) if f[1].startswith("✕ "))
            _, text, style = fields[i]
            keep = max(10, len(text) - over)
            fields[i] = (0, text[: keep - 1] + "…", style)
        path_room = max(0, width - length(fields))
        parts: list[tuple[str, str]] = [(" " + _shorten(s.workspace, path_room), "bold")]
        for _p, text, style in fields:
            parts.append((sep, "$text-muted"))
            parts.append((text, style))
        return Content.assemble(*parts)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1) :] if width > 1 else "…"
