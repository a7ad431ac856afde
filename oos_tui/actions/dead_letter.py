"""Retry and purge dead letters (CONTRACT §5): each call one transaction with its audit row.

Every function here goes through :func:`oos_tui.actions.runner.run_action`,
so read-only mode, a missing store, a newer schema and a busy store are
refused the same way for all of them, and a failure anywhere rolls the whole
action back and is audited as ``error``.

The rows an action touches are chosen inside its write transaction with the
same WHERE clause the reader uses to list them
(:func:`oos_tui.store.reader.dead_letter_where`), so what the operator was
shown and what is acted on cannot drift apart silently: a bulk action given
the count the operator confirmed refuses when the count differs by the time
it runs.

Each removed ``dead_letter`` row is kept whole (every column, as stored) in
the audit row's ``detail``, with the task as it was before a retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from oos_tui.actions.audit import now_iso
from oos_tui.actions.runner import DEFAULT_BUSY_TIMEOUT, ActionOutcome, Refused, run_action
from oos_tui.models import ActionResult, DeadLetter
from oos_tui.store.reader import dead_letter_where

__all__ = [
    "DeadLetterFilter",
    "Hook",
    "purge_matching",
    "retry_matching",
    "retry_one",
    "summarize",
]

Hook = Callable[[], Awaitable[None]]
"""An awaitable called inside the transaction; for fault-injection tests only."""

_IDS_SHOWN = 5
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters a bulk action (or a listing) is about.

    Every field that is set must match: ``queue`` and ``task_type`` exactly,
    ``error`` as a substring (case-insensitive for ASCII letters), ``ids`` as
    a set of dead-letter ids. No field set means every row. An empty
    ``error`` counts as unset; ``ids`` is kept as a sorted tuple without
    duplicates.
    """

    queue: str | None = None
    task_type: str | None = None
    error: str | None = None
    ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.error == "":
            object.__setattr__(self, "error", None)
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(sorted({int(i) for i in self.ids})))

    @property
    def is_empty(self) -> bool:
        """True when the filter matches every dead letter."""
        return self.queue is None and self.task_type is None and not self.error and self.ids is None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and parameters, shared with :meth:`StoreReader.dead_letters`."""
        return dead_letter_where(
            queue=self.queue, task_type=self.task_type, error=self.error, ids=self.ids
        )

    def matches(self, row: DeadLetter) -> bool:
        """Whether ``row`` passes the filter, by the same rules as the SQL condition."""
        if self.queue is not None and row.queue != self.queue:
            return False
        if self.task_type is not None and row.task_type != self.task_type:
            return False
        if self.error and self.error.translate(_ASCII_LOWER) not in row.error.translate(
            _ASCII_LOWER
        ):
            return False
        return self.ids is None or row.id in self.ids

    def describe(self) -> str:
        """A short, stable label: ``queue=asr,error=timeout``, or ``all`` for no filter.

        Used in audit targets (``dead_letter:queue=asr,error=timeout``) and
        confirmations. Long id lists are abbreviated here; :meth:`to_json`
        keeps them whole.
        """
        parts = []
        if self.queue is not None:
            parts.append(f"queue={self.queue}")
        if self.task_type is not None:
            parts.append(f"type={self.task_type}")
        if self.error:
            parts.append(f"error={self.error}")
        if self.ids is not None:
            shown = ",".join(str(i) for i in self.ids[:_IDS_SHOWN])
            more = len(self.ids) - _IDS_SHOWN
            parts.append(f"ids={shown}" + (f",…(+{more})" if more > 0 else ""))
        return ",".join(parts) or "all"

    def matching(self) -> str:
        """The filter as a phrase after a count: ``matching queue=asr``, or ``(no filter)``."""
        return "(no filter: every row)" if self.is_empty else f"matching {self.describe()}"

    def to_json(self) -> dict[str, Any]:
        """The whole filter, for the audit detail."""
        return {
            "queue": self.queue,
            "task_type": self.task_type,
            "error": self.error,
            "ids": list(self.ids) if self.ids is not None else None,
        }


def _ids_json(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


async def _select_dicts(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    """Rows as ``{column: value}`` with every column the table has, as stored."""
    async with conn.execute(sql, params) as cur:
        names = [d[0] for d in cur.description]
        rows = await cur.fetchall()
    return [dict(zip(names, row, strict=True)) for row in rows]


async def _tasks_by_id(conn: aiosqlite.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = await _select_dicts(
        conn,
        "SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (_ids_json(ids),),
    )
    return {int(r["id"]): r for r in rows}


def _task_ids(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    seen: dict[int, None] = {}
    for row in rows:
        seen.setdefault(int(row["task_id"]), None)
    return list(seen)


def _check_tasks(rows: Sequence[Mapping[str, Any]], tasks: Mapping[int, Mapping[str, Any]]) -> None:
    """Refuse unless every row's task exists and is ``failed``, the only state a retry undoes."""
    problems = []
    for row in rows:
        task = tasks.get(int(row["task_id"]))
        if task is None:
            problems.append(f"task {row['task_id']} of dead letter {row['id']} no longer exists")
        elif task.get("status") != "failed":
            problems.append(
                f"task {row['task_id']} of dead letter {row['id']} is {task.get('status')!s}, "
                "not failed"
            )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise Refused(
            f"{problems[0]}{more}: nothing changed",
            {"problems": problems, "rows": list(rows)},
        )


