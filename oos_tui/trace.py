"""Tracing one item or correlation id across every source (the Events screen's ``t``).

A trace is every event that shares the item id or the correlation id of a
chosen event — found with the same search as the ``/`` bar — plus the store's
tasks and dead letters of that item, all in time order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oos_tui.eventlog.search import Searcher
from oos_tui.eventlog.stream import StreamView
from oos_tui.models import DeadLetter, Event, Task
from oos_tui.query import Query, compile_query

__all__ = ["Trace", "TraceRow", "build_trace", "trace_query"]


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One line of a trace: an event (by ref), a task or a dead letter."""

    ts: float
    kind: str  # "event" | "task" | "dead_letter"
    ref: int | None = None
    task: Task | None = None
    dead_letter: DeadLetter | None = None


@dataclass(frozen=True)
class Trace:
    """The trace of one item and/or correlation id."""

    item_id: str | None
    correlation_id: str | None
    query: str
    rows: tuple[TraceRow, ...]
    sources: tuple[str, ...]
    problem: str | None = None

    @property
    def events(self) -> int:
        """How many events the trace holds."""
        return sum(1 for r in self.rows if r.kind == "event")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def trace_query(item_id: str | None, correlation_id: str | None) -> str:
    """The search-language query behind a trace."""
    terms = []
    if item_id:
        terms.append(f"item:{_quote(item_id)}")
    if correlation_id:
        terms.append(f"corr:{_quote(correlation_id)}")
    return " OR ".join(terms)


def _store_rows(
    store: Path, item_id: str | None, corr: str | None
) -> tuple[list[Task], list[DeadLetter]]:
    from oos_tui.store.connection import open_ro_sync
    from oos_tui.store.rows import dead_letter_from_row, select_list, task_from_row

    if not store.exists() or not (item_id or corr):
        return [], []
    conn = open_ro_sync(store)
    try:
        where, params = [], []
        for key, value in (("item_id", item_id), ("correlation_id", corr)):
            if value:
                where.append(f"json_valid(payload) AND json_extract(payload, '$.{key}') = ?")
                params.append(value)
        clause = " OR ".join(f"({w})" for w in where)
        tasks = [
            task_from_row(r)
            for r in conn.execute(
                f"SELECT {select_list('tasks')} FROM tasks WHERE {clause} LIMIT 2000", params
            )
        ]
        dead = [
            dead_letter_from_row(r)
            for r in conn.execute(
                f"SELECT {select_list('dead_letter')} FROM dead_letter WHERE {clause} LIMIT 2000",
                params,
            )
        ]
        return tasks, dead
    finally:
        conn.close()


def build_trace(
    view: StreamView,
    event: Event,
    searcher: Searcher,
    store: Path,
    *,
    cancelled: Callable[[], bool] = lambda: False,
) -> Trace:
    """Every record sharing ``event``'s item or correlation id, tasks and dead letters included."""
    item, corr = event.item_id, event.correlation_id
    text = trace_query(item, corr)
    if not text:
        return Trace(None, None, "", (), (), "this event has no item id or correlation id")
    query: Query = compile_query(text)
    result = searcher.search(view, query, cancelled=cancelled)
    rows = [
        TraceRow(float(t), "event", int(r))
        for r, t in zip(result.refs.tolist(), view.ts_of(result.refs), strict=True)
    ]
    sources = set()
    for ref in result.refs.tolist():
        src = view.source(ref)
        sources.add(getattr(src, "display", "events table"))
    problem = None
    try:
        tasks, dead = _store_rows(store, item, corr)
    except sqlite3.Error as exc:
        tasks, dead, problem = [], [], f"store: {str(exc).splitlines()[0]}"
    for task in tasks:
        rows.append(TraceRow(task.updated_at or task.created_at or 0.0, "task", task=task))
    for dl in dead:
        rows.append(TraceRow(dl.failed_at or 0.0, "dead_letter", dead_letter=dl))
    if tasks or dead:
        sources.add("tasks / dead letters")
    rows.sort(key=lambda r: r.ts)
    return Trace(item, corr, text, tuple(rows), tuple(sorted(sources)), problem)
