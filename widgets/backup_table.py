"""The backups list: a summary line (the newest verified backup's age) over a keyed table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from oos_tui.actions.backup import BackupInfo
from oos_tui.sanitize import default_sanitizer
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.table import OosTable

__all__ = [
    "COLUMNS",
    "MIN_PROBLEM",
    "WIDE",
    "BackupRows",
    "BackupTable",
    "Cell",
    "backup_cells",
    "fit_rows",
    "newest_verified",
    "render_summary",
    "status_of",
]

WIDE = 120
"""From this many columns on, times carry the year and seconds."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("time", "time (UTC)"),
    ("age", "age"),
    ("size", "size"),
    ("integrity", "integrity"),
    ("verified", "verified at"),
    ("kind", "kind"),
    ("status", "status"),
    ("problem", "problem"),
)

_INTEGRITY_WIDE = 32
MIN_PROBLEM = 12
"""Narrower than this, the problem column is left out (``enter`` shows it)."""
_PADDING = 2
"""DataTable's cell padding: one column each side."""
_SCROLLBAR = 2


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell's text and tone (``ok``, ``warning``, ``error``, ``muted`` or empty)."""

    text: str
    tone: str = ""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _when(ts: float | None, wide: bool) -> str:
    if ts is None:
        return "never"
    fmt = "%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M"
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def status_of(backup: BackupInfo) -> Cell:
    """The status as a symbol and a word, so it reads without colour.

    ``ok`` needs a clean sidecar, integrity ok and a verification on record;
    ``failed`` is a failed integrity check or last verification; anything
    else that makes the file untrustworthy (sidecar missing, size differs) is
    ``suspect``.
    """
    if backup.ok:
        if backup.verified_at is None:
            return Cell("○ unverified", "warning")
        return Cell("✓ ok", "ok")
    failed_check = backup.integrity not in ("ok", "unknown")
    if failed_check or backup.verify_ok is False:
        return Cell("✕ failed", "error")
    return Cell("▲ suspect", "warning")


def backup_cells(backup: BackupInfo, now: float, wide: bool) -> tuple[Cell, ...]:
    """The cells of one row, in :data:`COLUMNS` order (pure: tested without a UI).

    Narrow, the integrity column holds only the word and an integrity
    failure's first problem moves to the problem column, so the status word
    still fits in 80 columns. The problem is not cut here: see :func:`fit_rows`.
    """
    clean = default_sanitizer().clean
    problem = clean(backup.problem or "")
    if backup.integrity == "ok":
        integrity = Cell("ok", "ok")
    elif backup.integrity == "unknown":
        integrity = Cell("unknown", "muted")
    else:
        first = clean(backup.integrity)
        if wide:
            integrity = Cell(_cut(f"failed: {first}", _INTEGRITY_WIDE), "error")
        else:
            integrity = Cell("failed", "error")
            problem = problem or f"integrity: {first}"
    verified = Cell(_when(backup.verified_at, wide), "" if backup.verified_at else "muted")
    status = status_of(backup)
    return (
        Cell(_when(backup.created_at, wide)),
        Cell(format_duration(max(0.0, now - backup.created_at)), "muted"),
        Cell(format_bytes(backup.bytes)),
        integrity,
        verified,
        Cell(backup.kind, "muted" if backup.kind == "backup" else ""),
        status,
        Cell(problem, status.tone),
    )


def fit_rows(rows: Sequence[tuple[Cell, ...]], width: int) -> tuple[int, list[tuple[Cell, ...]]]:
    """Fit the rows to ``width`` without a horizontal scrollbar: (columns shown, rows).

    The other columns are as wide as their longest cell or header; the
    problem (last) takes what is left, cut. With less than ``MIN_PROBLEM``
    left (80 columns and a ``pre-restore`` or ``unverified`` row) it is
    dropped: the status word still says something is wrong, and ``enter``
    shows the problem whole.
    """
    widths = [
        max(len(label), *(len(r[i].text) for r in rows)) if rows else len(label)
        for i, (_k, label) in enumerate(COLUMNS)
    ]
    used = sum(widths[:-1]) + _PADDING * len(COLUMNS) + _SCROLLBAR
    room = width - used
    if room < MIN_PROBLEM:
        return len(COLUMNS) - 1, [r[:-1] for r in rows]
    return len(COLUMNS), [(*r[:-1], Cell(_cut(r[-1].text, room), r[-1].tone)) for r in rows]


def newest_verified(backups: Sequence[BackupInfo]) -> BackupInfo | None:
    """The newest trustworthy, verified backup: the one the ``backup_stale`` alert measures.

    By creation time, not last verification, as the alert does: re-verifying
    an old backup must not make the store look freshly backed up.
    """
    good = [b for b in backups if b.ok and b.verified_at is not None]
    return max(good, key=lambda b: b.created_at, default=None)


def render_summary(
    backups: Sequence[BackupInfo] | None, now: float, max_age_hours: float, directory: str
) -> Content:
    """The header line: the newest verified backup's age against the alert threshold."""
    where = default_sanitizer().clean(directory)
    if backups is None:
        return Content.styled(f"listing backups in {where}…", "$text-muted")
    limit = f"{max_age_hours:g}h"
    count = len(backups)
    files = f"{count} backup{'s' if count != 1 else ''}" if count else f"no backups in {where}"
    newest = newest_verified(backups)
    if newest is None:
        return Content.assemble(
            ("▲ no verified backup", "bold $text-warning"),
            (f" (alert after {limit}) · {files}", "$text-muted"),
        )
    age = max(0.0, now - newest.created_at)
    if age > max_age_hours * 3600:
        return Content.assemble(
            (f"▲ newest verified backup: {format_duration(age)} ago", "bold $text-warning"),
            (f" (over {limit}: alert) · {files}", "$text-muted"),
        )
    return Content.assemble(
        ("newest verified backup: ", ""),
        (f"{format_duration(age)} ago", "bold"),
        (f" (alert after {limit}) · {files}", "$text-muted"),
    )


