"""Backups: the store's verified copies; take one (b), verify one (v), read its record (enter).

Taking a backup asks for no confirmation. It adds one file and its sidecar to
the backups directory and one audit row; the only thing it removes is what
``[backup] retention`` already decided to drop (the oldest ``oos-*`` beyond
the newest N, never a ``pre-restore-*``), and the result says so. Nothing of
the store is changed, so it is not a destructive action (CONTRACT §5); making
the operator confirm the safe thing they are told to do when ``backup_stale``
fires would only slow them down. Restoring replaces the store: it is
deliberately not offered here, only as ``oos-tui restore FILE``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import ProgressBar, Static

from oos_tui.actions.backup import (
    BackupInfo,
    VerifyReport,
    list_backups,
    take_backup,
    verify_backup,
)
from oos_tui.models import ActionResult
from oos_tui.sanitize import default_sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.backup_detail import BackupDetail
from oos_tui.widgets.backup_table import BackupTable

if TYPE_CHECKING:
    from oos_tui.app import OosApp

__all__ = ["ActivityBar", "BackupsScreen", "take_backup_from_anywhere"]

_HELP_RW = "b take · v verify · enter detail │ restore is CLI-only: oos-tui restore FILE"
_HELP_RO = "read-only: b off, v not recorded │ restore is CLI-only: oos-tui restore FILE"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ActivityBar(Horizontal):
    """A label and a progress bar for one running operation; hidden when idle."""

    DEFAULT_CSS = """
    ActivityBar { height: 1; display: none; }
    ActivityBar.-active { display: block; }
    ActivityBar > Static { width: auto; }
    ActivityBar > ProgressBar { width: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = ""

    def compose(self) -> ComposeResult:
        yield Static("", markup=False, classes="activity-label")
        yield ProgressBar(total=None, show_eta=False)

    def start(self, label: str) -> None:
        """Show ``label`` with an indeterminate bar until progress is known."""
        self._label = label
        self.query_one(Static).update(label)
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.add_class("-active")

    def pages(self, remaining: int, total: int) -> None:
        """Progress of an online backup: ``total - remaining`` of ``total`` pages copied."""
        done = max(0, total - remaining)
        self.query_one(Static).update(f"{self._label} {done:,}/{total:,} pages")
        self.query_one(ProgressBar).update(total=max(1, total), progress=done)

    def stop(self) -> None:
        """Hide the bar."""
        self.remove_class("-active")

    @property
    def active(self) -> bool:
        """Whether an operation is shown."""
        return self.has_class("-active")


class BackupsScreen(ConsoleScreen):
    """The backups list over the selected backup's record and its last verify report."""

    MODE: ClassVar[str] = "backups"
    AUTO_FOCUS = "BackupRows"
    FILTER_HINT = "/filter backups by any shown text  (enter keeps, esc clears)"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "take_backup", "Take backup", id="backups.take"),
        Binding("v", "verify_backup", "Verify", id="backups.verify"),
    ]

    class Listed(Message):
        """The backups directory was listed off the UI thread (``backups`` None: ``error``)."""

        def __init__(
            self, backups: tuple[BackupInfo, ...] | None, error: str | None = None
        ) -> None:
            super().__init__()
            self.backups = backups
            self.error = error

    class Verified(Message):
        """A verification finished: its report and the list as it is now."""

        def __init__(self, report: VerifyReport, backups: tuple[BackupInfo, ...] | None) -> None:
            super().__init__()
            self.report = report
            self.backups = backups

    class VerifyFailed(Message):
        """A verification could not run at all (one line)."""

        def __init__(self, path: Path, error: str) -> None:
            super().__init__()
            self.path = path
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self._taking = False
        self._verifying: Path | None = None
        self._listing = False
        self._reports: dict[Path, VerifyReport] = {}
        self._selected: BackupInfo | None = None

    # -- layout and state ----------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield BackupTable(id="backup-table")
        yield ActivityBar(id="take-activity")
        yield ActivityBar(id="verify-activity")
        yield BackupDetail(id="backup-detail")
        read_only = self.oos_app.settings.read_only
        yield Static(_HELP_RO if read_only else _HELP_RW, id="backups-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(BackupDetail).display = False
        self.set_where_from(
            f"from {self.oos_app.settings.backups_dir}: each backup's .json sidecar and file size"
        )

    def show_body(self, state: ConsoleState, now: float) -> None:
        settings = self.oos_app.settings
        table = self.query_one(BackupTable)
        table.show(
            state.backups, now, settings.alerts.backup_max_age_hours, settings.paths.backups_dir
        )
        if state.backups is None and not self._listing:
            # The feed lists every 30 s; the first visit should not wait for it.
            self._listing = True
            self._list()
        self._show_detail(table.selected)

    def _publish(self, backups: Sequence[BackupInfo]) -> None:
        """Hand a fresh listing to the app (every screen and the alerts see it), show it now."""
        app = self.oos_app
        state = app.state.with_backups(tuple(backups))
        app.set_state(state)
        if self.is_mounted:
            self.show_body(state, app.clock.now())

    @work(thread=True, group="list", exit_on_error=False)
    def _list(self) -> None:
        try:
            self.post_message(self.Listed(tuple(list_backups(self.oos_app.settings))))
        except OSError as exc:
            self.post_message(self.Listed(None, f"cannot list backups: {_one_line(exc)}"))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        if message.backups is None:
            # Stay "listing": the feed retries every 30 s; this screen does not hammer.
            self.notify(message.error or "cannot list backups", severity="error", markup=False)
            return
        self._listing = False
        self._publish(message.backups)

    # -- the list and the detail -----------------------------------------------------

    @on(BackupTable.Highlighted)
    def _highlighted(self, message: BackupTable.Highlighted) -> None:
        backup = message.backup
        if backup is not None:
            self.set_where_from(f"from {backup.sidecar} and the file's size")
        self._show_detail(backup)

    @on(BackupTable.DetailRequested)
    def _detail_requested(self, message: BackupTable.DetailRequested) -> None:
        detail = self.query_one(BackupDetail)
        detail.display = not detail.display
        self._show_detail(message.backup, force=True)

    def _show_detail(self, backup: BackupInfo | None, *, force: bool = False) -> None:
        detail = self.query_one(BackupDetail)
        if not detail.display:
            return
        moved = backup is None or self._selected is None or backup.path != self._selected.path
        self._selected = backup
        report = self._reports.get(backup.path) if backup is not None else None
        detail.show(backup, report, self.oos_app.clock.now())
        if moved or force:
            detail.scroll_home(animate=False)

    def show_verify_report(self, report: VerifyReport) -> None:
        """Keep ``report`` as the last one of its backup and open the detail on it."""
        self._reports[report.path] = report
        table = self.query_one(BackupTable)
        table.select(report.path.name)
        detail = self.query_one(BackupDetail)
        detail.display = True
        selected = table.selected
        if selected is not None and selected.path == report.path:
            self._show_detail(selected, force=True)
            detail.reveal_report()

    # -- take ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Greyed out, not hidden: the operator should see that read-only is why.
        if action == "take_backup" and self.oos_app.settings.read_only:
            return None
        return True

    def action_take_backup(self) -> None:
        """Take a verified online backup now, with a progress bar (no confirmation: see module)."""
        if self.oos_app.settings.read_only:
            self.notify(
                "read-only mode: no backup taken (restart without --read-only to take one)",
                severity="warning",
                markup=False,
            )
            return
        if self._taking:
            self.notify("a backup is already running", severity="warning", timeout=3)
            return
        self._taking = True
        self.query_one("#take-activity", ActivityBar).start("taking a backup…")
        self._take()

    @work(group="take", exit_on_error=False)
    async def _take(self) -> None:
        app = self.oos_app
        activity = self.query_one("#take-activity", ActivityBar)
        try:
            result = await take_backup(app.settings, progress=activity.pages, clock=app.clock)
        except Exception as exc:  # take_backup reports trouble in its result; this is a bug
            result = ActionResult("backup", "store", "error", f"backup failed: {_one_line(exc)}")
        finally:
            self._taking = False
            activity.stop()
        self._announce(result)
        try:
            backups = await asyncio.to_thread(list_backups, app.settings)
        except OSError as exc:
            self.notify(f"cannot list backups: {_one_line(exc)}", severity="error", markup=False)
        else:
            self._publish(backups)
            name = result.detail.get("file") if result.ok else None
            if isinstance(name, str):
                self.query_one(BackupTable).select(name)
        app.refresh_slow_feeds()

    def _announce(self, result: ActionResult) -> None:
        text = default_sanitizer().clean(result.message)
        if result.ok:
            self.notify(text, title="backup taken", markup=False, timeout=8)
        else:
            severity: SeverityLevel = "error" if result.outcome == "error" else "warning"
            self.notify(text, title=f"backup {result.outcome}", severity=severity, markup=False)

    # -- verify ----------------------------------------------------------------------------

    def action_verify_backup(self) -> None:
        """Verify the selected backup: sha256 against the sidecar, integrity_check, row counts."""
        backup = self.query_one(BackupTable).selected
        if backup is None:
            self.notify("no backup selected: take one with b", severity="warning", timeout=3)
            return
        if self._verifying is not None:
            self.notify(
                f"already verifying {self._verifying.name}: one at a time",
                severity="warning",
                timeout=3,
                markup=False,
            )
            return
        self._verifying = backup.path
        self.query_one("#verify-activity", ActivityBar).start(f"verifying {backup.path.name}…")
        self._verify(backup.path, not self.oos_app.settings.read_only)

    @work(thread=True, group="verify", exit_on_error=False)
    def _verify(self, path: Path, record: bool) -> None:
        app = self.oos_app
        try:
            report = verify_backup(path, record=record, clock=app.clock)
        except Exception as exc:  # verify_backup reports trouble in its report; this is a bug
            self.post_message(self.VerifyFailed(path, _one_line(exc)))
            return
        try:
            backups: tuple[BackupInfo, ...] | None = tuple(list_backups(app.settings))
        except OSError:
            backups = None
        self.post_message(self.Verified(report, backups))

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        self._verifying = None
        self.query_one("#verify-activity", ActivityBar).stop()
        report = message.report
        if message.backups is not None:
            self._publish(message.backups)
        self.show_verify_report(report)
        text = report.message + (f" ({report.note})" if report.note else "")
        text = default_sanitizer().clean(text)
        if report.ok:
            self.notify(text, title="verified", markup=False, timeout=8)
        else:
            self.notify(text, title="verify failed", severity="error", markup=False)
        self.oos_app.refresh_slow_feeds()

    @on(VerifyFailed)
    def _verify_failed(self, message: VerifyFailed) -> None:
        self._verifying = None
        self.query_one("#verify-activity", ActivityBar).stop()
        self.notify(
            default_sanitizer().clean(f"verify of {message.path.name} failed: {message.error}"),
            severity="error",
            markup=False,
        )


async def take_backup_from_anywhere(app: OosApp) -> None:
    """Switch to the Backups screen and take a backup there (the palette's "Take a backup")."""
    await app.action_go("backups")
    screen = app.screen
    if isinstance(screen, BackupsScreen):
        screen.action_take_backup()
