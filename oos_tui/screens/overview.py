"""Overview: the whole pipeline on one screen (the console's default)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Container
from textual.events import DescendantFocus

from oos_tui.screens.base import ConsoleScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.alert_list import AlertList, render_alert_list
from oos_tui.widgets.breaker_summary import BreakerSummary, render_breaker_summary
from oos_tui.widgets.host_glance import HostGlance, render_host_glance
from oos_tui.widgets.latest_errors import LatestErrors, render_latest_errors
from oos_tui.widgets.panel import Panel
from oos_tui.widgets.pipeline_status import PipelineStatus, render_pipeline_status
from oos_tui.widgets.queue_depths import QueueDepths, render_queue_depths

__all__ = ["OverviewScreen"]


class OverviewScreen(ConsoleScreen):
    """Six panels; ``tab`` moves between them, ``enter`` opens the screen behind one."""

    MODE: ClassVar[str] = "overview"
    AUTO_FOCUS = "#queues-panel"

    def compose_body(self) -> ComposeResult:
        with Container(id="overview-grid"):
            yield QueueDepths("Queues", id="queues-panel")
            yield BreakerSummary("Breakers", id="breakers-panel")
            yield HostGlance("Host", id="host-panel")
            yield PipelineStatus("Pipeline · oos.log", id="pipeline-panel")
            yield AlertList("Alerts", id="alerts-panel")
            yield LatestErrors("Latest errors", id="errors-panel")

    def show_body(self, state: ConsoleState, now: float) -> None:
        settings = self.oos_app.settings
        snap = state.store
        queues = getattr(snap, "queues", ())
        health = getattr(snap, "health", None)
        store_msg = getattr(health, "message", None) if health is not None else "reading the store…"
        q = self.query_one(QueueDepths)
        q.show(
            render_queue_depths(
                queues, state.queue_history, settings.alerts.queue_pending, q.inner_width, store_msg
            )
        )
        b = self.query_one(BreakerSummary)
        b.show(render_breaker_summary(getattr(snap, "breakers", ()), now, b.inner_width))
        h = self.query_one(HostGlance)
        h.show(
            render_host_glance(
                state.host,
                h.inner_width,
                disk_limit=settings.alerts.disk_percent,
                load_limit=settings.alerts.load1,
                mem_floor=settings.alerts.memory_available_percent,
                height=h.content_region.height,
            )
        )
        p = self.query_one(PipelineStatus)
        p.show(render_pipeline_status(state.pipeline, state.pipeline_scan, p.inner_width))
        a = self.query_one(AlertList)
        a.show(render_alert_list(state.alerts, a.inner_width, self.oos_app.alerts_ready))
        a.first_alert = state.alerts[0] if state.alerts else None
        e = self.query_one(LatestErrors)
        e.show(render_latest_errors(state.latest_errors, e.inner_width, e.content_region.height))

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, Panel):
            self.set_where_from(widget.SOURCE)

    def on_resize(self) -> None:
        self.show_state(self.oos_app.state)
