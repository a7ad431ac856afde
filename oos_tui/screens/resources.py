"""Resources: host graphs, pipeline processes, workspace sizes, producer history, store health."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.events import DescendantFocus, Resize
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.worker import get_current_worker

from oos_tui.integrity import IntegrityRecord, check_store, last_integrity, store_health_figures
from oos_tui.screens.base import ConsoleScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.host_graphs import HostGraphs, HostLimits
from oos_tui.widgets.process_table import ProcessTable
from oos_tui.widgets.producer_history import ProducerHistoryPane
from oos_tui.widgets.size_table import SizeTable
from oos_tui.widgets.store_health import StoreHealthPane
from oos_tui.widgets.table import OosTable

if TYPE_CHECKING:
    from oos_tui.clock import Clock
    from oos_tui.config import Settings

__all__ = ["ResourcesScreen"]

WIDE_MIN = (120, 40)
"""From this terminal size (columns, rows) the panes sit side by side with tall graphs."""

_PANES: dict[str, str] = {
    "host": "#host-graphs",
    "cpu": "#host-graphs",
    "load": "#host-graphs",
    "memory": "#host-graphs",
    "disk": "#sizes",
    "sizes": "#sizes",
    "store": "#store-health",
    "integrity": "#store-health",
    "processes": "#processes",
    "history": "#producer-history",
}
"""``:resources ARG`` (and alerts) → the pane that explains it."""

_PANE_CLASSES = (HostGraphs, ProcessTable, SizeTable, StoreHealthPane, ProducerHistoryPane)
"""Each says where its figures come from (``source``) when it or a child gets focus."""


class ResourcesScreen(ConsoleScreen):
    """Five panes fed from the console state; ``c`` checks the store (read-only)."""

    MODE: ClassVar[str] = "resources"
    AUTO_FOCUS = "#host-graphs"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "check(False)", "Check store", id="resources.check"),
        Binding("C", "check(True)", "Full integrity check", show=False, id="resources.check_full"),
        Binding("escape", "cancel_check", "Cancel check", id="resources.cancel"),
    ]

    class CheckProgress(Message):
        """A running check's estimated fraction done (posted from the check's thread)."""

        def __init__(self, fraction: float) -> None:
            super().__init__()
            self.fraction = fraction

    class CheckDone(Message):
        """A check ended: its record (None if it could not run) and why it was not recorded."""

        def __init__(self, kind: str, record: IntegrityRecord | None, note: str | None) -> None:
            super().__init__()
            self.kind = kind
            self.record = record
            self.note = note

    class IntegrityRead(Message):
        """The record file was read (None: no check recorded)."""

        def __init__(self, record: IntegrityRecord | None) -> None:
            super().__init__()
            self.record = record

    def __init__(self) -> None:
        super().__init__()
        self._checking: str | None = None
        self._cancel = threading.Event()

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="resources-body"), Container(id="resources-grid"):
            yield HostGraphs(id="host-graphs")
            yield ProcessTable(id="processes")
            yield SizeTable(id="sizes")
            yield StoreHealthPane(id="store-health")
            yield ProducerHistoryPane(id="producer-history")

    def on_mount(self) -> None:
        self.query_one(StoreHealthPane).set_hint(self._check_hint())

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._read_integrity(self.oos_app.settings)

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= WIDE_MIN[0] and event.size.height >= WIDE_MIN[1]
        self.set_class(wide, "-wide")

    # -- state in -----------------------------------------------------------------

    def show_body(self, state: ConsoleState, now: float) -> None:
        settings = self.oos_app.settings
        alerts = settings.alerts
        limits = HostLimits(alerts.load1, alerts.disk_percent, alerts.memory_available_percent)
        latest = state.host[-1] if state.host else None
        self.query_one(HostGraphs).show_samples(state.host, now, limits)
        self.query_one(ProcessTable).show_processes(
            state.processes or None, now, settings.processes.patterns
        )
        self.query_one(SizeTable).show_sizes(state.sizes, state.size_rates, latest)
        health = getattr(state.store, "health", None)
        figures = None
        message = getattr(health, "message", None)
        if health is None:
            message = None
        elif not health.present:
            message = message or f"no store at {health.path}"
        elif health.page_count is not None:
            figures = store_health_figures(health, None)
        self.query_one(StoreHealthPane).show_health(figures, message, now)
        self.query_one(ProducerHistoryPane).show_history(state.producer_history, state.host, now)

    # -- where figures come from ------------------------------------------------------

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        node: Widget | None = event.widget
        while node is not None and not isinstance(node, _PANE_CLASSES):
            parent = node.parent
            node = parent if isinstance(parent, Widget) else None
        if isinstance(node, _PANE_CLASSES):
            self.set_where_from(node.source(self.oos_app.settings))

    def apply_command_argument(self, arg: str) -> None:
        """``:resources disk`` and the alerts land here: focus the pane that explains it."""
        selector = _PANES.get(arg.strip().lower())
        if selector is None:
            self.notify(
                f"nothing called {arg!r} here; try {', '.join(sorted(_PANES))}",
                markup=False,
                timeout=4,
            )
            return
        pane = self.query_one(selector)
        target = pane.query_one(OosTable) if isinstance(pane, ProcessTable) else pane
        target.focus()

    # -- the integrity check -------------------------------------------------------

    def _keys(self) -> dict[str, str]:
        """The check's keys as currently mapped (``[keys]`` may remap them)."""
        keys = {"resources.check": "c", "resources.check_full": "C", "resources.cancel": "esc"}
        for key, active in self.active_bindings.items():
            binding = active.binding
            if binding.id in keys:
                keys[binding.id] = self.app.get_key_display(binding) or key
        return keys

    def _check_hint(self) -> str:
        keys = self._keys()
        quick, full = keys["resources.check"], keys["resources.check_full"]
        return f"{quick} quick_check · {full} integrity_check"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_check":
            return self._checking is not None
        return True

    def action_check(self, full: bool = False) -> None:
        """Run ``PRAGMA quick_check`` (or a full ``integrity_check``); again: cancel it."""
        if self._checking is not None:
            self.action_cancel_check()
            return
        kind = "integrity_check" if full else "quick_check"
        self._checking = kind
        self._cancel.clear()
        self.refresh_bindings()
        pane = self.query_one(StoreHealthPane)
        pane.show_progress(kind, 0.0, self._cancel_hint())
        self._run_check(self.oos_app.settings, self.oos_app.clock, full, self._cancel)

    def _cancel_hint(self) -> str:
        keys = self._keys()
        return f"{keys['resources.cancel']} or {keys['resources.check']} cancels"

    def action_cancel_check(self) -> None:
        """Stop a running check at its next progress call; nothing is recorded."""
        if self._checking is not None:
            self._cancel.set()

    @work(thread=True, exclusive=True, group="resources-check", exit_on_error=False)
    def _run_check(
        self, settings: Settings, clock: Clock, full: bool, cancel: threading.Event
    ) -> None:
        worker = get_current_worker()
        kind = "integrity_check" if full else "quick_check"
        last = -1

        def progress(fraction: float) -> bool:
            nonlocal last
            percent = int(fraction * 100)
            if percent != last:
                last = percent
                self.post_message(self.CheckProgress(fraction))
            return cancel.is_set() or worker.is_cancelled

        try:
            record, note = check_store(settings, progress, full=full, clock=clock)
        except Exception as exc:  # the check's own failure is reported, never fatal
            self.post_message(self.CheckDone(kind, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.CheckDone(kind, record, note))

    @on(CheckProgress)
    def _check_progress(self, message: CheckProgress) -> None:
        if self._checking is not None:
            pane = self.query_one(StoreHealthPane)
            pane.show_progress(self._checking, message.fraction, self._cancel_hint())

    @on(CheckDone)
    def _check_done(self, message: CheckDone) -> None:
        self._checking = None
        self.refresh_bindings()
        pane = self.query_one(StoreHealthPane)
        pane.show_progress(None)
        record, kind = message.record, message.kind
        if record is None:
            self.notify(
                f"{kind} could not run: {message.note}", severity="error", markup=False, timeout=8
            )
            return
        if record.detail == "cancelled":
            self.notify(f"{kind} cancelled: nothing recorded", markup=False, timeout=4)
            return
        verdict = "ok" if record.ok else f"FAILED: {record.detail}"
        where = f"; {message.note}" if message.note else ", recorded"
        severity: SeverityLevel = (
            "error" if not record.ok else "warning" if message.note else "information"
        )
        self.notify(
            f"{kind} {verdict}{where}",
            title="store check",
            severity=severity,
            markup=False,
            timeout=8 if record.ok else 15,
        )
        pane.show_integrity(record)
        if message.note is None:
            self._read_integrity(self.oos_app.settings)
        # The integrity alert reads the record: let the feeds pick it up now.
        self.oos_app.refresh_slow_feeds()

    # -- the last recorded check ------------------------------------------------------

    @work(thread=True, exclusive=True, group="resources-integrity", exit_on_error=False)
    def _read_integrity(self, settings: Settings) -> None:
        self.post_message(self.IntegrityRead(last_integrity(settings)))

    @on(IntegrityRead)
    def _integrity_read(self, message: IntegrityRead) -> None:
        self.query_one(StoreHealthPane).show_integrity(message.record)
