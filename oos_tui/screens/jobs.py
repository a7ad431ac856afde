"""Jobs: which job failed and at which stage, what each stage read and wrote, what its log said."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.content import Content
from textual.events import DescendantFocus
from textual.widgets import ContentSwitcher, Static, Tab, Tabs

from oos_tui.commandline import Command
from oos_tui.sanitize import default_sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.sources.jobs import FAILED, RUNNING, JobInfo, JobsSnapshot
from oos_tui.state import ConsoleState
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.job_table import JobTable, job_status_label, live_duration, short_time
from oos_tui.widgets.job_timeline import JobTimeline
from oos_tui.widgets.lineage_tree import LineageTree
from oos_tui.widgets.stage_table import StageDetail, StageTable, render_stage_detail

__all__ = ["PANES", "JobsScreen", "file_query"]

PANES: tuple[str, ...] = ("detail", "lineage", "timeline")
"""The panes under the stages table: one at a time when narrow, all at once when wide."""

WIDE_COLUMNS = 120
"""From this width the job view shows its four panes side by side."""

_STATUS_STYLE = {
    RUNNING: "$accent",
    FAILED: "$sev-error",
    "success": "$success",
    "incomplete": "$sev-warning",
}


def file_query(path: str, *, directory: bool = False) -> str:
    """The search term selecting the events read from ``path`` (or, with ``directory``, under it).

    ``file:`` without a ``*`` matches a part of an event's file path, and a
    value with a ``*`` is a glob of the whole path: ``path`` is the whole
    workspace-relative path, so either way it selects that file (and its
    rotations) and no other stage's log.
    """
    value = path.rstrip("/") + "/" if directory else path
    if directory and "*" in value:
        value += "*"
    if not value or any(c.isspace() or c in '"\\()' for c in value):
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"file:{value}"


class JobsScreen(ConsoleScreen):
    """The jobs list; ``enter`` opens a job (stages, lineage, timeline), ``esc`` goes back."""

    MODE: ClassVar[str] = "jobs"
    AUTO_FOCUS = "#job-table"
    FILTER_HINT = "/filter jobs: words in the id, status or failed stage  (enter keeps, esc clears)"
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-wide"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close_job", "Jobs", id="jobs.back"),
        Binding("l", "open_log", "Log", id="jobs.log"),
        Binding("d", "pane('detail')", "Stage detail", show=False, id="jobs.detail"),
        Binding("t", "pane('lineage')", "Lineage tree", show=False, id="jobs.lineage"),
        Binding("p", "pane('timeline')", "Timeline", show=False, id="jobs.timeline"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: JobsSnapshot | None = None
        self._now = 0.0
        self._job_id: str | None = None
        self._info: JobInfo | None = None
        self._gone = False
        self._stage: str | None = None
        self._pending: str | None = None
        self._pane = "detail"

    def compose_body(self) -> ComposeResult:
        with ContentSwitcher(initial="jobs-list", id="jobs-switcher"):
            with Vertical(id="jobs-list"):
                yield Static("", id="jobs-info", markup=False)
                yield JobTable(id="job-table")
            with Vertical(id="job-view"):
                yield Static("", id="job-head", markup=False)
                with Container(id="job-body", classes="-pane-detail"):
                    with Vertical(id="job-left"):
                        yield StageTable(id="stage-table")
                        yield Tabs(
                            Tab("d Detail", id="pane-detail"),
                            Tab("t Lineage", id="pane-lineage"),
                            Tab("p Timeline", id="pane-timeline"),
                            id="job-tabs",
                        )
                        yield StageDetail(id="stage-detail")
                    with Vertical(id="job-right"):
                        yield LineageTree(id="lineage-tree")
                        yield JobTimeline(id="job-timeline")

    def on_mount(self) -> None:
        self.query_one(StageTable).border_title = "Stages"
        self.query_one(StageDetail).border_title = "Stage"
        self.query_one(LineageTree).border_title = "Lineage: final outputs ← inputs"
        for pane in ("#lineage-tree", "#stage-detail", "#job-timeline"):
            self.query_one(pane).add_class("job-pane")

    # -- state in -----------------------------------------------------------------

    def show_body(self, state: ConsoleState, now: float) -> None:
        snap = state.jobs if isinstance(state.jobs, JobsSnapshot) else None
        self._snapshot = snap
        self._now = now
        if snap is not None:
            self.query_one(JobTable).show(snap.jobs, now)
        self._render_info()
        if self._pending is not None and snap is not None:
            job_id, self._pending = self._pending, None
            self.open_job(job_id)
        elif self._job_id is not None:
            self._refresh_job()
        if self._job_id is None and self.focused is self.query_one(JobTable):
            self._say_where(self.focused)

    def _refresh_job(self) -> None:
        snap = self._snapshot
        info = snap.get(self._job_id) if snap is not None and self._job_id else None
        gone = info is None
        if info is None:
            info = self._info
        if info is None:
            return
        if info is self._info and gone == self._gone and info.status != RUNNING:
            return
        self._show_job(info, gone)

    def _show_job(self, info: JobInfo, gone: bool) -> None:
        self._info, self._gone = info, gone
        now = self._now
        self.query_one("#job-head", Static).update(self._job_head(info, now, gone))
        self.query_one(StageTable).show(info, now)
        self.query_one(LineageTree).show(info.lineage, {s.name: s.status for s in info.stages})
        timeline = self.query_one(JobTimeline)
        timeline.show(info.timeline, info.job.started_at)
        timeline.border_title = (
            "Timeline: pipeline log" if info.pipeline_logs else "Timeline: no pipeline log"
        )
        if self._stage is None or info.stage(self._stage) is None:
            self._stage = info.stages[0].name if info.stages else None
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one(StageDetail)
        info = self._info
        stage = info.stage(self._stage) if info is not None and self._stage else None
        if info is None or stage is None:
            detail.clear("no stage directories (NN_name) in this job yet")
            return
        shown = self._relative(stage.log_path) if stage.log_path else None
        detail.show(render_stage_detail(info, stage, self._now, log_shown=shown))

    # -- the list -----------------------------------------------------------------

    def _render_info(self) -> None:
        snap = self._snapshot
        table = self.query_one(JobTable)
        out = self._relative(str(self.oos_app.settings.out_dir))
        parts: list[tuple[str, str] | str] = []
        if snap is None:
            parts.append((f"scanning {out}/…", "$text-muted"))
        elif not snap.present:
            parts.append((f"{out}/ is not there yet: no jobs", "$text-muted"))
        else:
            counts: dict[str, int] = {}
            for info in snap.jobs:
                counts[info.status] = counts.get(info.status, 0) + 1
            parts.append((f"{len(snap.jobs)} jobs under {out}/", "bold"))
            for status in (RUNNING, FAILED, "success", "incomplete"):
                if counts.get(status):
                    parts.append("  ")
                    parts.append(
                        (f"{job_status_label(status)} {counts[status]}", _STATUS_STYLE[status])
                    )
            if table.filter_text:
                parts.append((f"   /{table.filter_text}: {table.shown_count} shown", "bold"))
        clean = default_sanitizer().clean
        for error in snap.errors if snap is not None else ():
            parts.append((f"   ! {clean(error)}", "$sev-error"))
        self.query_one("#jobs-info", Static).update(Content.assemble(*parts))

    def _list_source(self) -> str:
        snap = self._snapshot
        out = self._relative(str(self.oos_app.settings.out_dir))
        when = f", scanned {short_time(snap.scanned_at, '%H:%M:%S')}" if snap is not None else ""
        return f"from {out}/<job>/: stage manifests and logs/*.log{when}"

    def filter_changed(self, text: str) -> None:
        super().filter_changed(text)
        self._render_info()

    @on(JobTable.Chosen)
    def _job_chosen(self, message: JobTable.Chosen) -> None:
        self.open_job(message.job_id)

    def apply_command_argument(self, arg: str) -> None:
        """``:jobs JOB_ID`` lands here: open that job (once the first scan is in)."""
        job_id = arg.strip()
        if self._snapshot is None:
            self._pending = job_id
            return
        self.open_job(job_id)

    # -- one job --------------------------------------------------------------------

    @property
    def open_job_id(self) -> str | None:
        """The job whose view is shown, or None on the list."""
        return self._job_id

    def open_job(self, job_id: str) -> bool:
        """Show one job's view; the cursor starts on its failed stage (else the first)."""
        snap = self._snapshot
        info = snap.get(job_id) if snap is not None else None
        if info is None:
            clean = default_sanitizer().clean
            self.notify(f"no job {clean(job_id)} under out/", severity="warning", markup=False)
            return False
        self._job_id = job_id
        self._info = None
        self._stage = info.failed_stage if info.stage(info.failed_stage or "") else None
        if self._stage is None:
            running = next((s.name for s in info.stages if s.status == RUNNING), None)
            self._stage = running or (info.stages[0].name if info.stages else None)
        self._show_job(info, gone=False)
        self.query_one(JobTable).move_to(job_id)
        self.query_one(ContentSwitcher).current = "job-view"
        stages = self.query_one(StageTable)
        if self._stage is not None:
            stages.move_to(self._stage)
        self._set_pane(self._pane)
        stages.focus()
        self.refresh_bindings()
        return True

    def action_close_job(self) -> None:
        """Back from a job to the list (``esc``; on the list, ``esc`` is the app's "back")."""
        self._job_id = None
        self._info = None
        self.query_one(ContentSwitcher).current = "jobs-list"
        self.query_one(JobTable).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("close_job", "pane"):
            return self._job_id is not None
        return True

    def _job_head(self, info: JobInfo, now: float, gone: bool) -> Content:
        clean = default_sanitizer().clean
        job = info.job
        parts: list[tuple[str, str] | str] = [
            (clean(info.id), "bold"),
            "  ",
            (job_status_label(info.status), f"bold {_STATUS_STYLE.get(info.status, '')}"),
        ]
        if info.failed_stage:
            parts.append((" at ", "$text-muted"))
            parts.append((clean(info.failed_stage), "bold $sev-error"))
        parts.append(f"  {info.stages_done}/{info.stages_total} stages")
        parts.append(f"  {format_duration(live_duration(info, now))}")
        parts.append(f"  {format_bytes(job.output_bytes)}")
        parts.append((f"  started {short_time(job.started_at)}", "$text-muted"))
        if gone:
            parts.append(("\n! this job is no longer under out/: last known state", "$sev-warning"))
        for problem in info.problems:
            parts.append((f"\n! {clean(problem)}", "$sev-warning"))
        return Content.assemble(*parts)

    @on(StageTable.Highlighted)
    def _stage_highlighted(self, message: StageTable.Highlighted) -> None:
        if message.stage is None or message.stage == self._stage:
            return
        self._stage = message.stage
        self._show_detail()
        if self.focused is self.query_one(StageTable):
            self._say_where(self.focused)

    @on(StageTable.Chosen)
    def _stage_chosen(self, message: StageTable.Chosen) -> None:
        self._stage = message.stage
        self._show_detail()
        if self._pane != "detail":
            self._set_pane("detail")

    @on(LineageTree.StageHighlighted)
    def _tree_stage(self, message: LineageTree.StageHighlighted) -> None:
        self.query_one(StageTable).move_to(message.stage)

    @on(Tabs.TabActivated, "#job-tabs")
    def _tab_activated(self, message: Tabs.TabActivated) -> None:
        pane = (message.tab.id or "").removeprefix("pane-") if message.tab else ""
        if pane in PANES and pane != self._pane:
            self._set_pane(pane)

    def action_pane(self, pane: str) -> None:
        """Show one pane under the stages (narrow) and move the keyboard into it."""
        if pane not in PANES:
            return
        self._set_pane(pane)
        target = {
            "detail": StageTable,
            "lineage": LineageTree,
            "timeline": JobTimeline,
        }[pane]
        self.query_one(target).focus()

    @property
    def pane(self) -> str:
        """The pane shown under the stages when the screen is narrow."""
        return self._pane

    def _set_pane(self, pane: str) -> None:
        self._pane = pane
        body = self.query_one("#job-body")
        for name in PANES:
            body.set_class(name == pane, f"-pane-{name}")
        tabs = self.query_one(Tabs)
        if tabs.active != f"pane-{pane}":
            tabs.active = f"pane-{pane}"

    # -- logs -------------------------------------------------------------------------

    async def action_open_log(self) -> None:
        """``l``: the Events screen, filtered to the stage's ``stage.log``.

        On the list it shows every log of the selected job; on the timeline,
        the job's pipeline log.
        """
        query, problem = self._log_query()
        if query is None:
            self.notify(problem, severity="warning", markup=False, timeout=4)
            return
        await self.oos_app.run_command(Command("events", query))

    def _log_query(self) -> tuple[str | None, str]:
        clean = default_sanitizer().clean
        if self._job_id is None:
            key = self.query_one(JobTable).selected_key
            info = self._snapshot.get(key) if self._snapshot is not None and key else None
            if info is None:
                return None, "no job selected"
            return file_query(self._relative(info.job.path), directory=True), ""
        info = self._info
        if info is None:
            return None, "no job open"
        if self.focused is self.query_one(JobTimeline):
            logs = info.pipeline_logs
            if not logs:
                return None, f"{clean(info.id)} has no pipeline log under logs/"
            if len(logs) == 1:
                return file_query(self._relative(logs[0])), ""
            return file_query(self._relative(os.path.dirname(logs[0])), directory=True), ""
        stage = info.stage(self._stage) if self._stage else None
        if stage is None:
            return None, "no stage selected"
        if not stage.log_path:
            return None, f"{clean(stage.name)} has no stage.log"
        return file_query(self._relative(stage.log_path)), ""

    # -- where figures come from ------------------------------------------------------

    def _relative(self, path: str) -> str:
        """A path as the Events screen names files: workspace-relative when inside it."""
        try:
            return Path(path).relative_to(self.oos_app.settings.workspace).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def _source_of(self, widget: object) -> str:
        info = self._info
        if widget is self.query_one(JobTable) or info is None:
            return self._list_source()
        job = self._relative(info.job.path)
        if widget is self.query_one(JobTimeline):
            if not info.pipeline_logs:
                return f"no pipeline log under {job}/logs/"
            logs = ", ".join(self._relative(p) for p in info.pipeline_logs)
            other = self.query_one(JobTimeline).other_lines
            return f"from {logs}" + (f" (+{other} other lines: l)" if other else "")
        if widget is self.query_one(LineageTree):
            return f"from {job}/*/manifest.json inputs and outputs"
        if self._stage:
            return f"from {job}/{self._stage}/manifest.json"
        return f"from {job}/"

    def _say_where(self, widget: object) -> None:
        self.set_where_from(default_sanitizer().clean(self._source_of(widget)))

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        self._say_where(event.widget)
