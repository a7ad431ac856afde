"""A stand-in producer: a real second process writing the store, for the reader's tests.

Usage: ``python store_writer.py DB --seconds S [--rate N] [--lock-seconds X]``

It writes continuously in short transactions: tasks are created, claimed,
completed or failed (a failure past ``max_attempts`` moves the task to
``failed`` and inserts its dead letter in the same transaction), breakers
trip and recover, and every transaction inserts exactly one event. It keeps
invariants a reader can only see hold if it reads in one transaction:

* for every queue, the count of ``failed`` tasks equals its dead letters;
* breaker ``writer_txns``'s ``total_successes`` equals the events' max rowid;
* breaker ``writer_tasks``'s ``total_successes`` equals the number of tasks.

Timestamps are written in mixed ISO forms (``T`` or space, ``Z`` or not,
with or without a fraction, some with a ``+00:00`` offset), as a careless
producer would.

``--lock-seconds X`` first takes the store's lock exclusively for X seconds
(``PRAGMA locking_mode=EXCLUSIVE`` plus a write: in WAL mode, a plain
``BEGIN EXCLUSIVE`` does not block readers), writing all the while, then
releases it and writes normally. The lock can only be taken while no other
connection has the store open in WAL mode, since each holds a shared lock.

It prints ``READY``, ``LOCKED`` (or ``LOCK-FAILED <why>``), ``UNLOCKED`` and
``DONE <transactions>`` on stdout, one per line, as it goes.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime

from oos_tui.store.schema import SCHEMA_VERSION, schema_sql

QUEUES = ("ingest", "transcribe", "summarize", "publish")
WORKERS = tuple(f"worker_{n}" for n in range(4))
MAX_ATTEMPTS = 3
_FORMATS = (
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z",
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f"),
    lambda d: d.strftime("%Y-%m-%d %H:%M:%S"),
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
)


def stamp(rnd: random.Random, ts: float) -> str:
    """``ts`` as ISO text in one of the forms producers are seen to write."""
    return rnd.choice(_FORMATS)(datetime.fromtimestamp(ts, UTC))


def setup(conn: sqlite3.Connection, journal: str) -> None:
    """Create the schema if absent and the counter rows the invariants rest on."""
    conn.execute(f"PRAGMA journal_mode={journal}")
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    if "tasks" not in have:
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{schema_sql()}\nPRAGMA user_version={SCHEMA_VERSION};\nCOMMIT;"
        )
    conn.execute("BEGIN IMMEDIATE")
    now = datetime.now(UTC).isoformat()
    (events,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
    (tasks,) = conn.execute("SELECT count(*) FROM tasks").fetchone()
    for name, total in (("writer_txns", events), ("writer_tasks", tasks)):
        conn.execute(
            "INSERT OR REPLACE INTO circuit_breakers (name, state, total_successes, updated_at)"
            " VALUES (?, 'closed', ?, ?)",
            (name, total, now),
        )
    for worker in WORKERS:
        conn.execute(
            "INSERT OR IGNORE INTO circuit_breakers (name, state, updated_at)"
            " VALUES (?, 'closed', ?)",
            (worker, now),
        )
    conn.execute("COMMIT")


def _create(conn: sqlite3.Connection, rnd: random.Random, now: float) -> tuple[int, str]:
    queue = rnd.choice(QUEUES)
    item = f"item_{rnd.randrange(1_000_000)}"
    cur = conn.execute(
        "INSERT INTO tasks (queue, task_type, payload, status, max_attempts, created_at,"
        " updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
        (
            queue,
            f"{queue}_job",
            json.dumps({"item_id": item}),
            MAX_ATTEMPTS,
            stamp(rnd, now),
            stamp(rnd, now),
        ),
    )
    conn.execute(
        "UPDATE circuit_breakers SET total_successes = total_successes + 1"
        " WHERE name = 'writer_tasks'"
    )
    return int(cur.lastrowid or 0), item


def _claim(conn: sqlite3.Connection, rnd: random.Random, now: float) -> int | None:
    row = conn.execute(
        "SELECT id FROM tasks WHERE queue = ? AND status = 'pending' ORDER BY id LIMIT 1",
        (rnd.choice(QUEUES),),
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        "UPDATE tasks SET status = 'processing', worker_id = ?, updated_at = ? WHERE id = ?",
        (rnd.choice(WORKERS), stamp(rnd, now), row[0]),
    )
    return int(row[0])


def _finish(conn: sqlite3.Connection, rnd: random.Random, now: float) -> int | None:
    row = conn.execute(
        "SELECT id, queue, task_type, payload, attempts, max_attempts, worker_id FROM tasks"
        " WHERE queue = ? AND status = 'processing' ORDER BY id LIMIT 1",
        (rnd.choice(QUEUES),),
    ).fetchone()
    if row is None:
        return None
    task_id, queue, task_type, payload, attempts, max_attempts, worker = row
    if rnd.random() < 0.6:
        conn.execute(
            "UPDATE tasks SET status = 'completed', updated_at = ? WHERE id = ?",
            (stamp(rnd, now), task_id),
        )
        return int(task_id)
    attempts += 1
    error = f"Error {rnd.randrange(5)}: upstream timeout\nTraceback (most recent call last): ..."
    if attempts >= max_attempts:
        conn.execute(
            "UPDATE tasks SET status = 'failed', attempts = ?, last_error = ?, updated_at = ?"
            " WHERE id = ?",
            (attempts, error, stamp(rnd, now), task_id),
        )
        conn.execute(
            "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error,"
            " worker_id, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (task_id, queue, task_type, payload, attempts, error, worker, stamp(rnd, now)),
        )
    else:
        backoff = min(2 ** (attempts - 1), 300)
        conn.execute(
            "UPDATE tasks SET status = 'pending', attempts = ?, last_error = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (attempts, error, stamp(rnd, now + backoff), stamp(rnd, now), task_id),
        )
    return int(task_id)


def _breaker(conn: sqlite3.Connection, rnd: random.Random, now: float) -> None:
    name = rnd.choice(WORKERS)
    if rnd.random() < 0.5:
        conn.execute(
            "UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0,"
            " total_successes = total_successes + 1, opened_at = NULL, retry_at = NULL,"
            " updated_at = ? WHERE name = ?",
            (stamp(rnd, now), name),
        )
    else:
        conn.execute(
            "UPDATE circuit_breakers SET consecutive_failures = consecutive_failures + 1,"
            " total_failures = total_failures + 1, last_error = 'boom', updated_at = ?,"
            " state = CASE WHEN consecutive_failures + 1 >= failure_threshold"
            " THEN 'open' ELSE state END,"
            " opened_at = CASE WHEN consecutive_failures + 1 >= failure_threshold"
            " THEN ? ELSE opened_at END,"
            " retry_at = CASE WHEN consecutive_failures + 1 >= failure_threshold"
            " THEN ? ELSE retry_at END WHERE name = ?",
            (stamp(rnd, now), stamp(rnd, now), stamp(rnd, now + 30), name),
        )


def transaction(conn: sqlite3.Connection, rnd: random.Random, serial: int) -> None:
    """One short write transaction: one change, its event, and the counter."""
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        roll = rnd.random()
        item: str | None = None
        task_id: int | None = None
        if roll < 0.35:
            op = "create"
            task_id, item = _create(conn, rnd, now)
        elif roll < 0.65:
            op = "claim"
            task_id = _claim(conn, rnd, now)
        elif roll < 0.9:
            op = "finish"
            task_id = _finish(conn, rnd, now)
        else:
            op = "breaker"
            _breaker(conn, rnd, now)
        conn.execute(
            "INSERT INTO events (id, timestamp, system, event_type, severity, title,"
            " description, data, tags, correlation_id, source_component, duration_ms,"
            " metadata) VALUES (?, ?, 'writer', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')",
            (
                str(uuid.uuid4()),
                stamp(rnd, now),
                op,
                rnd.choice(("info", "info", "warning", "error")),
                f"{op} task",
                f"{op} task {task_id}",
                json.dumps({"item_id": item, "task_id": task_id, "serial": serial}),
                json.dumps([op]),
                f"task-{task_id}" if task_id is not None else None,
                rnd.choice(WORKERS),
                rnd.randrange(500),
            ),
        )
        conn.execute(
            "UPDATE circuit_breakers SET total_successes = total_successes + 1"
            " WHERE name = 'writer_txns'"
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def say(word: str) -> None:
    """Report progress to the test on its own line, at once."""
    print(word, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Write the store for ``--seconds``, optionally holding it locked at first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=float, default=500.0, help="transactions per second")
    parser.add_argument("--lock-seconds", type=float, default=0.0)
    parser.add_argument("--journal", default="wal", choices=("wal", "delete"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    rnd = random.Random(args.seed)
    conn = sqlite3.connect(args.db, isolation_level=None, timeout=10)
    setup(conn, args.journal)
    say("READY")
    start = time.monotonic()
    pause = 1.0 / args.rate if args.rate > 0 else 0.0
    serial = 0
    locked = False
    if args.lock_seconds > 0:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA busy_timeout=1000")
        try:
            transaction(conn, rnd, serial)
            serial += 1
            locked = True
            say("LOCKED")
        except sqlite3.OperationalError as exc:
            conn.execute("PRAGMA locking_mode=NORMAL")
            say(f"LOCK-FAILED {exc}")
        conn.execute("PRAGMA busy_timeout=10000")
    while time.monotonic() - start < args.seconds:
        if locked and time.monotonic() - start >= args.lock_seconds:
            conn.execute("PRAGMA locking_mode=NORMAL")
            # The lock is only given up at the next access after the mode change.
            conn.execute("SELECT count(*) FROM circuit_breakers").fetchone()
            locked = False
            say("UNLOCKED")
        transaction(conn, rnd, serial)
        serial += 1
        if pause:
            time.sleep(pause)
    if locked:
        conn.execute("PRAGMA locking_mode=NORMAL")
        conn.execute("SELECT count(*) FROM circuit_breakers").fetchone()
        say("UNLOCKED")
    conn.close()
    say(f"DONE {serial}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
