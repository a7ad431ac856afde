"""A job's stages in order, and the detail of one: inputs, outputs, errors, resources, log."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from oos_tui.lineage import FileRef, normalize_path
from oos_tui.models import Stage, StageFile
from oos_tui.sanitize import default_sanitizer
from oos_tui.sources.jobs import JobInfo
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes, format_mib
from oos_tui.widgets.content_pane import ContentPane
from oos_tui.widgets.job_table import short_time, styled_cell
from oos_tui.widgets.table import OosTable

__all__ = [
    "STAGE_SYMBOLS",
    "StageDetail",
    "StageTable",
    "render_stage_detail",
    "stage_cells",
    "stage_duration",
    "stage_status_label",
]

STAGE_SYMBOLS: dict[str, str] = {
    "success": "✓",
    "failed": "✕",
    "running": "▶",
    "pending": "◌",
    "skipped": "↷",
    "missing": "·",
    "malformed": "!",
}
"""A symbol per stage status; ``pending`` is a manifest being written (read again next scan)."""

_MAX_NOTES = 5
_MAX_NOTE = 240


def stage_status_label(status: str) -> str:
    """``✕ failed``, ``◌ pending``, ``! malformed``: symbol and word."""
    return f"{STAGE_SYMBOLS.get(status, '?')} {default_sanitizer().clean(status)}"


def stage_duration(stage: Stage, now: float) -> float | None:
    """The manifest's duration; a running stage's age by the console's clock."""
    if stage.duration_seconds is not None:
        return stage.duration_seconds
    if stage.status in ("running", "pending") and stage.started_at is not None:
        return max(0.0, now - stage.started_at)
    return None


def seconds_text(seconds: float | None) -> str:
    """Tenths below ten seconds, where pipeline stages often are; compact above."""
    if seconds is not None and math.isfinite(seconds) and 0 <= seconds < 10:
        return f"{seconds:.1f}s"
    return format_duration(seconds)


def _number(value: Any, unit: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:.0f}{unit}"


def stage_cells(stage: Stage, now: float) -> tuple[str, ...]:
    """Plain cells of one stage: name, status, duration, in, out, errors, warnings, cpu, memory."""
    res = stage.resources
    return (
        default_sanitizer().clean(stage.name),
        stage_status_label(stage.status),
        seconds_text(stage_duration(stage, now)),
        str(len(stage.inputs)),
        str(len(stage.outputs)),
        str(len(stage.errors)),
        str(len(stage.warnings)),
        _number(res.get("cpu_percent"), "%"),
        _number(res.get("memory_mb"), " MB"),
    )


class StageTable(OosTable):
    """The stages of the open job in ``NN_`` order; the cursor picks the stage shown in detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Detail", show=False, id="jobs.stage_detail"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "stage-table--success",
        "stage-table--failed",
        "stage-table--running",
        "stage-table--pending",
        "stage-table--skipped",
        "stage-table--missing",
        "stage-table--malformed",
        "stage-table--error",
        "stage-table--warning",
    }

    class Highlighted(Message):
        """The cursor moved to another stage."""

        def __init__(self, stage: str | None) -> None:
            super().__init__()
            self.stage = stage

    class Chosen(Message):
        """``enter`` on a stage: show its detail."""

        def __init__(self, stage: str) -> None:
            super().__init__()
            self.stage = stage

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._info: JobInfo | None = None
        self._now = 0.0

    def on_mount(self) -> None:
        for label, key in (
            ("Stage", "stage"),
            ("Status", "status"),
            ("Took", "duration"),
            ("In", "inputs"),
            ("Out", "outputs"),
            ("Err", "errors"),
            ("Warn", "warnings"),
            ("CPU", "cpu"),
            ("Memory", "memory"),
        ):
            self.add_column(label, key=key)
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self._render_rows)
        )

    def show(self, info: JobInfo, now: float) -> None:
        """Show ``info``'s stages as of ``now`` (only changed cells are touched)."""
        self._info = info
        self._now = now
        self._render_rows()

    def _render_rows(self) -> None:
        info = self._info
        if info is None:
            return
        self.set_rows([(s.name, self._cells(s)) for s in info.stages])

    def _cells(self, stage: Stage) -> tuple[Text, ...]:
        plain = stage_cells(stage, self._now)
        status = self._style(stage.status if stage.status in STAGE_SYMBOLS else "malformed")
        errors = self._style("error") if stage.errors else None
        warnings = self._style("warning") if stage.warnings else None
        return (
            styled_cell(plain[0]),
            styled_cell(plain[1], status),
            styled_cell(plain[2]),
            styled_cell(plain[3]),
            styled_cell(plain[4]),
            styled_cell(plain[5], errors),
            styled_cell(plain[6], warnings),
            styled_cell(plain[7]),
            styled_cell(plain[8]),
        )

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"stage-table--{name}", partial=True)

    def move_to(self, stage: str) -> None:
        """Put the cursor on ``stage`` (no-op when it is not listed)."""
        try:
            row = self.get_row_index(stage)
        except RowDoesNotExist:
            return
        self.move_cursor(row=row, animate=False)

    @property
    def selected_stage(self) -> str | None:
        """The stage under the cursor."""
        return self.selected_key

    def action_choose(self) -> None:
        """Show the detail of the stage under the cursor."""
        key = self.selected_key
        if key is not None:
            self.post_message(self.Chosen(key))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))


