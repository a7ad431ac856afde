"""Stores and probes for the operator-action tests: a seeded store, table dumps, a lock holder.

The tests import it with ``tests/helpers`` put on ``sys.path`` for the
import (tests are not a package). Run as a script it holds the store's write
lock: ``python actions_support.py hold DB SECONDS`` prints ``locked`` once
``BEGIN IMMEDIATE`` succeeded, sleeps, and commits.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from oos_tui.store.schema import init_store

HERE = Path(__file__).resolve()

NOW = "2025-09-29T02:00:00.000Z"
TABLES = ("tasks", "dead_letter", "circuit_breakers", "events")

# (id, queue, task_type, worker_id, error); every one a failed task with its dead letter.
DEAD = (
    (1, "asr", "transcribe", "worker_1", "HTTP 503 from https://x/api/items/101"),
    (2, "asr", "transcribe", "worker_2", "HTTP 503 from https://x/api/items/102"),
    (3, "asr", "diarize", "worker_1", "Timeout after 30s\nTraceback (most recent call last): ..."),
    (
        4,
        "ingest",
        "fetch",
        "3",
        'Traceback (most recent call last):\n  File "f.py", line 9\n'
        "ConnectionError: connection to 10.0.0.5 refused",
    ),
    (5, "ingest", "fetch", None, "KeyError: 'item_42'"),
)


def connect(db: Path) -> sqlite3.Connection:
    """A plain autocommit connection for arranging and inspecting the store."""
    return sqlite3.connect(db, isolation_level=None, timeout=10)


def seed(db: Path, *, extra_dead: int = 0) -> Path:
    """A fresh store with five dead letters (see :data:`DEAD`), breakers and one event.

    ``extra_dead`` adds that many more dead letters on queue ``bulk`` (ids
    from 100) for the confirmation thresholds.
    """
    init_store(db)
    con = connect(db)
    con.execute("BEGIN")
    rows = list(DEAD) + [
        (100 + n, "bulk", "bulk_job", "worker_9", f"Error {n}: upstream timeout")
        for n in range(extra_dead)
    ]
    for task_id, queue, task_type, worker, error in rows:
        payload = json.dumps({"item_id": f"item_{task_id}", "url": f"https://x/{task_id}"})
        con.execute(
            "INSERT INTO tasks (id, queue, task_type, payload, status, priority, attempts,"
            " max_attempts, next_attempt_at, worker_id, last_error, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'failed', 0, 10, 10, NULL, ?, ?, ?, ?)",
            (task_id, queue, task_type, payload, worker, error, NOW, NOW),
        )
        con.execute(
            "INSERT INTO dead_letter (id, task_id, queue, task_type, payload, attempts, error,"
            " worker_id, failed_at) VALUES (?, ?, ?, ?, ?, 10, ?, ?, ?)",
            (
                task_id,
                task_id,
                queue,
                task_type,
                payload,
                error,
                worker,
                f"2025-09-29T01:{task_id % 60:02d}:00Z",
            ),
        )
    con.execute(
        "INSERT INTO tasks (id, queue, task_type, payload, status, attempts, created_at,"
        " updated_at) VALUES (50, 'asr', 'transcribe', '{}', 'pending', 0, ?, ?)",
        (NOW, NOW),
    )
    con.executemany(
        "INSERT INTO circuit_breakers (name, state, consecutive_failures, failure_threshold,"
        " total_failures, total_successes, opened_at, retry_at, last_error, updated_at)"
        " VALUES (?, ?, ?, 10, ?, ?, ?, ?, ?, ?)",
        [
            (
                "worker_1",
                "open",
                10,
                14,
                86,
                "2025-09-29T01:55:00Z",
                "2025-09-29T02:00:30Z",
                "HTTP 503\nmore",
                NOW,
            ),
            ("worker_2", "closed", 7, 7, 3, None, None, "timeout", NOW),
            ("worker_3", "half_open", 0, 20, 0, "2025-09-29T01:50:00Z", None, None, NOW),
            ("idle", "closed", 0, 0, 0, None, None, None, NOW),
        ],
    )
    con.execute(
        "INSERT INTO events (id, timestamp, system, event_type, severity, title, description,"
        " data, tags, metadata) VALUES ('e1', ?, 'oos', 'start', 'info', 't', 'd', '{}', '[]',"
        " '{}')",
        (NOW,),
    )
    con.execute("COMMIT")
    con.close()
    return db


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the producer's tables, in id order: the store's logical content."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        con.close()


def audit_rows(db: Path) -> list[dict[str, Any]]:
    """``operator_actions`` rows, oldest first, with ``detail`` parsed."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute("SELECT * FROM operator_actions ORDER BY id")]
    finally:
        con.close()
    for row in rows:
        row["detail"] = json.loads(row["detail"])
    return rows


def row_dict(db: Path, table: str, key: str, value: Any) -> dict[str, Any] | None:
    """One row as ``{column: value}``, or None."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        found = con.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,)).fetchone()
    finally:
        con.close()
    return dict(found) if found is not None else None


def hold_lock(db: str, seconds: float) -> None:
    """Take the write lock, say so, keep it ``seconds``, then commit."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(seconds)
    con.execute("COMMIT")
    con.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "hold":
        hold_lock(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit("usage: actions_support.py hold DB SECONDS")


def writer_invariant_problems(db: Path) -> list[str]:
    """What ``store_writer.py`` keeps true, read in one transaction; [] when all hold.

    A retry keeps every one of them (a failed task and its dead letter go
    together), so a half-applied retry shows here as a broken count.
    """
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, timeout=10)
    try:
        con.execute("BEGIN")
        failed = dict(
            con.execute("SELECT queue, count(*) FROM tasks WHERE status = 'failed' GROUP BY queue")
        )
        dead = dict(con.execute("SELECT queue, count(*) FROM dead_letter GROUP BY queue"))
        orphans = con.execute(
            "SELECT count(*) FROM dead_letter AS d JOIN tasks AS t ON t.id = d.task_id"
            " WHERE t.status != 'failed'"
        ).fetchone()[0]
        (events,) = con.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
        (tasks,) = con.execute("SELECT count(*) FROM tasks").fetchone()
        counters = dict(
            con.execute(
                "SELECT name, total_successes FROM circuit_breakers"
                " WHERE name IN ('writer_txns', 'writer_tasks')"
            )
        )
        con.execute("COMMIT")
    finally:
        con.close()
    problems = []
    if failed != dead:
        problems.append(f"failed tasks by queue {failed} != dead letters by queue {dead}")
    if orphans:
        problems.append(f"{orphans} dead letters whose task is not failed")
    if counters.get("writer_txns") != events:
        problems.append(f"writer_txns {counters.get('writer_txns')} != events {events}")
    if counters.get("writer_tasks") != tasks:
        problems.append(f"writer_tasks {counters.get('writer_tasks')} != tasks {tasks}")
    return problems