async def _retry_rows(
    conn: aiosqlite.Connection,
    rows: Sequence[Mapping[str, Any]],
    now: str,
    between: Hook | None,
) -> dict[int, dict[str, Any]]:
    """Delete the dead-letter rows and put their tasks back to ``pending``; the tasks before."""
    task_ids = _task_ids(rows)
    tasks = await _tasks_by_id(conn, task_ids)
    _check_tasks(rows, tasks)
    cur = await conn.execute(
        "DELETE FROM dead_letter WHERE id IN (SELECT value FROM json_each(?))",
        (_ids_json([int(r["id"]) for r in rows]),),
    )
    if cur.rowcount != len(rows):
        raise RuntimeError(f"deleted {cur.rowcount} dead-letter rows, expected {len(rows)}")
    if between is not None:
        await between()
    cur = await conn.execute(
        "UPDATE tasks SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?"
        " WHERE id IN (SELECT value FROM json_each(?)) AND status = 'failed'",
        (now, now, _ids_json(task_ids)),
    )
    if cur.rowcount != len(task_ids):
        raise RuntimeError(f"updated {cur.rowcount} tasks, expected {len(task_ids)}")
    return tasks


async def retry_one(
    store: Path,
    dead_letter_id: int,
    *,
    read_only: bool = False,
    operator: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    clock_now: float | None = None,
    _between: Hook | None = None,
) -> ActionResult:
    """Retry one dead letter: its task goes back to ``pending`` and the row is removed.

    The task gets ``status`` pending, ``attempts`` 0, and ``next_attempt_at``
    and ``updated_at`` now; the ``dead_letter`` row is deleted and kept whole
    in the audit detail as ``{"rows": [row], "task_before": task}``. Of two
    consoles retrying the same row, the second waits for the first's
    transaction and is refused with "dead letter N was already retried (or
    purged)". A task that is gone or not ``failed`` (the producer or another
    operator already moved it) is refused and nothing changes.

    Args:
        store: the store file.
        dead_letter_id: the ``dead_letter.id`` to retry.
        read_only: the console's read-only mode: refused before opening anything.
        operator: who acts (default: the OS user, with the SSH client address).
        busy_timeout: seconds to wait for the producer's write lock.
        clock_now: "now" as epoch seconds for the timestamps written (tests).
        _between: testing only: awaited inside the transaction between the
            DELETE of the dead-letter rows and the UPDATE of their tasks, so a
            test can raise there and prove the whole action rolls back (the
            store unchanged, an ``error`` audit row written).

    Returns:
        The result, target ``dead_letter:<id>``, action ``retry``; never raises
        for store trouble.
    """
    dead_letter_id = int(dead_letter_id)

    async def body(conn: aiosqlite.Connection) -> ActionOutcome:
        rows = await _select_dicts(
            conn, "SELECT * FROM dead_letter WHERE id = ?", (dead_letter_id,)
        )
        if not rows:
            raise Refused(f"dead letter {dead_letter_id} was already retried (or purged)")
        row = rows[0]
        tasks = await _retry_rows(conn, rows, now_iso(clock_now), _between)
        task_id = int(row["task_id"])
        return ActionOutcome(
            f"retried dead letter {dead_letter_id}: task {task_id} is pending again",
            {"rows": [row], "task_before": tasks[task_id]},
        )

    return await run_action(
        store,
        action="retry",
        target=f"dead_letter:{dead_letter_id}",
        body=body,
        read_only=read_only,
        operator=operator,
        busy_timeout=busy_timeout,
    )


