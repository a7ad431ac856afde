"""Audit: every operator action from ``operator_actions``, newest first, with its whole detail."""

from __future__ import annotations

import sqlite3
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Container
from textual.events import DescendantFocus
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from oos_tui.models import AuditEntry
from oos_tui.sanitize import Sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.state import ConsoleState
from oos_tui.store.reader import StoreReader
from oos_tui.store.schema import StoreError
from oos_tui.widgets.audit_detail import AuditDetail
from oos_tui.widgets.audit_table import AuditTable
from oos_tui.widgets.filter_bar import FilterBar

__all__ = ["AUDIT_LIMIT", "AuditScreen"]

AUDIT_LIMIT = 500
"""The newest this many actions are loaded; the title says when the store holds more."""

_WHERE = "data/oos.db operator_actions, newest first (each written with its action)"


class AuditScreen(ConsoleScreen):
    """The audit log; ``enter`` opens the selected action's detail, ``/`` filters."""

    MODE: ClassVar[str] = "audit"
    AUTO_FOCUS = "#audit-table"
    FILTER_HINT = "/filter actions: operator, action, target, outcome, result  (enter keeps)"

    def __init__(self) -> None:
        super().__init__()
        self._sanitizer: Sanitizer | None = None
        self._key: tuple[object, ...] | None = None

    @property
    def sanitizer(self) -> Sanitizer:
        """The workspace's redaction rules (``[redact]``), built once."""
        if self._sanitizer is None:
            self._sanitizer = Sanitizer(self.oos_app.settings.redact)
        return self._sanitizer

    def compose_body(self) -> ComposeResult:
        with Container(id="audit-body"):
            yield AuditTable(id="audit-table", sanitizer=self.sanitizer)
            yield AuditDetail(id="audit-detail", sanitizer=self.sanitizer)

    def on_screen_resume(self) -> None:
        self._key = None
        super().on_screen_resume()

    def show_body(self, state: ConsoleState, now: float) -> None:
        snap = state.store
        if snap is None:
            return
        health = snap.health
        key = (snap.audit_count, health.message if health is not None else None)
        if key != self._key:
            self._key = key
            self.reload("audit", self._load_once)

    # -- loading --------------------------------------------------------------------

    async def _load_once(self) -> None:
        entries: list[AuditEntry] = []
        problem = None
        try:
            async with StoreReader(self.oos_app.settings.store_path) as reader:
                entries = await reader.audit(limit=AUDIT_LIMIT)
        except (StoreError, sqlite3.Error, OSError) as exc:
            problem = f"cannot read: {exc}"
        total = getattr(self.oos_app.state.store, "audit_count", 0)
        self.query_one(AuditTable).show(entries, total=max(total, len(entries)), problem=problem)
        self._show_detail()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The loader does not exit the app on error; an unexpected one must still be heard.
        if event.state is WorkerState.ERROR and event.worker.group == "audit":
            self.notify(
                self.sanitizer.clean(f"audit log failed: {event.worker.error}"),
                severity="error",
                timeout=8,
                markup=False,
            )

    # -- filter, where from, detail ------------------------------------------------------

    def filter_target(self) -> Widget | None:
        return self.query_one(AuditTable)

    def open_filter(self) -> bool:
        table = self.query_one(AuditTable)
        self._filter_target = table
        self.query_one(FilterBar).open(table.filter_text)
        return True

    def apply_command_argument(self, arg: str) -> None:
        """``:audit TEXT`` filters the log."""
        table = self.query_one(AuditTable)
        table.apply_filter(arg.strip())
        table.focus()

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        self.set_where_from(_WHERE)

    @on(AuditTable.DetailRequested)
    def _toggle_detail(self) -> None:
        self.toggle_class("-detail")
        self._show_detail()

    @on(DataTable.RowHighlighted, "#audit-table")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        if self.has_class("-detail"):
            self.query_one(AuditDetail).show(self.query_one(AuditTable).selected_entry)
