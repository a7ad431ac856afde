"""Audit pane: the operator actions log, newest first, with the outcome in words and colour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message

from oos_tui.models import AuditEntry
from oos_tui.sanitize import Sanitizer
from oos_tui.widgets.styled_table import Cell, Column, StyledTable

__all__ = ["OUTCOME_WORDS", "AuditTable", "audit_columns", "audit_rows", "result_message"]

OUTCOME_WORDS: dict[str, str] = {"ok": "✓ ok", "refused": "▲ refused", "error": "✕ error"}
"""Each outcome with a symbol, so it reads without colour."""


def result_message(detail: Any) -> str:
    """The one-line result an action recorded: ``detail.result`` (or its error), first line."""
    text: Any = detail
    if isinstance(detail, dict):
        text = detail.get("result") or detail.get("error") or ""
        reason = detail.get("reason")
        if reason:
            text = f"{text} (reason: {reason})"
    for line in str(text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _when(ts: float | None, wide: bool) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M")


def audit_columns(wide: bool) -> tuple[Column, ...]:
    """The columns at this width; the result message takes what is left."""
    if wide:
        return (
            Column("id", "id", 6, justify="right"),
            Column("at", "at (UTC)", 19),
            Column("operator", "operator", 20),
            Column("action", "action", 13),
            Column("target", "target", 28),
            Column("outcome", "outcome", 10),
            Column("result", "result", None, min_width=24),
        )
    return (
        Column("at", "at (UTC)", 11),
        Column("operator", "operator", 9),
        Column("action", "action", 13),
        Column("target", "target", 13),
        Column("outcome", "outcome", 9),
        Column("result", "result", None, min_width=10),
    )


def audit_rows(
    entries: Sequence[AuditEntry], wide: bool, clean: Callable[[str], str] = str
) -> list[tuple[int, tuple[Cell, ...]]]:
    """One keyed row per action, in the order given (newest first)."""
    rows = []
    for e in entries:
        outcome = e.outcome if e.outcome in OUTCOME_WORDS else "other"
        cells: list[Cell] = []
        if wide:
            cells.append((str(e.id), "muted"))
        cells += [
            (_when(e.at, wide), "muted"),
            (clean(e.operator), ""),
            (clean(e.action), "action"),
            (clean(e.target), ""),
            (OUTCOME_WORDS.get(e.outcome, clean(e.outcome)), outcome),
            (clean(result_message(e.detail)), ""),
        ]
        rows.append((e.id, tuple(cells)))
    return rows


def _matches(entry: AuditEntry, needle: str, clean: Callable[[str], str]) -> bool:
    # Matched on the text as shown, so a masked secret cannot be found by typing it.
    hay = " ".join(
        (entry.operator, entry.action, entry.target, entry.outcome, result_message(entry.detail))
    )
    return needle in clean(hay).lower()


class AuditTable(StyledTable):
    """Every operator action; ``/`` filters on any column, ``enter`` asks for the detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", id="audit.detail"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "audit-table--muted",
        "audit-table--action",
        "audit-table--ok",
        "audit-table--refused",
        "audit-table--error",
        "audit-table--other",
    }
    ROLE_PREFIX: ClassVar[str] = "audit-table"

    class DetailRequested(Message):
        """Show or hide the whole record of the selected action."""

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id, sanitizer=sanitizer)
        self._entries: tuple[AuditEntry, ...] = ()
        self._shown: tuple[AuditEntry, ...] = ()
        self._by_id: dict[str, AuditEntry] = {}
        self._total = 0
        self._problem: str | None = None

    def show(
        self, entries: Sequence[AuditEntry], *, total: int, problem: str | None = None
    ) -> None:
        """Show freshly loaded actions (newest first); ``total`` is how many the store holds."""
        self._entries = tuple(entries)
        self._total = total
        self._problem = problem
        self._refresh_view()

    def apply_filter(self, text: str) -> None:
        """Keep the actions whose operator, action, target, outcome or result contain ``text``."""
        self.filter_text = text
        self._refresh_view()

    def _refresh_view(self) -> None:
        needle = self.filter_text.strip().lower()
        self._shown = (
            tuple(e for e in self._entries if _matches(e, needle, self.clean))
            if needle
            else self._entries
        )
        self._by_id = {str(e.id): e for e in self._shown}
        self.redraw()
        self.border_title = Content(self.clean(self._title()))

    def _title(self) -> str:
        if self._problem:
            return f"Operator actions  {self._problem}"
        shown, loaded = len(self._shown), len(self._entries)
        count = f"{loaded:,}" if loaded >= self._total else f"newest {loaded:,} of {self._total:,}"
        if self.filter_text:
            count = f"{shown:,} of {count} match /{self.filter_text}"
        return f"Operator actions  {count} · newest first"

    def columns_for(self, wide: bool) -> tuple[Column, ...]:
        return audit_columns(wide)

    def rows_for(self, wide: bool) -> list[tuple[int, tuple[Cell, ...]]]:
        return audit_rows(self._shown, wide, self.clean)

    @property
    def selected_entry(self) -> AuditEntry | None:
        """The action under the cursor."""
        return self._by_id.get(self.selected_key or "")

    def action_detail(self) -> None:
        """Ask for the detail of the selected action."""
        self.post_message(self.DetailRequested())
