"""Queues: depths and throughput, tasks backing off, and the dead-letter queue with its actions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.events import DescendantFocus
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from oos_tui.actions.dead_letter import (
    DeadLetterFilter,
    purge_matching,
    retry_matching,
    retry_one,
    summarize,
)
from oos_tui.models import ActionResult, Breaker, DeadLetter
from oos_tui.sanitize import Sanitizer
from oos_tui.screens.base import ConsoleScreen
from oos_tui.screens.confirm import ConfirmResult, ConfirmScreen
from oos_tui.state import ConsoleState
from oos_tui.store.reader import StoreReader, newer_schema_message
from oos_tui.store.schema import StoreError
from oos_tui.triage import (
    breaker_for_worker,
    meaningful_line,
    open_breaker_warning,
    recommend_workers,
)
from oos_tui.widgets.backoff_table import BackoffTable
from oos_tui.widgets.dead_letter_detail import DeadLetterDetail
from oos_tui.widgets.dead_letter_table import DeadLetterTable
from oos_tui.widgets.filter_bar import FilterBar
from oos_tui.widgets.queue_table import QueueTable, worker_rule

__all__ = [
    "BULK_TYPED_ABOVE",
    "DATA_VERSION_RELOAD_SECONDS",
    "DEAD_LETTER_LIMIT",
    "PREVIEW_ROWS",
    "PREVIEW_WIDTH",
    "TALL_ROWS",
    "WIDE_COLUMNS",
    "ActionPlan",
    "QueuesScreen",
    "confirmation",
]

DEAD_LETTER_LIMIT = 5000
"""The newest this many dead letters are loaded; the title says when there are more."""

BULK_TYPED_ABOVE = 100
"""A retry of more rows than this needs the count typed; a purge always does (as the CLI)."""

PREVIEW_ROWS = 5
"""Rows listed in a confirmation before "… and N more"."""

PREVIEW_WIDTH = 58
"""A listed row is cut to one line of the dialog."""

TALL_ROWS = 36
"""From this terminal height the queue and backing-off tables may grow to show more rows."""

DATA_VERSION_RELOAD_SECONDS = 5.0
"""Store commits that leave the dead-letter count alone reload the table at most this often."""

WIDE_COLUMNS = 120
"""From this terminal width the detail pane opens beside the dead letters (tables pick
their own wide or narrow columns by the width they get)."""

_WHERE = {
    "backoff-table": "data/oos.db tasks: attempts > 0, next_attempt_at ahead; backoff 1,2,4…300 s",
    "dead-letters": "data/oos.db dead_letter, newest first · / filter: queue:X type:X error text",
    "dead-letter-detail": "data/oos.db dead_letter: the whole row; payload pretty-printed",
}


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """What the operator is asked to confirm, and then exactly what runs."""

    verb: str  # retry | purge
    bulk: bool
    rows: tuple[DeadLetter, ...]
    flt: DeadLetterFilter
    scope: str

    @property
    def count(self) -> int:
        """Rows the action touches (and the count a typed confirmation asks for)."""
        return len(self.rows)

    @property
    def typed(self) -> str | None:
        """The text to type: the count for every purge and for a retry above the limit."""
        if self.verb == "purge" or (self.bulk and self.count > BULK_TYPED_ABOVE):
            return str(self.count)
        return None


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def confirmation(
    plan: ActionPlan,
    breakers: Sequence[Breaker],
    sanitizer: Sanitizer,
    *,
    loaded: int,
    total: int,
    complete: bool,
) -> ConfirmScreen:
    """The dialog for ``plan``: count, first rows, consequences, open-breaker warning.

    Cancel is the default (ConfirmScreen focuses it); a purge and a retry of
    more than :data:`BULK_TYPED_ABOVE` rows need the count typed. Store text
    is sanitized here because the dialog shows lines as given.
    """
    clean = sanitizer.clean
    n = plan.count
    noun = f"{n} dead letter{'s' if n != 1 else ''}"
    verb = plan.verb.capitalize()
    lines: list[str] = []
    if plan.bulk:
        title = f"{verb} {noun}"
        lines.append(clean(f"{noun.capitalize()} {plan.scope}:"))
        for row in plan.rows[:PREVIEW_ROWS]:
            line = (
                f"  #{row.id} {row.queue}/{row.task_type} {row.worker_id or '-'}: "
                f"{meaningful_line(row.error)}"
            )
            lines.append(_cut(clean(line), PREVIEW_WIDTH))
        if n > PREVIEW_ROWS:
            lines.append(f"  … and {n - PREVIEW_ROWS} more")
    else:
        row = plan.rows[0]
        title = f"{verb} dead letter {row.id}"
        lines.append(
            clean(
                f"Dead letter {row.id} · task {row.task_id} · {row.queue} / {row.task_type}"
                f" · worker {row.worker_id or '-'}"
            )
        )
        lines.append(_cut(clean(f"error: {meaningful_line(row.error)}"), 4 * PREVIEW_WIDTH))
    if plan.bulk and not complete:
        lines.append(
            f"Only the {loaded:,} loaded rows are included ({total:,} dead letters in the "
            "store): narrow the filter, or use `oos-tui retry --all` for every row."
        )
    if plan.verb == "retry":
        lines.append(
            "Their tasks go back to pending with attempts 0; each row is kept whole in the "
            "audit log."
            if n != 1
            else "Its task goes back to pending with attempts 0; the row is kept whole in the "
            "audit log."
        )
    else:
        lines.append(
            "They are deleted for good (kept whole only in the audit log); their tasks stay failed."
        )
    warnings: list[str] = []
    if plan.verb == "retry":
        warning = open_breaker_warning(plan.rows, breakers)
        if warning:
            warnings.append(clean(warning))
    return ConfirmScreen(title, lines, warnings=warnings, typed=plan.typed, verb=verb)


class QueuesScreen(ConsoleScreen):
    """Queue table, backing-off tasks and dead letters, stacked; ``tab`` moves between them."""

    MODE: ClassVar[str] = "queues"
    AUTO_FOCUS = "#dead-letters"
    FILTER_HINT = "/dead letters: queue:NAME type:NAME error text  (enter keeps, esc clears)"

    def __init__(self) -> None:
        super().__init__()
        self._sanitizer: Sanitizer | None = None
        self._dl_key: tuple[Any, ...] | None = None
        self._dl_version: int | None = None
        self._dl_loaded_at = 0.0
        self._loaded_filter = DeadLetterFilter()
        self._loaded = 0
        self._complete = True
        self._acting = False
        self._detail_choice: bool | None = None

    @property
    def sanitizer(self) -> Sanitizer:
        """The workspace's redaction rules (``[redact]``), built once."""
        if self._sanitizer is None:
            self._sanitizer = Sanitizer(self.oos_app.settings.redact)
        return self._sanitizer

    def compose_body(self) -> ComposeResult:
        san = self.sanitizer
        with Vertical(id="queues-body"):
            yield QueueTable(id="queue-table", sanitizer=san)
            yield BackoffTable(id="backoff-table", sanitizer=san)
            with Container(id="dead-area"):
                yield DeadLetterTable(id="dead-letters", sanitizer=san)
                yield DeadLetterDetail(id="dead-letter-detail", sanitizer=san)

    def on_mount(self) -> None:
        self._set_size_classes(self.app.size.width, self.app.size.height)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        # Countdowns and ages move with the clock even when the store is idle.
        if self.is_current:
            self.show_state(self.oos_app.state)

    @property
    def wide(self) -> bool:
        """Whether the screen is in its wide arrangement (the detail open beside the table)."""
        return self.has_class("-wide")

    def _set_size_classes(self, width: int, height: int) -> None:
        wide = width >= WIDE_COLUMNS
        self.set_class(height >= TALL_ROWS, "-tall")
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")
        self.set_class(self.detail_open, "-detail")

    def on_resize(self) -> None:
        self._set_size_classes(self.size.width, self.size.height)
        self.show_state(self.oos_app.state)

    def on_screen_resume(self) -> None:
        self._dl_key = None
        super().on_screen_resume()

    # -- state in ---------------------------------------------------------------

    def show_body(self, state: ConsoleState, now: float) -> None:
        snap = state.store
        settings = self.oos_app.settings
        health = getattr(snap, "health", None)
        note = getattr(health, "message", None) if snap is not None else "reading the store…"
        queues = getattr(snap, "queues", ())
        self.query_one(QueueTable).show(
            queues, state.queue_history, settings.alerts.queue_pending, now, note
        )
        self.query_one(BackoffTable).show(getattr(snap, "backing_off", ()), now)
        table = self.query_one(DeadLetterTable)
        table.blocked = self._blocked(state)
        table.set_breakers(self._breakers())
        if snap is None:
            return
        # A new count reloads at once; other commits (the producer writes all the
        # time) at most every few seconds, to catch a retry plus a new failure.
        key = (snap.dead_letter_count, health.message if health else None)
        moved = snap.data_version != self._dl_version
        due = time.monotonic() - self._dl_loaded_at >= DATA_VERSION_RELOAD_SECONDS
        if key != self._dl_key or (moved and due):
            self._dl_key, self._dl_version = key, snap.data_version
            self._dl_loaded_at = time.monotonic()
            self._load_dead_letters()
        self._show_detail()

    def _blocked(self, state: ConsoleState) -> str:
        if state.read_only or self.oos_app.settings.read_only:
            return "read-only mode (--read-only): retry and purge are off"
        health = getattr(state.store, "health", None)
        if health is not None and health.newer_schema and health.schema_version is not None:
            return newer_schema_message(health.schema_version)
        return ""

    def _breakers(self) -> tuple[Breaker, ...]:
        return tuple(getattr(self.oos_app.state.store, "breakers", ()))

    # -- loading dead letters -----------------------------------------------------

    def _load_dead_letters(self) -> None:
        self.reload("dead-letters", self._load_once)

    async def _load_once(self) -> None:
        table = self.query_one(DeadLetterTable)
        snap = self.oos_app.state.store
        total = getattr(snap, "dead_letter_count", 0)
        big = max(total, self._loaded) >= DEAD_LETTER_LIMIT
        # With more rows than are loaded, the filter runs in SQL so no match is missed.
        flt = table.flt if big else DeadLetterFilter()
        problem = None
        rows: list[DeadLetter] = []
        try:
            async with StoreReader(self.oos_app.settings.store_path) as reader:
                rows = await reader.dead_letters(
                    queue=flt.queue, task_type=flt.task_type, error=flt.error,
                    limit=DEAD_LETTER_LIMIT,
                )  # fmt: skip
        except (StoreError, sqlite3.Error, OSError) as exc:
            problem = f"cannot read: {exc}"
        self._loaded_filter = flt
        self._loaded = len(rows)
        self._complete = len(rows) < DEAD_LETTER_LIMIT
        table.show_rows(
            rows,
            total=max(total, len(rows)),
            complete=self._complete,
            breakers=self._breakers(),
            problem=problem,
        )
        self._show_detail()

    @on(DeadLetterTable.FilterChanged)
    def _filter_changed(self, message: DeadLetterTable.FilterChanged) -> None:
        if not self._complete or not self._loaded_filter.is_empty:
            self._load_dead_letters()

    # -- filter and command argument ------------------------------------------------

    def filter_target(self) -> Widget | None:
        return self.query_one(DeadLetterTable)

    def open_filter(self) -> bool:
        table = self.query_one(DeadLetterTable)
        self._filter_target = table
        self.query_one(FilterBar).open(table.filter_text)
        return True

    def apply_command_argument(self, arg: str) -> None:
        """``:queues NAME`` selects that queue and filters its dead letters.

        ``:queues dead-letters`` (the dead-letter growth alert) opens the
        grouped view; anything else becomes the dead-letter filter.
        """
        arg = arg.strip()
        table = self.query_one(DeadLetterTable)
        names = [q.queue for q in getattr(self.oos_app.state.store, "queues", ())]
        if arg in names:
            queue_table = self.query_one(QueueTable)
            queue_table.select_queue(arg)
            table.apply_filter(f"queue:{arg}")
            queue_table.focus()
        elif arg in ("dead-letters", "dead_letters", "dlq"):
            if not table.grouped:
                table.action_toggle_groups()
            table.focus()
        else:
            table.apply_filter(arg)
            table.focus()

    # -- where from -------------------------------------------------------------------

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        self._say_where(event.widget)

    def _say_where(self, widget: Widget | None) -> None:
        if isinstance(widget, QueueTable):
            self.set_where_from(self._queue_where(widget))
        elif widget is not None and widget.id in _WHERE:
            self.set_where_from(_WHERE[widget.id or ""])

    def _queue_where(self, table: QueueTable) -> str:
        name = table.selected_queue
        stats = self.oos_app.state.store.queue(name) if name and self.oos_app.state.store else None
        if stats is None:
            return worker_rule()
        workers = recommend_workers(stats.pending)
        return self.sanitizer.clean(
            f"{stats.queue}: {stats.pending:,} pending → {workers} worker"
            f"{'s' if workers != 1 else ''} · {worker_rule()}"
        )

    @on(DataTable.RowHighlighted, "#queue-table")
    def _queue_moved(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(QueueTable)
        if table.has_focus:
            self.set_where_from(self._queue_where(table))

    # -- detail -----------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers do not exit the app on error; an unexpected one must still be heard.
        if event.state is WorkerState.ERROR and event.worker.group in ("action", "dead-letters"):
            self.notify(
                self.sanitizer.clean(f"{event.worker.group} failed: {event.worker.error}"),
                severity="error",
                timeout=8,
                markup=False,
            )

    @property
    def detail_open(self) -> bool:
        """Whether the detail pane is shown: the operator's choice, else open when wide."""
        return self._detail_choice if self._detail_choice is not None else self.wide

    @on(DeadLetterTable.DetailRequested)
    def _toggle_detail(self) -> None:
        self._detail_choice = not self.detail_open
        self.set_class(self.detail_open, "-detail")
        self._show_detail()

    @on(DataTable.RowHighlighted, "#dead-letters")
    def _dead_letter_moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        if not self.has_class("-detail"):
            return
        table = self.query_one(DeadLetterTable)
        group = table.selected_group
        row = group.example if group is not None else table.selected_row
        breaker = breaker_for_worker(row.worker_id, self._breakers()) if row else None
        self.query_one(DeadLetterDetail).show(row, breaker, group)

    # -- actions ----------------------------------------------------------------------------

    @on(DeadLetterTable.RetryRequested)
    def _retry_requested(self, message: DeadLetterTable.RetryRequested) -> None:
        self._confirm(ActionPlan("retry", message.bulk, message.rows, message.flt, message.scope))

    @on(DeadLetterTable.PurgeRequested)
    def _purge_requested(self, message: DeadLetterTable.PurgeRequested) -> None:
        self._confirm(ActionPlan("purge", True, message.rows, message.flt, message.scope))

    def _confirm(self, plan: ActionPlan) -> None:
        blocked = self._blocked(self.oos_app.state)
        if blocked:
            self.notify(blocked, severity="warning", timeout=4, markup=False)
            return
        if self._acting:
            self.notify("an action is still running: wait for its result", timeout=3)
            return
        if not plan.rows:
            self.notify("no dead letters to act on", timeout=3)
            return
        table = self.query_one(DeadLetterTable)
        dialog = confirmation(
            plan,
            self._breakers(),
            self.sanitizer,
            loaded=self._loaded,
            total=max(table.total, self._loaded),
            complete=self._complete,
        )

        def answered(result: ConfirmResult | None) -> None:
            if result is not None and result.confirmed:
                self._acting = True
                self._run_action(plan)

        self.app.push_screen(dialog, callback=answered)

    @work(exclusive=True, group="action", exit_on_error=False)
    async def _run_action(self, plan: ActionPlan) -> None:
        app = self.oos_app
        store = app.settings.store_path
        read_only = app.state.read_only or app.settings.read_only
        try:
            results: list[ActionResult]
            if plan.verb == "retry" and not plan.bulk:
                results = [
                    await retry_one(
                        store, plan.rows[0].id, read_only=read_only, clock_now=app.clock.now()
                    )
                ]
            elif plan.verb == "retry":
                results = await retry_matching(
                    store,
                    plan.flt,
                    expected_count=plan.count,
                    read_only=read_only,
                    clock_now=app.clock.now(),
                )
            else:
                results = await purge_matching(
                    store, plan.flt, expected_count=plan.count, read_only=read_only
                )
        finally:
            self._acting = False
        self._report(results)
        app.refresh_slow_feeds()
        self._load_dead_letters()

    def _report(self, results: Sequence[ActionResult]) -> None:
        outcomes = {r.outcome for r in results}
        severity: SeverityLevel = (
            "information" if outcomes == {"ok"} else ("error" if "error" in outcomes else "warning")
        )
        self.notify(
            self.sanitizer.clean(summarize(results)),
            title="dead letters",
            severity=severity,
            timeout=6,
            markup=False,
        )
