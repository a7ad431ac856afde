"""Resources pane: the pipeline's processes (producer, workers) and the console's own cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from oos_tui.sources.processes import ProcInfo
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.table import OosTable, Row

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["ProcessTable", "process_rows", "short_command"]

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("pid", "pid", 7),
    ("cpu", "cpu %", 6),
    ("rss", "rss", 8),
    ("threads", "thr", 3),
    ("uptime", "uptime", 6),
    ("status", "status", 8),
    ("command", "command", 0),
)
"""(key, header, width); the command takes what is left of the pane's width."""

SELF_MARK = "this console"


def short_command(cmdline: str, width: int) -> str:
    """The program's base name and its arguments, cut to ``width`` with an ellipsis.

    ``/srv/oos/.venv/bin/oos-worker --queue ingest`` becomes ``oos-worker
    --queue ingest``: the directory rarely tells workers apart, the
    arguments do. ``cmdline`` is already sanitized by the scanner.
    """
    head, sep, rest = cmdline.partition(" ")
    if "/" in head:
        head = head.rsplit("/", 1)[1] or head
    text = head + sep + rest
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _cpu(p: ProcInfo) -> str:
    if p.access_denied:
        return "denied"
    return "…" if p.cpu_percent is None else f"{p.cpu_percent:.1f}"


def process_rows(procs: Sequence[ProcInfo], now: float, command_width: int) -> list[Row]:
    """Keyed table rows (by pid); the console's row says "this console" in its command cell."""
    rows: list[Row] = []
    for p in procs:
        if p.is_self:
            rest = short_command(p.cmdline or p.name, command_width - len(SELF_MARK) - 3)
            cell = Text.assemble((SELF_MARK, "bold"), " · " if rest else "", rest)
            cell.truncate(max(1, command_width), overflow="ellipsis")
        else:
            cell = Text(short_command(p.cmdline or p.name, command_width))
        rows.append(
            (
                p.pid,
                (
                    Text(str(p.pid), justify="right"),
                    Text(_cpu(p), justify="right"),
                    Text("-" if p.rss is None else format_bytes(p.rss), justify="right"),
                    Text("-" if p.threads is None else str(p.threads), justify="right"),
                    Text(format_duration(p.uptime(now)), justify="right"),
                    Text("?" if p.access_denied else p.status),
                    cell,
                ),
            )
        )
    return rows


class ProcessTable(Vertical):
    """Pid, CPU %, RSS, threads, uptime, status and command of each matched process.

    The console's own process is always listed and marked, so its cost is
    in plain view beside what it watches.
    """

    DEFAULT_CSS = """
    ProcessTable {
        height: 1fr;
    }
    ProcessTable > #process-note {
        height: auto;
        display: none;
    }
    ProcessTable > #process-note.-shown {
        display: block;
    }
    ProcessTable > OosTable {
        height: 1fr;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = "Processes"
        self._procs: Sequence[ProcInfo] | None = None
        self._patterns: Sequence[str] = ()
        self._now = 0.0
        self._note = ""
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="process-note", markup=False)
        yield OosTable(id="process-list")

    @staticmethod
    def _add_columns(table: OosTable, command_width: int) -> None:
        for key, label, width in COLUMNS:
            header = Text(label, justify="left" if key in ("status", "command") else "right")
            table.add_column(header, key=key, width=width or command_width)

    def source(self, settings: Settings) -> str:
        """The provenance line: the scan, its pace and the patterns."""
        every = f"{settings.refresh.process_scan_seconds:g} s"
        return f"psutil process scan every {every}: command lines matching [processes] patterns"

    def show_processes(
        self, procs: Sequence[ProcInfo] | None, now: float, patterns: Sequence[str]
    ) -> None:
        """A new scan (None: not scanned yet)."""
        self._procs, self._now, self._patterns = procs, now, patterns
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _command_width(self) -> int:
        fixed = sum(w + 2 for _, _, w in COLUMNS if w)
        width = self.content_region.width or 76
        return max(12, width - fixed - 2)

    def _redraw(self) -> None:
        note = self.query_one("#process-note", Static)
        table = self.query_one(OosTable)
        procs = self._procs
        if procs is None:
            text = "scanning processes…"
        elif not any(not p.is_self for p in procs):
            text = f"no pipeline processes found (patterns: {', '.join(self._patterns)})"
        else:
            text = ""
        if text != self._note:
            self._note = text
            note.update(text)
            note.set_class(bool(text), "-shown")
        if procs is None:
            self.border_title = "Processes"
        else:
            pipeline = sum(1 for p in procs if not p.is_self)
            self.border_title = f"Processes · {pipeline} of the pipeline + this console"
        width = self._command_width()
        if width != self._width:
            # Fixed widths, the command's from the pane's: rebuilt when the pane resizes.
            self._width = width
            table.set_rows([])
            table.clear(columns=True)
            self._add_columns(table, width)
        table.set_rows(process_rows(procs or (), self._now, width))
