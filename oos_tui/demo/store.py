"""The producer's side of the store: WAL, short write transactions, and the rows it writes.

Every simulated action is one ``BEGIN IMMEDIATE`` … ``COMMIT`` taken and
released within a tick, never across a sleep, so the console's reads and
operator actions (CONTRACT §5) wait at most one short transaction. The busy
timeout covers the other direction: an operator action holding the lock
makes the producer wait, not fail.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from oos_tui.demo.rules import Breaker
from oos_tui.formats.base import format_ts
from oos_tui.store.schema import init_store

__all__ = ["BREAKER_COLUMNS", "DemoStore", "TaskRow", "dumps"]

BREAKER_COLUMNS = (
    "name, state, consecutive_failures, failure_threshold, total_failures,"
    " total_successes, opened_at, retry_at, last_error, updated_at"
)

_TASK_COLUMNS = "id, queue, task_type, payload, priority, attempts, max_attempts, last_error"


def dumps(value: Any) -> str:
    """Compact JSON text with a stable key order (the order the dict was built in)."""
    return orjson.dumps(value).decode()


class TaskRow:
    """A task as a worker holds it: the columns it needs and the parsed payload."""

    __slots__ = (
        "attempts",
        "id",
        "last_error",
        "max_attempts",
        "payload",
        "payload_text",
        "priority",
        "queue",
        "task_type",
    )

    def __init__(self, row: Sequence[Any]) -> None:
        (
            self.id,
            self.queue,
            self.task_type,
            self.payload_text,
            self.priority,
            self.attempts,
            self.max_attempts,
            self.last_error,
        ) = row
        try:
            payload = orjson.loads(self.payload_text)
        except orjson.JSONDecodeError:
            payload = {}
        self.payload: dict[str, Any] = payload if isinstance(payload, dict) else {}


class DemoStore:
    """The producer's one connection to ``data/oos.db``.

    Args:
        path: The store; created with :func:`oos_tui.store.schema.init_store`
            when absent.
        ids: The random stream event ids are drawn from (seeded: reproducible).
        busy_timeout: Seconds a write waits for another process's lock.

    Raises:
        StoreError: the store could not be created.
        sqlite3.Error: it could not be opened or switched to WAL.
    """

    def __init__(self, path: Path, ids: random.Random, busy_timeout: float = 5.0) -> None:
        if not path.exists():
            init_store(path)
        self.path = path
        self._ids = ids
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
        mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            self.conn.close()
            raise sqlite3.OperationalError(f"store stays in {mode} mode, not WAL")
        # NORMAL is durable across a producer crash in WAL mode; FULL would fsync per action.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.transactions = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: committed on success, rolled back on any error."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.transactions += 1

    def close(self) -> None:
        """Fold the WAL back into the store and close (the last closer removes the WAL)."""
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            self.conn.close()

    def new_id(self) -> str:
        """A seeded UUID4 text for an ``events`` row."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # -- breakers ---------------------------------------------------------

    def ensure_breakers(self, names: Sequence[str], threshold: int, t: float) -> None:
        """Create missing breaker rows as closed; existing rows (and their counters) stay."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO circuit_breakers (name, state, failure_threshold,"
                " updated_at) VALUES (?, 'closed', ?, ?)",
                [(name, threshold, format_ts(t)) for name in names],
            )

    def breakers(self, names: Sequence[str]) -> dict[str, Breaker]:
        """The named breaker rows as they are now (read inside the caller's transaction)."""
        marks = ",".join("?" * len(names))
        rows = self.conn.execute(
            f"SELECT {BREAKER_COLUMNS} FROM circuit_breakers WHERE name IN ({marks})",
            tuple(names),
        ).fetchall()
        return {row[0]: Breaker(*row) for row in rows}

    def save_breaker(self, row: Breaker) -> None:
        """Write back a breaker row computed by :mod:`oos_tui.demo.rules`."""
        self.conn.execute(
            "UPDATE circuit_breakers SET state = ?, consecutive_failures = ?,"
            " total_failures = ?, total_successes = ?, opened_at = ?, retry_at = ?,"
            " last_error = ?, updated_at = ? WHERE name = ?",
            (
                row.state,
                row.consecutive_failures,
                row.total_failures,
                row.total_successes,
                row.opened_at,
                row.retry_at,
                row.last_error,
                row.updated_at,
                row.name,
            ),
        )

    # -- tasks ------------------------------------------------------------

    def insert_task(
        self,
        queue: str,
        task_type: str,
        payload: Mapping[str, Any],
        t: float,
        *,
        priority: int = 0,
        max_attempts: int = 10,
    ) -> int:
        """Queue a new pending task; returns its id."""
        stamp = format_ts(t)
        cur = self.conn.execute(
            "INSERT INTO tasks (queue, task_type, payload, status, priority, attempts,"
            " max_attempts, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 0, ?, ?, ?)",
            (queue, task_type, dumps(payload), priority, max_attempts, stamp, stamp),
        )
        return int(cur.lastrowid or 0)

    def due_tasks(
        self,
        queue: str,
        t: float,
        exclude: Sequence[tuple[str, Sequence[Any]]],
        limit: int,
        task_type: str | None = None,
    ) -> list[TaskRow]:
        """Pending tasks of ``queue`` a worker may take at ``t``: by priority, then id.

        A task is due when it never failed (``attempts`` 0, which is also how
        an operator's retry leaves it, whatever clock wrote its
        ``next_attempt_at``), has no ``next_attempt_at``, or that time has
        passed. ``exclude`` holds SQL conditions (with their parameters) that
        rule out tasks whose dependency's breaker is open.
        """
        sql = [
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE queue = ? AND status = 'pending'"
            " AND (attempts = 0 OR next_attempt_at IS NULL"
            " OR julianday(next_attempt_at) <= julianday(?))"
        ]
        params: list[Any] = [queue, format_ts(t)]
        if task_type is not None:
            sql.append("AND task_type = ?")
            params.append(task_type)
        for condition, values in exclude:
            sql.append(f"AND NOT ({condition})")
            params.extend(values)
        sql.append("ORDER BY priority DESC, id LIMIT ?")
        params.append(limit)
        return [TaskRow(r) for r in self.conn.execute(" ".join(sql), params).fetchall()]

    def claim(self, task_ids: Sequence[int], worker: str, t: float) -> None:
        """Mark tasks ``processing`` by ``worker``."""
        self.conn.executemany(
            "UPDATE tasks SET status = 'processing', worker_id = ?, updated_at = ? WHERE id = ?",
            [(worker, format_ts(t), task_id) for task_id in task_ids],
        )

    def still_mine(self, task_id: int, worker: str) -> bool:
        """Whether the task is still ``processing`` by ``worker`` (nobody changed it meanwhile)."""
        row = self.conn.execute(
            "SELECT status, worker_id FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
        return row is not None and row[0] == "processing" and row[1] == worker

    def complete(self, task_id: int, t: float) -> None:
        """The task succeeded."""
        self.conn.execute(
            "UPDATE tasks SET status = 'completed', next_attempt_at = NULL, updated_at = ?"
            " WHERE id = ?",
            (format_ts(t), task_id),
        )

    def retry_later(self, task_id: int, attempts: int, error: str, at: float, t: float) -> None:
        """The task failed and will be retried at ``at`` (back to ``pending``)."""
        self.conn.execute(
            "UPDATE tasks SET status = 'pending', attempts = ?, last_error = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (attempts, error, format_ts(at), format_ts(t), task_id),
        )

    def dead_letter(self, task: TaskRow, attempts: int, error: str, worker: str, t: float) -> int:
        """The task failed for the last time: ``failed``, and its dead letter, together.

        Called inside the caller's transaction, so the status change and the
        ``dead_letter`` row commit (or roll back) as one.
        """
        stamp = format_ts(t)
        self.conn.execute(
            "UPDATE tasks SET status = 'failed', attempts = ?, last_error = ?,"
            " next_attempt_at = NULL, updated_at = ? WHERE id = ?",
            (attempts, error, stamp, task.id),
        )
        cur = self.conn.execute(
            "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error,"
            " worker_id, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task.id,
                task.queue,
                task.task_type,
                task.payload_text,
                attempts,
                error,
                worker,
                stamp,
            ),
        )
        return int(cur.lastrowid or 0)

    def pending(self, queue: str) -> int:
        """The queue's depth: its pending tasks."""
        row = self.conn.execute(
            "SELECT count(*) FROM tasks WHERE queue = ? AND status = 'pending'", (queue,)
        ).fetchone()
        return int(row[0])

    def requeue_orphans(self, t: float) -> int:
        """Tasks left ``processing`` by a producer that died go back to ``pending``."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE tasks SET status = 'pending', updated_at = ? WHERE status = 'processing'",
                (format_ts(t),),
            )
        return cur.rowcount

    def prune(self, before: float, batch: int = 500) -> int:
        """Forget up to ``batch`` events and completed tasks older than ``before``.

        Dead letters and failed tasks stay: they are the operators' to retry
        or purge. Returns the rows deleted.
        """
        cutoff = format_ts(before)
        events = self.conn.execute(
            "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE timestamp < ?"
            " ORDER BY timestamp LIMIT ?)",
            (cutoff, batch),
        ).rowcount
        tasks = self.conn.execute(
            "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status = 'completed'"
            " AND updated_at < ? ORDER BY id LIMIT ?)",
            (cutoff, batch),
        ).rowcount
        return events + tasks

    def max_task_id(self) -> int:
        """The highest task id so far (item numbers continue from it on a reused workspace)."""
        row = self.conn.execute("SELECT coalesce(max(id), 0) FROM tasks").fetchone()
        return int(row[0])

    def max_event_rowid(self) -> int:
        """The newest ``events`` rowid (0 for a fresh store)."""
        row = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
        return int(row[0])

    # -- events -----------------------------------------------------------

    def event(
        self,
        t: float,
        system: str,
        event_type: str,
        severity: str,
        title: str,
        description: str,
        data: Mapping[str, Any],
        tags: Sequence[str],
        correlation_id: str | None,
        component: str | None,
        duration_ms: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Insert one ``events`` row (the central collector); returns its id."""
        event_id = self.new_id()
        self.conn.execute(
            "INSERT INTO events (id, timestamp, system, event_type, severity, title,"
            " description, data, tags, correlation_id, source_component, duration_ms,"
            " metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                format_ts(t),
                system,
                event_type,
                severity,
                title,
                description,
                dumps(data),
                dumps(list(tags)),
                correlation_id,
                component,
                duration_ms,
                dumps(metadata or {}),
            ),
        )
        return event_id