def _per_row(
    result: ActionResult,
    rows: Sequence[Mapping[str, Any]],
    messages: Mapping[int, str],
    extra: Mapping[int, Mapping[str, Any]],
) -> list[ActionResult]:
    """One result per row from the single result of a bulk transaction."""
    if not rows:
        return [result]
    out = []
    for row in rows:
        row_id = int(row["id"])
        detail: dict[str, Any] = {"row": dict(row), "bulk_target": result.target}
        detail.update(extra.get(row_id, {}))
        message = messages.get(row_id, result.message) if result.ok else result.message
        out.append(
            ActionResult(
                result.action,
                f"dead_letter:{row_id}",
                result.outcome,
                message,
                detail,
                result.audit_id,
            )
        )
    return out


async def _matching_rows(
    conn: aiosqlite.Connection,
    flt: DeadLetterFilter,
    expected_count: int | None,
    seen: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The rows matching now, also left in ``seen``; refused if not what was confirmed."""
    where, params = flt.where()
    rows = await _select_dicts(conn, f"SELECT * FROM dead_letter WHERE {where} ORDER BY id", params)
    seen[:] = rows
    if expected_count is not None and len(rows) != expected_count:
        raise Refused(
            f"{len(rows)} rows match now, you confirmed {expected_count}: nothing changed",
            {"filter": flt.to_json(), "expected_count": expected_count, "rows": rows},
        )
    if not rows:
        raise Refused(
            f"no dead letters {flt.matching()}: nothing changed", {"filter": flt.to_json()}
        )
    return rows


async def retry_matching(
    store: Path,
    flt: DeadLetterFilter,
    *,
    expected_count: int | None,
    read_only: bool = False,
    operator: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    clock_now: float | None = None,
    _between: Hook | None = None,
) -> list[ActionResult]:
    """Retry every dead letter matching ``flt`` in ONE transaction (action ``retry_all``).

    Each row is retried exactly as by :func:`retry_one`; if any row's task is
    gone or not ``failed`` the whole action is refused, so it happens for
    every row or for none. The audit row (target
    ``dead_letter:<flt.describe()>``) keeps the filter, every removed row
    whole and every task as it was.

    Args:
        store: the store file.
        flt: which rows.
        expected_count: the count the operator confirmed; if the rows matching
            at execution time number differently the action is refused
            ("N rows match now, you confirmed M") and nothing changes. None
            skips the check (only for callers that confirmed nothing).
        read_only: the console's read-only mode: refused before opening anything.
        operator: who acts (default: the OS user, with the SSH client address).
        busy_timeout: seconds to wait for the producer's write lock.
        clock_now: "now" as epoch seconds for the timestamps written (tests).
        _between: testing only: awaited inside the transaction between the
            DELETE of the dead-letter rows and the UPDATE of their tasks, so a
            test can raise there and prove the whole action rolls back (the
            store unchanged, an ``error`` audit row written).

    Returns:
        One result per row acted on (target ``dead_letter:<id>``, all with
        the same outcome and audit id). When the action ended before the
        rows were read (read-only, busy or missing store, newer schema, no
        row matching) a single result for the filter's target.
    """
    seen: list[dict[str, Any]] = []
    messages: dict[int, str] = {}
    extra: dict[int, dict[str, Any]] = {}

    async def body(conn: aiosqlite.Connection) -> ActionOutcome:
        rows = await _matching_rows(conn, flt, expected_count, seen)
        tasks = await _retry_rows(conn, rows, now_iso(clock_now), _between)
        for row in rows:
            row_id, task_id = int(row["id"]), int(row["task_id"])
            messages[row_id] = f"retried dead letter {row_id}: task {task_id} is pending again"
            extra[row_id] = {"task_before": tasks[task_id]}
        return ActionOutcome(
            f"retried {len(rows)} dead letter{'s' if len(rows) != 1 else ''} {flt.matching()}",
            {
                "filter": flt.to_json(),
                "count": len(rows),
                "rows": rows,
                "tasks_before": list(tasks.values()),
            },
        )

    result = await run_action(
        store,
        action="retry_all",
        target=f"dead_letter:{flt.describe()}",
        body=body,
        read_only=read_only,
        operator=operator,
        busy_timeout=busy_timeout,
    )
    return _per_row(result, seen, messages, extra)


async def purge_matching(
    store: Path,
    flt: DeadLetterFilter,
    *,
    expected_count: int | None,
    read_only: bool = False,
    operator: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    _between: Hook | None = None,
) -> list[ActionResult]:
    """Delete every dead letter matching ``flt`` in one transaction (action ``purge``).

    The tasks stay ``failed``: a purge only forgets the dead letters. Every
    deleted row is kept whole in the audit detail with the filter.

    Args:
        store: the store file.
        flt: which rows.
        expected_count: the count the operator typed to confirm; a different
            count at execution time refuses the purge, nothing changed.
        read_only: the console's read-only mode: refused before opening anything.
        operator: who acts (default: the OS user, with the SSH client address).
        busy_timeout: seconds to wait for the producer's write lock.
        _between: testing only: awaited inside the transaction after the
            DELETE, before the audit row; whatever it raises rolls back.

    Returns:
        As :func:`retry_matching`: one result per row, or a single result for
        the filter when the rows were never read.
    """
    seen: list[dict[str, Any]] = []
    messages: dict[int, str] = {}

    async def body(conn: aiosqlite.Connection) -> ActionOutcome:
        rows = await _matching_rows(conn, flt, expected_count, seen)
        cur = await conn.execute(
            "DELETE FROM dead_letter WHERE id IN (SELECT value FROM json_each(?))",
            (_ids_json([int(r["id"]) for r in rows]),),
        )
        if cur.rowcount != len(rows):
            raise RuntimeError(f"deleted {cur.rowcount} dead-letter rows, expected {len(rows)}")
        if _between is not None:
            await _between()
        for row in rows:
            messages[int(row["id"])] = (
                f"purged dead letter {row['id']} (task {row['task_id']} stays failed)"
            )
        return ActionOutcome(
            f"purged {len(rows)} dead letter{'s' if len(rows) != 1 else ''} {flt.matching()}",
            {"filter": flt.to_json(), "count": len(rows), "rows": rows},
        )

    result = await run_action(
        store,
        action="purge",
        target=f"dead_letter:{flt.describe()}",
        body=body,
        read_only=read_only,
        operator=operator,
        busy_timeout=busy_timeout,
    )
    return _per_row(result, seen, messages, {})


_DONE = {"retry": "retried", "retry_all": "retried", "purge": "purged"}


def summarize(results: Sequence[ActionResult]) -> str:
    """One line for a notification about the results of one or more dead-letter actions.

    All ok: ``retried 37 dead letters``. All refused or failed with the same
    message (one bulk transaction): that message. Mixed: the counts by
    outcome, then the first problem.
    """
    if not results:
        return "nothing done"
    if all(r.ok for r in results):
        if len(results) == 1:
            return results[0].message
        verb = _DONE.get(results[0].action, results[0].action)
        return f"{verb} {len(results)} dead letters"
    failed = [r for r in results if not r.ok]
    if len({r.message for r in results}) == 1:
        return f"{results[0].action} {results[0].outcome}: {results[0].message}"
    counts = {o: sum(1 for r in results if r.outcome == o) for o in ("ok", "refused", "error")}
    head = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    return f"{head}; first problem: {failed[0].target}: {failed[0].message}"