def _note_text(note: Mapping[str, Any]) -> tuple[str, str]:
    """(when, first line of the message) of one manifest error or warning, sanitised."""
    clean = default_sanitizer().clean
    message = note.get("message")
    text = message if isinstance(message, str) else str(dict(note))
    first = text.strip().splitlines()[0] if text.strip() else ""
    when = note.get("at")
    when_text = clean(when)[11:19] if isinstance(when, str) and len(when) >= 19 else ""
    first = clean(first)
    return when_text, first if len(first) <= _MAX_NOTE else first[: _MAX_NOTE - 1] + "…"


def _file_size(f: StageFile, path: str, sizes: Mapping[str, int | None]) -> str:
    size = sizes.get(path, -1)
    if size is not None and size >= 0:
        return format_bytes(size)
    if f.size_mb is not None:
        return format_mib(f.size_mb)
    return "-"


def _file_lines(
    role: str,
    files: tuple[StageFile, ...],
    refs: Mapping[str, FileRef],
    info: JobInfo,
) -> list[tuple[str, str] | str]:
    clean = default_sanitizer().clean
    parts: list[tuple[str, str] | str] = []
    if not files:
        parts.append(("  none\n", "$text-muted"))
        return parts
    for f in files:
        path = normalize_path(f.path, info.job.path)
        kind = "/".join(clean(x) for x in (f.type, f.format) if x) or "-"
        parts.append(f"  {clean(f.path)}  ")
        parts.append((f"{kind}  {_file_size(f, path, info.file_sizes)}", "$text-muted"))
        ref = refs.get(path)
        if ref is not None:
            if role == "input":
                if ref.producer is None:
                    parts.append(("  ← external", "$secondary"))
                else:
                    parts.append(f"  ← {clean(ref.producer)}")
            elif ref.consumers:
                parts.append(f"  → {', '.join(clean(c) for c in ref.consumers)}")
            else:
                parts.append(("  → final", "$success"))
            if ref.missing:
                parts.append(("  ! missing", "$sev-error"))
        parts.append("\n")
    return parts


def render_stage_detail(
    info: JobInfo, stage: Stage, now: float, *, log_shown: str | None = None
) -> Content:
    """Everything one stage's manifest says, as one block of text (pure; tests call it).

    Inputs carry the stage that produced them (or ``← external``), outputs the
    stages that read them (or ``→ final``); a malformed manifest shows its
    error, a manifest being written says it will be read again.

    Args:
        info: The job.
        stage: One of its stages.
        now: The console's clock, for a running stage's age.
        log_shown: How to show the stage log's path (workspace-relative);
            defaults to the path itself.
    """
    clean = default_sanitizer().clean
    status_style = {
        "failed": "$sev-error",
        "malformed": "$sev-warning",
        "success": "$success",
        "running": "$accent",
    }.get(stage.status, "$text-muted")
    parts: list[tuple[str, str] | str] = [
        (clean(stage.name), "bold"),
        "  ",
        (stage_status_label(stage.status), f"bold {status_style}"),
    ]
    if stage.stage and stage.stage != stage.name:
        parts.append((f"  stage {clean(stage.stage)}", "$text-muted"))
    parts.append("\n")
    facts = [
        f"started {short_time(stage.started_at, '%H:%M:%S')}",
        f"took {seconds_text(stage_duration(stage, now))}",
    ]
    parts.append((" · ".join(facts) + "\n", "$text-muted"))
    if stage.status == "malformed":
        parts.append(
            (f"! manifest: {clean(stage.manifest_error or 'unreadable')}\n", "$sev-warning")
        )
    elif stage.status == "pending":
        parts.append(("◌ manifest being written: read again at the next scan\n", "$text-muted"))
    elif stage.status == "missing":
        parts.append(("· no manifest.json yet\n", "$text-muted"))

    lineage = info.lineage
    ins = {r.path: r for r in lineage.inputs_of(stage.name)}
    outs = {r.path: r for r in lineage.outputs_of(stage.name)}
    parts.append(("Inputs\n", "bold"))
    parts.extend(_file_lines("input", stage.inputs, ins, info))
    parts.append(("Outputs\n", "bold"))
    parts.extend(_file_lines("output", stage.outputs, outs, info))

    for title, notes, style in (
        ("Errors", stage.errors, "$sev-error"),
        ("Warnings", stage.warnings, "$sev-warning"),
    ):
        parts.append((f"{title} {len(notes)}\n", f"bold {style}" if notes else "bold"))
        for note in notes[:_MAX_NOTES]:
            when, text = _note_text(note)
            parts.append("  ")
            if when:
                parts.append((when + "  ", "$text-muted"))
            parts.append((text + "\n", style))
        if len(notes) > _MAX_NOTES:
            parts.append((f"  … {len(notes) - _MAX_NOTES} more\n", "$text-muted"))

    parts.append(("Resources", "bold"))
    if stage.resources:
        for key, value in stage.resources.items():
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"  {clean(str(key))}={clean(shown)[:40]}")
    else:
        parts.append(("  none", "$text-muted"))
    parts.append("\n")
    parts.append(("Log ", "bold"))
    if stage.log_path:
        parts.append(f" {clean(log_shown or stage.log_path)}  ")
        parts.append(("(l opens it in Events)", "$text-muted"))
    else:
        parts.append(("  no stage.log", "$text-muted"))
    return Content.assemble(*parts)


class StageDetail(ContentPane):
    """The detail of the stage under the stage table's cursor; scrolls when focused."""

    def show(self, content: Content) -> None:
        """Display ``content`` unless it is what is already shown."""
        self.show_content(content, scroll_home=False)

    def clear(self, text: str) -> None:
        """Show a plain line instead of a stage (no job, no stages)."""
        self.show(Content(text))
