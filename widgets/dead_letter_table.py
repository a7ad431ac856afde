"""Dead-letter pane: rows or groups by error signature, filtered live, with retry and purge keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive

from oos_tui.actions.dead_letter import DeadLetterFilter
from oos_tui.models import Breaker, DeadLetter
from oos_tui.sanitize import Sanitizer
from oos_tui.triage import Group, breaker_for_worker, group_by_signature, meaningful_line
from oos_tui.widgets.styled_table import Cell, Column, StyledTable

__all__ = [
    "DeadLetterTable",
    "dead_letter_columns",
    "dead_letter_rows",
    "group_columns",
    "group_rows",
    "parse_filter",
]

_ACTIONS = ("retry", "retry_all", "purge")


def parse_filter(text: str) -> DeadLetterFilter:
    """The ``/`` text as the core's filter: ``queue:NAME type:NAME`` and the rest error text.

    The words that are not ``queue:`` or ``type:`` (``task_type:`` too) form
    one case-insensitive substring of the error, exactly as
    :class:`DeadLetterFilter` matches it, so the rows shown are the rows a
    bulk action then touches.
    """
    queue: str | None = None
    task_type: str | None = None
    words: list[str] = []
    for word in text.split():
        name, sep, value = word.partition(":")
        key = name.lower()
        if sep and value and key == "queue":
            queue = value
        elif sep and value and key in ("type", "task_type"):
            task_type = value
        else:
            words.append(word)
    return DeadLetterFilter(queue=queue, task_type=task_type, error=" ".join(words) or None)


def _when(ts: float | None, wide: bool) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M:%S" if wide else "%H:%M:%S")


def dead_letter_columns(wide: bool) -> tuple[Column, ...]:
    """Row-view columns; the worker only when wide (at 80 columns it is in the detail)."""
    if wide:
        return (
            Column("id", "id", 6, justify="right"),
            Column("queue", "queue", 12),
            Column("type", "task type", 14),
            Column("attempts", "attempts", 8, justify="right"),
            Column("worker", "worker", 24),
            Column("failed", "failed at", 14),
            Column("error", "error", None, min_width=24),
        )
    return (
        Column("id", "id", 5, justify="right"),
        Column("queue", "queue", 8),
        Column("type", "type", 10),
        Column("attempts", "tries", 5, justify="right"),
        Column("failed", "failed", 8),
        Column("error", "error", None, min_width=16),
    )


def group_columns(wide: bool) -> tuple[Column, ...]:
    """Grouped-view columns."""
    if wide:
        return (
            Column("count", "count", 6, justify="right"),
            Column("queues", "queues", 18),
            Column("types", "task types", 18),
            Column("newest", "newest failure", 14),
            Column("signature", "error signature", None, min_width=24),
        )
    return (
        Column("count", "count", 5, justify="right"),
        Column("queues", "queues", 12),
        Column("newest", "newest", 8),
        Column("signature", "error signature", None, min_width=16),
    )


def dead_letter_rows(
    rows: Sequence[DeadLetter],
    breakers: Sequence[Breaker],
    wide: bool,
    clean: Callable[[str], str] = str,
) -> list[tuple[str, tuple[Cell, ...]]]:
    """One keyed row per dead letter; the error column is the line naming the problem.

    A worker whose breaker is open says ``(open)`` in words, not only colour.
    """
    out = []
    for row in rows:
        cells: list[Cell] = [
            (str(row.id), "muted"),
            (clean(row.queue), ""),
            (clean(row.task_type), ""),
            (str(row.attempts), ""),
        ]
        if wide:
            breaker = breaker_for_worker(row.worker_id, breakers)
            worker = clean(row.worker_id or "-")
            if breaker is not None and breaker.state == "open":
                cells.append((f"{worker} (open)", "open"))
            else:
                cells.append((worker, ""))
        cells.append((_when(row.failed_at, wide), "muted"))
        cells.append((clean(meaningful_line(row.error)), "error"))
        out.append((str(row.id), tuple(cells)))
    return out


def group_rows(
    groups: Sequence[Group], wide: bool, clean: Callable[[str], str] = str
) -> list[tuple[str, tuple[Cell, ...]]]:
    """One keyed row per error signature, biggest group first."""
    out = []
    for group in groups:
        cells: list[Cell] = [
            (str(group.count), "count"),
            (clean(", ".join(group.queues)), ""),
        ]
        if wide:
            cells.append((clean(", ".join(group.task_types)), ""))
        cells.append((_when(group.newest_failed_at, wide), "muted"))
        cells.append((clean(group.signature), "error"))
        out.append((group.signature, tuple(cells)))
    return out


class DeadLetterTable(StyledTable):
    """The dead-letter queue: every row, or one row per error signature (``s``).

    The screen loads the rows and pushes them in with :meth:`show_rows`; the
    ``/`` filter (:meth:`apply_filter`) narrows them live with the core's own
    matching rules. Action keys post a request message; the screen confirms
    and calls the core. ``blocked`` (read-only mode, a newer schema) greys
    the action keys and a press says why.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry", id="queues.retry"),
        Binding("R", "retry_all", "Retry all", id="queues.retry_all"),
        Binding("P", "purge", "Purge", id="queues.purge"),
        Binding("enter", "detail", "Detail", id="queues.detail"),
        Binding("s", "toggle_groups", "Groups", id="queues.group"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dead-letter-table--muted",
        "dead-letter-table--error",
        "dead-letter-table--open",
        "dead-letter-table--count",
    }
    ROLE_PREFIX: ClassVar[str] = "dead-letter-table"

    blocked: reactive[str] = reactive("", bindings=True)
    """Why actions are off ("" when they are on): read-only mode, a newer schema."""

    grouped: reactive[bool] = reactive(False, bindings=True)
    """One row per error signature instead of one per dead letter."""

    class RetryRequested(Message):
        """Retry ``rows``: one (``bulk`` False) or all matching ``flt``.

        ``scope`` says which in words, after the count: ``matching queue=asr``,
        ``in the error group "…"``, ``— every dead letter (no filter)``.
        """

        def __init__(
            self, rows: tuple[DeadLetter, ...], flt: DeadLetterFilter, bulk: bool, scope: str
        ) -> None:
            super().__init__()
            self.rows = rows
            self.flt = flt
            self.bulk = bulk
            self.scope = scope

    class PurgeRequested(Message):
        """Purge ``rows``, all matching ``flt`` (``scope`` in words, as for a retry)."""

        def __init__(self, rows: tuple[DeadLetter, ...], flt: DeadLetterFilter, scope: str) -> None:
            super().__init__()
            self.rows = rows
            self.flt = flt
            self.scope = scope

    class DetailRequested(Message):
        """Show or hide the whole error and payload of the selected row (or group)."""

    class FilterChanged(Message):
        """The ``/`` filter changed to ``flt``."""

        def __init__(self, flt: DeadLetterFilter) -> None:
            super().__init__()
            self.flt = flt

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id, sanitizer=sanitizer)
        self._all: list[DeadLetter] = []
        self._shown: list[DeadLetter] = []
        self._groups: list[Group] = []
        self._by_id: dict[str, DeadLetter] = {}
        self._by_signature: dict[str, Group] = {}
        self._breakers: tuple[Breaker, ...] = ()
        self._total = 0
        self._complete = True
        self._problem: str | None = None
        self.flt = DeadLetterFilter()
        """The ``/`` filter as the core's :class:`DeadLetterFilter`."""

    # -- data in -------------------------------------------------------------

    def show_rows(
        self,
        rows: Sequence[DeadLetter],
        *,
        total: int,
        complete: bool,
        breakers: Sequence[Breaker],
        problem: str | None = None,
    ) -> None:
        """Show freshly loaded rows (newest first).

        Args:
            rows: what was loaded.
            total: dead letters in the store (the snapshot's count).
            complete: False when the load stopped at its limit.
            breakers: to mark workers whose breaker is open.
            problem: why nothing could be loaded (shown in the title).
        """
        self._all = list(rows)
        self._total = total
        self._complete = complete
        self._problem = problem
        self._breakers = tuple(breakers)
        self._refresh_view()

    def set_breakers(self, breakers: Sequence[Breaker]) -> None:
        """New breaker states (for the ``(open)`` marks): redraw only if they changed."""
        breakers = tuple(breakers)
        if breakers != self._breakers:
            self._breakers = breakers
            self._refresh_view()

    def apply_filter(self, text: str) -> None:
        """Filter live by ``queue:NAME type:NAME error text`` (see :func:`parse_filter`)."""
        self.filter_text = text
        self.flt = parse_filter(text)
        self._refresh_view()
        self.post_message(self.FilterChanged(self.flt))

    def _refresh_view(self) -> None:
        flt = self.flt
        self._shown = [r for r in self._all if flt.matches(r)] if not flt.is_empty else self._all
        self._by_id = {str(r.id): r for r in self._shown}
        if self.grouped:
            self._groups = group_by_signature(self._shown)
            self._by_signature = {g.signature: g for g in self._groups}
        else:
            self._groups, self._by_signature = [], {}
        self.redraw()
        self.border_title = Content(self.clean(self._title()))
        self.refresh_bindings()

    def columns_for(self, wide: bool) -> tuple[Column, ...]:
        return group_columns(wide) if self.grouped else dead_letter_columns(wide)

    def rows_for(self, wide: bool) -> list[tuple[str, tuple[Cell, ...]]]:
        if self.grouped:
            return group_rows(self._groups, wide, self.clean)
        return dead_letter_rows(self._shown, self._breakers, wide, self.clean)

    def _title(self) -> str:
        if self._problem:
            return f"Dead letters  {self._problem}"
        shown, loaded = len(self._shown), len(self._all)
        if not self._complete:
            count = f"newest {loaded:,} of {self._total:,} loaded"
            if not self.flt.is_empty:
                count = f"{shown:,} match of {count}"
        elif self.flt.is_empty:
            count = f"{shown:,}"
        else:
            count = f"{shown:,} of {loaded:,} match"
        title = f"Dead letters  {count}"
        if self.blocked:
            title += " · actions off"
        if self.grouped:
            title += f" · {len(self._groups)} signature{'s' if len(self._groups) != 1 else ''}"
        if self.filter_text:
            title += f" · /{self.filter_text}"
        return title

    def watch_blocked(self) -> None:
        self.border_title = Content(self.clean(self._title()))

    # -- what is selected ------------------------------------------------------

    @property
    def total(self) -> int:
        """Dead letters in the store, as last pushed in."""
        return self._total

    @property
    def matching(self) -> tuple[DeadLetter, ...]:
        """The rows the filter lets through (what ``R`` and ``P`` act on in the row view)."""
        return tuple(self._shown)

    @property
    def selected_row(self) -> DeadLetter | None:
        """The dead letter under the cursor (row view)."""
        return None if self.grouped else self._by_id.get(self.selected_key or "")

    @property
    def selected_group(self) -> Group | None:
        """The signature group under the cursor (grouped view)."""
        return self._by_signature.get(self.selected_key or "") if self.grouped else None

    def _group_rows(self, group: Group) -> tuple[DeadLetter, ...]:
        ids = set(group.ids)
        return tuple(r for r in self._shown if r.id in ids)

    # -- keys ------------------------------------------------------------------

    def disabled_reason(self, action: str) -> str | None:
        """Why ``action`` cannot run now, or None when it can."""
        if action not in _ACTIONS:
            return None
        if self.blocked:
            return self.blocked
        if not self._shown:
            return "no dead letters here"
        if action == "retry" and self.grouped:
            return "r retries one row: press s for rows, or R to retry the whole group"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: shown greyed in the footer, so the key is visibly there but off.
        return None if self.disabled_reason(action) else True

    def on_key(self, event: events.Key) -> None:
        # A greyed key is not dispatched by Textual; say why instead of staying silent.
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.node is not self or active.enabled:
            return
        reason = self.disabled_reason(active.binding.action)
        if reason:
            event.stop()
            event.prevent_default()
            self.notify(reason, severity="warning", timeout=4, markup=False)

    def action_retry(self) -> None:
        """Retry the selected dead letter (after a confirmation)."""
        row = self.selected_row
        if row is not None:
            self.post_message(
                self.RetryRequested((row,), DeadLetterFilter(ids=(row.id,)), False, "selected row")
            )

    def _scope(self) -> tuple[tuple[DeadLetter, ...], DeadLetterFilter, str] | None:
        flt = self.flt
        matching = "" if flt.is_empty else f"matching {flt.describe()}"
        if self.grouped:
            group = self.selected_group
            if group is None:
                return None
            rows = self._group_rows(group)
            scope = f"in the error group “{group.signature}”"
            if matching:
                scope += f", {matching}"
        else:
            rows = self.matching
            scope = matching or "— every dead letter (no filter)"
        pinned = DeadLetterFilter(
            queue=flt.queue, task_type=flt.task_type, error=flt.error, ids=tuple(r.id for r in rows)
        )
        return rows, pinned, scope

    def action_retry_all(self) -> None:
        """Retry every row matching the filter, or the selected group (after a confirmation)."""
        found = self._scope()
        if found is not None:
            rows, flt, scope = found
            self.post_message(self.RetryRequested(rows, flt, True, scope))

    def action_purge(self) -> None:
        """Purge every row matching the filter, or the selected group (typed confirmation)."""
        found = self._scope()
        if found is not None:
            rows, flt, scope = found
            self.post_message(self.PurgeRequested(rows, flt, scope))

    def action_detail(self) -> None:
        """Ask for the detail of the selected row."""
        self.post_message(self.DetailRequested())

    def action_toggle_groups(self) -> None:
        """Switch between one row per dead letter and one row per error signature."""
        self.grouped = not self.grouped
        self._refresh_view()
        if self.row_count:
            self.move_cursor(row=0, animate=False)