Row = tuple[str, tuple[Text, ...]]


class BackupRows(OosTable):
    """The table itself: one keyed row per backup, filtered by ``/``, ``enter`` for detail."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "backup-rows--ok",
        "backup-rows--warning",
        "backup-rows--error",
        "backup-rows--muted",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", id="backups.detail"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: list[Row] = []
        self._columns = 0

    def show_rows(self, rows: Sequence[Row], columns: int = len(COLUMNS)) -> None:
        """Show every row that passes the filter, under the first ``columns`` of COLUMNS."""
        if columns != self._columns:
            self.clear(columns=True)
            self._rows.clear()
            for key, label in COLUMNS[:columns]:
                self.add_column(label, key=key)
            self._columns = columns
        self._all = list(rows)
        self.set_rows(self._filtered())

    def reset(self) -> None:
        """Forget what is shown, so the next :meth:`show_rows` rebuilds (new widths, theme)."""
        self.clear()
        self._rows.clear()

    def apply_filter(self, text: str) -> None:
        """Keep the rows whose text contains ``text`` (any case)."""
        self.filter_text = text
        self.set_rows(self._filtered())

    def _filtered(self) -> list[Row]:
        needle = self.filter_text.strip().lower()
        if not needle:
            return self._all
        return [r for r in self._all if needle in " ".join(c.plain for c in r[1]).lower()]

    def tone_style(self, tone: str) -> Style:
        """The Rich style of a tone, from the theme (partial: the cursor's background stays)."""
        if not tone:
            return Style()
        return self.get_component_rich_style(f"backup-rows--{tone}", partial=True)


class BackupTable(Vertical):
    """The Backups screen's list pane; the screen pushes backups down with :meth:`show`.

    Posts :class:`Highlighted` when the cursor moves and :class:`DetailRequested`
    on ``enter``, each with the backup under the cursor.
    """

    DEFAULT_CSS = """
    BackupTable { height: 1fr; }
    BackupTable > #backup-summary { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BackupTable > BackupRows { height: 1fr; }
    """

    class Highlighted(Message):
        """The cursor is on ``backup`` (None: the list is empty)."""

        def __init__(self, backup: BackupInfo | None) -> None:
            super().__init__()
            self.backup = backup

    class DetailRequested(Message):
        """The operator asked for the full record of ``backup``."""

        def __init__(self, backup: BackupInfo | None) -> None:
            super().__init__()
            self.backup = backup

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._backups: tuple[BackupInfo, ...] | None = None
        self._by_name: dict[str, BackupInfo] = {}
        self._now = 0.0
        self._max_age_hours = 24.0
        self._directory = ""
        self._width: int | None = None
        self._summary: Content | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="backup-summary", markup=False)
        yield BackupRows(id="backup-rows")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def show(
        self,
        backups: Sequence[BackupInfo] | None,
        now: float,
        max_age_hours: float,
        directory: str,
    ) -> None:
        """Show ``backups`` (newest first; None: not listed yet) as of ``now``."""
        self._backups = None if backups is None else tuple(backups)
        self._now, self._max_age_hours, self._directory = now, max_age_hours, directory
        self._paint()

    @property
    def selected(self) -> BackupInfo | None:
        """The backup under the cursor."""
        key = self.query_one(BackupRows).selected_key
        return None if key is None else self._by_name.get(key)

    def select(self, name: str) -> None:
        """Put the cursor on the backup file called ``name``, if it is shown."""
        rows = self.query_one(BackupRows)
        for index in range(rows.row_count):
            if rows.coordinate_to_cell_key((index, 0)).row_key.value == name:
                rows.move_cursor(row=index, animate=False)
                return

    def _paint(self) -> None:
        summary = render_summary(self._backups, self._now, self._max_age_hours, self._directory)
        if summary != self._summary:
            self._summary = summary
            self.query_one("#backup-summary", Static).update(summary)
        backups = self._backups or ()
        self._by_name = {b.path.name: b for b in backups}
        rows = self.query_one(BackupRows)
        width = self.size.width or 80
        wide = width >= WIDE
        if width != self._width:
            # Cells are diffed in place and DataTable widths only grow on add: rebuild.
            self._width = width
            rows.reset()
        styles: dict[str, Style] = {}

        def text(cell: Cell) -> Text:
            out = Text(cell.text, end="", no_wrap=True)
            if cell.tone:
                if cell.tone not in styles:
                    styles[cell.tone] = rows.tone_style(cell.tone)
                out.stylize(styles[cell.tone])
            return out

        columns, cells = fit_rows([backup_cells(b, self._now, wide) for b in backups], width)
        rows.show_rows(
            [
                (b.path.name, tuple(text(c) for c in row))
                for b, row in zip(backups, cells, strict=True)
            ],
            columns,
        )

    def on_resize(self) -> None:
        if self._width is not None and self.size.width != self._width:
            self._paint()

    def _theme_changed(self, _theme: object) -> None:
        self.query_one(BackupRows).reset()
        self._paint()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value
        self.post_message(self.Highlighted(self._by_name.get(key) if key else None))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        self.post_message(self.DetailRequested(self._by_name.get(key) if key else None))
