"""The live reader on real SQLite files: figures, change detection, every way a store breaks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import types
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from oos_tui.clock import FrozenClock
from oos_tui.models import iso
from oos_tui.store.reader import BACKING_OFF_LIMIT, StoreReader, newer_schema_message
from oos_tui.store.schema import TABLES, StoreError, init_store

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def at(offset: float) -> str:
    """NOW + offset seconds, in the store's usual form."""
    return iso(NOW + offset)


def run(path: Path, sql: str, rows: Iterable[Sequence[Any]] | None = None) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if rows is None:
            conn.executescript(sql)
        else:
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
    finally:
        conn.close()


def add_tasks(path: Path, rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows of (queue, status, attempts, next_attempt_at, created_at, updated_at[, payload])."""
    full = []
    for row in rows:
        queue, status, attempts, nxt, created, updated, *rest = row
        payload = rest[0] if rest else "{}"
        full.append((queue, f"{queue}_job", payload, status, attempts, nxt, created, updated))
    run(
        path,
        "INSERT INTO tasks (queue, task_type, payload, status, attempts, next_attempt_at,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        full,
    )


def add_dead(path: Path, rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows of (task_id, queue, task_type, error, failed_at)."""
    run(
        path,
        "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error, failed_at)"
        " VALUES (?, ?, ?, '{}', 10, ?, ?)",
        rows,
    )


def add_events(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    defaults = {
        "timestamp": at(0), "system": "oos", "event_type": "task", "severity": "info",
        "title": "t", "description": "d", "data": "{}", "tags": "[]", "correlation_id": None,
        "source_component": None, "duration_ms": None, "metadata": "{}",
    }  # fmt: skip
    full = []
    for n, row in enumerate(rows):
        merged = {**defaults, **row}
        full.append((row.get("id", f"ev-{n}-{os.urandom(4).hex()}"), *merged.values()))
    run(path, f"INSERT INTO events VALUES ({', '.join('?' * 13)})", full)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "oos.db"
    init_store(path)
    return path


@pytest.fixture
async def reader(store: Path) -> AsyncIterator[StoreReader]:
    async with StoreReader(store, clock=FrozenClock(NOW), busy_timeout_ms=200) as r:
        yield r


# ------------------------------------------------------------------ health


async def test_a_missing_store_then_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "data" / "oos.db"
    async with StoreReader(path, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
        assert snap is not None
        assert not snap.health.present and not snap.health.readable
        assert snap.health.message == f"store not found: {path}"
        assert snap.queues == () and snap.dead_letter_count == 0
        assert await r.poll() is None  # still missing: nothing changed
        assert await r.poll(force=True) is not None
        init_store(path)
        add_tasks(path, [("ingest", "pending", 0, None, at(-60), at(-60))])
        snap = await r.poll()
        assert snap is not None
        assert snap.health.present and snap.health.readable and snap.health.message is None
        assert snap.health.ok
        assert snap.task_counts == {"pending": 1}
        os.unlink(path)
        snap = await r.poll()
        assert snap is not None and not snap.health.present and snap.task_counts == {}


async def test_a_healthy_store_reports_its_shape(reader: StoreReader, store: Path) -> None:
    snap = await reader.poll()
    assert snap is not None
    h = snap.health
    assert (h.present, h.readable, h.schema_version, h.newer_schema) == (True, True, 1, False)
    assert h.journal_mode == "wal"
    assert h.size_bytes == store.stat().st_size > 0
    assert h.page_size == 4096 and h.page_count and h.freelist_count == 0
    assert h.missing_tables == () and h.message is None
    assert snap.taken_at == NOW and snap.data_version is not None


async def test_an_empty_file_has_no_tables(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    path.write_bytes(b"")
    async with StoreReader(path, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
    assert snap is not None
    assert snap.health.readable and snap.health.missing_tables == TABLES
    assert snap.health.message == "no OOS tables in the store yet"


async def test_missing_tables_show_as_not_present(reader: StoreReader, store: Path) -> None:
    add_tasks(store, [("ingest", "pending", 0, None, at(-5), at(-5))])
    run(store, "DROP TABLE events; DROP TABLE operator_actions;")
    snap = await reader.poll()
    assert snap is not None
    assert snap.health.readable
    assert snap.health.missing_tables == ("events", "operator_actions")
    assert snap.health.message == "tables not present: events, operator_actions"
    assert snap.task_counts == {"pending": 1}
    assert snap.latest_event_rowid == 0 and snap.audit_count == 0
    assert await reader.events_since(0) == ([], 0)
    assert await reader.audit() == []
    # The producer creates the table later: the reader notices.
    run(store, "CREATE TABLE operator_actions (id INTEGER PRIMARY KEY, at TEXT, operator TEXT,"
               " action TEXT, target TEXT, detail TEXT, outcome TEXT);")  # fmt: skip
    snap = await reader.poll()
    assert snap is not None and snap.health.missing_tables == ("events",)


async def test_a_newer_schema_is_read_through_known_columns(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    run(path, """
        CREATE TABLE tasks (id INTEGER PRIMARY KEY, tenant TEXT, queue TEXT, task_type TEXT,
            payload TEXT, status TEXT, attempts INTEGER, max_attempts INTEGER,
            next_attempt_at TEXT, worker_id TEXT, last_error TEXT, created_at TEXT,
            updated_at TEXT, shard INTEGER);
        CREATE TABLE circuit_breakers (name TEXT PRIMARY KEY, state TEXT, updated_at TEXT);
        CREATE TABLE dead_letter (id INTEGER PRIMARY KEY, task_id INTEGER, error TEXT);
        PRAGMA user_version = 2;
    """)  # fmt: skip
    run(
        path,
        "INSERT INTO tasks (tenant, queue, task_type, payload, status, attempts, max_attempts,"
        " next_attempt_at, created_at, updated_at, shard)"
        " VALUES ('a', 'ingest', 'job', '{}', 'pending', 2, 5, ?, ?, ?, 9)",
        [(at(60), at(-100), at(-10))],
    )
    run(path, "INSERT INTO circuit_breakers VALUES ('w1', 'open', ?)", [(at(-1),)])
    run(path, "INSERT INTO dead_letter VALUES (1, 1, 'boom')", [()])
    async with StoreReader(path, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
        assert snap is not None
        h = snap.health
        assert h.newer_schema and h.schema_version == 2 and h.readable
        assert h.message is not None
        assert h.message.startswith(newer_schema_message(2))
        assert newer_schema_message(2) == (
            "schema version 2 is newer than this console (1): read-only view, actions refused"
        )
        assert "dead_letter lacks queue" in h.message
        assert "tables not present: events, operator_actions" in h.message
        (queue,) = snap.queues
        assert (queue.queue, queue.pending, queue.oldest_pending_at) == ("ingest", 1, NOW - 100)
        (task,) = snap.backing_off
        assert task.priority == 0 and task.max_attempts == 5  # priority: not in this schema
        (breaker,) = snap.breakers
        assert breaker.state == "open" and breaker.failure_threshold == 10
        assert snap.dead_letter_count == 0  # per-queue counts need the queue column
        (dl,) = await r.dead_letters()
        assert dl.error == "boom" and dl.queue == "" and dl.failed_at is None


async def test_random_bytes_are_a_corrupt_store_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    path.write_bytes(os.urandom(16384))
    async with StoreReader(path, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
        assert snap is not None
        assert snap.health.present and not snap.health.readable
        assert snap.health.message == "store is corrupt: file is not a database"
        assert snap.health.size_bytes == 16384
        assert await r.poll() is None  # the same broken file: nothing new to say
        assert await r.integrity() == (False, "store is corrupt: file is not a database")
        with pytest.raises(StoreError, match="file is not a database"):
            await r.dead_letters()
        # Repaired in place (a restore): the reader recovers by itself.
        path.unlink()
        init_store(path)
        snap = await r.poll()
        assert snap is not None and snap.health.message is None


def _damage_tasks(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        roots = [
            r[0]
            for r in conn.execute(
                "SELECT rootpage FROM sqlite_schema WHERE tbl_name = 'tasks' AND rootpage > 0"
            )
        ]
    finally:
        conn.close()
    with open(path, "r+b") as fh:
        for root in roots:
            fh.seek((root - 1) * page_size)
            fh.write(b"\xa5" * page_size)


async def test_a_damaged_page_is_reported_as_corrupt(store: Path) -> None:
    add_tasks(store, [("ingest", "pending", 0, None, at(-5), at(-5))] * 50)
    _damage_tasks(store)
    async with StoreReader(store, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
        assert snap is not None
        assert snap.health.message is not None
        assert snap.health.message.startswith("store is corrupt:")
        assert not snap.health.readable
        assert snap.task_counts == {}
        ok, summary = await r.integrity(quick=False)
        assert not ok and summary != "ok" and "\n" not in summary


async def test_a_replaced_file_is_reopened(reader: StoreReader, store: Path) -> None:
    add_tasks(store, [("ingest", "pending", 0, None, at(-5), at(-5))])
    first = await reader.poll()
    assert first is not None and first.task_counts == {"pending": 1}
    other = store.parent / "restored.db"
    init_store(other)
    add_tasks(other, [("publish", "completed", 0, None, at(-5), at(-5))] * 3)
    os.replace(other, store)
    snap = await reader.poll()
    assert snap is not None
    assert snap.task_counts == {"completed": 3}
    assert [q.queue for q in snap.queues] == ["publish"]


async def test_idle_polls_return_none_until_another_connection_commits(
    reader: StoreReader, store: Path
) -> None:
    first = await reader.poll()
    assert first is not None
    for _ in range(5):
        assert await reader.poll() is None
    add_tasks(store, [("ingest", "pending", 0, None, at(-5), at(-5))])
    second = await reader.poll()
    assert second is not None
    assert second.data_version != first.data_version
    assert second.task_counts == {"pending": 1}
    assert await reader.poll() is None
    forced = await reader.poll(force=True)
    assert forced is not None and forced.task_counts == second.task_counts
    assert reader.last is forced


async def test_a_read_that_changes_nothing_visible_still_reports(
    reader: StoreReader, store: Path
) -> None:
    add_tasks(store, [("ingest", "pending", 0, None, at(-5), at(-5))])
    await reader.poll()
    run(store, "UPDATE tasks SET worker_id = 'w9'")
    snap = await reader.poll()
    assert snap is not None  # data_version moved: a new snapshot, even if the counts did not


# ----------------------------------------------------------------- figures


async def test_queue_figures(reader: StoreReader, store: Path) -> None:
    add_tasks(store, [
        # oldest pending per queue, in mixed ISO forms
        ("ingest", "pending", 0, None, "2027-01-15 07:00:00", at(0)),
        ("ingest", "pending", 0, None, "2027-01-15T06:59:59.500+00:00", at(0)),  # the oldest
        ("ingest", "pending", 0, None, "2027-01-15T07:30:00Z", at(0)),
        ("ingest", "pending", 0, None, "2027-01-15T08:30:00+02:00", at(0)),  # 06:30Z: oldest!
        ("ingest", "processing", 1, None, at(-50), at(-10)),
        ("ingest", "failed", 10, None, at(-50), at(-10)),
        ("publish", "pending", 0, None, "", at(0)),
        ("publish", "cancelled", 0, None, at(-5), at(-5)),
        # completed in the last hour (boundary NOW-3600 counts), in mixed forms
        ("publish", "completed", 0, None, at(-9000), at(-3600)),
        ("publish", "completed", 0, None, at(-9000), "2027-01-15 07:30:00"),
        ("publish", "completed", 0, None, at(-9000), "2027-01-15T07:59:59.999999"),
        ("publish", "completed", 0, None, at(-9000), "2027-01-15T09:30:00+02:00"),  # 07:30Z
        ("publish", "completed", 0, None, at(-9000), "2027-01-15T07:30:00-02:00"),  # 09:30Z
        ("publish", "completed", 0, None, at(-9000), at(-3601)),
        ("publish", "completed", 0, None, at(-9000), "2027-01-15T08:30:00+02:00"),  # 06:30Z
        ("publish", "completed", 0, None, at(-9000), "2027-01-14 23:59:59"),
        ("publish", "completed", 0, None, at(-9000), "garbage"),
        ("publish", "completed", 0, None, at(-9000), ""),
    ])  # fmt: skip
    add_dead(store, [(6, "ingest", "ingest_job", "boom", at(-10)),
                     (99, "orphan", "x", "lost", at(-10))])  # fmt: skip
    run(store, "INSERT INTO circuit_breakers (name, state, updated_at) VALUES (?, ?, ?)",
        [("w2", "open", at(0)), ("w1", "closed", at(0))])  # fmt: skip
    add_events(store, [{}, {}, {}])
    run(
        store,
        "INSERT INTO operator_actions (at, operator, action, target, detail, outcome)"
        " VALUES (?, 'ana', 'retry', 'dead_letter:1', '{}', 'ok')",
        [(at(0),)] * 2,
    )
    snap = await reader.poll()
    assert snap is not None and snap.health.message is None
    ingest, orphan, publish = snap.queues
    assert [q.queue for q in snap.queues] == ["ingest", "orphan", "publish"]
    assert (ingest.pending, ingest.processing, ingest.failed, ingest.dead_letters) == (4, 1, 1, 1)
    assert ingest.depth == 4
    assert ingest.oldest_pending_at == pytest.approx(NOW - 5400)
    assert (orphan.pending, orphan.dead_letters) == (0, 1)
    assert publish.oldest_pending_at is None
    assert publish.completed == 10
    assert publish.completed_last_hour == 5
    assert dict(snap.task_counts) == {
        "cancelled": 1, "completed": 10, "failed": 1, "pending": 5, "processing": 1,
    }  # fmt: skip
    assert isinstance(snap.task_counts, types.MappingProxyType)
    assert snap.dead_letter_count == 2
    assert [b.name for b in snap.breakers] == ["w1", "w2"]
    assert snap.latest_event_rowid == 3 and snap.audit_count == 2
    assert snap.queue("publish") is publish and snap.queue("nope") is None


async def test_backing_off_is_future_retries_soonest_first(reader: StoreReader, store: Path):
    add_tasks(store, [
        ("ingest", "pending", 2, at(120), at(-9), at(-9)),
        ("ingest", "pending", 1, "2027-01-15 08:00:05", at(-9), at(-9)),  # soonest
        ("ingest", "pending", 3, "2027-01-15T10:01:00+02:00", at(-9), at(-9)),  # +60 s
        ("ingest", "pending", 1, at(-1), at(-9), at(-9)),  # due already
        ("ingest", "pending", 0, at(30), at(-9), at(-9)),  # never attempted
        ("ingest", "processing", 1, at(30), at(-9), at(-9)),
        ("ingest", "pending", 1, None, at(-9), at(-9)),
        ("ingest", "pending", 1, "soon", at(-9), at(-9)),
    ])  # fmt: skip
    snap = await reader.poll()
    assert snap is not None
    assert [t.id for t in snap.backing_off] == [2, 3, 1]
    assert snap.backing_off[0].next_attempt_at == pytest.approx(NOW + 5)


async def test_backing_off_is_capped(reader: StoreReader, store: Path) -> None:
    add_tasks(store, [("q", "pending", 1, at(i + 1), at(-9), at(-9)) for i in range(600)])
    snap = await reader.poll()
    assert snap is not None and len(snap.backing_off) == BACKING_OFF_LIMIT
    assert snap.backing_off[0].id == 1 and snap.backing_off[-1].id == BACKING_OFF_LIMIT


async def test_time_windows_move_with_the_clock(store: Path) -> None:
    add_tasks(store, [
        ("ingest", "pending", 1, at(10), at(-9), at(-9)),
        ("ingest", "completed", 0, None, at(-9), at(-1800)),
    ])  # fmt: skip
    clock = FrozenClock(NOW)
    async with StoreReader(store, clock=clock, refresh_after=30.0) as r:
        snap = await r.poll()
        assert snap is not None and len(snap.backing_off) == 1
        assert await r.poll() is None
        clock.advance(11)  # the retry is due: it leaves "backing off" without any write
        snap = await r.poll()
        assert snap is not None and snap.backing_off == ()
        assert snap.queues[0].completed_last_hour == 1
        clock.advance(31)  # a re-read finds nothing new
        assert await r.poll() is None
        clock.advance(1800)
        snap = await r.poll()
        assert snap is not None and snap.queues[0].completed_last_hour == 0
        assert snap.taken_at == clock.now()


# ---------------------------------------------------------------- queries


async def test_events_since_tails_incrementally(reader: StoreReader, store: Path) -> None:
    add_events(store, [{"title": f"e{n}", "data": json.dumps({"n": n})} for n in range(10)])
    seen: list[str] = []
    cursor = 0
    for expected in (4, 4, 2, 0):
        batch, cursor = await reader.events_since(cursor, limit=4)
        assert len(batch) == expected
        seen += [e.title for e in batch]
    assert seen == [f"e{n}" for n in range(10)] and cursor == 10
    add_events(store, [{"title": "late", "data": "{broken", "timestamp": "?"}])
    batch, cursor = await reader.events_since(cursor)
    assert [(e.title, e.data, e.rowid) for e in batch] == [("late", "{broken", 11)]
    assert cursor == 11
    snap = await reader.poll()
    assert snap is not None and snap.latest_event_rowid == 11


async def test_events_where_for_tracing(reader: StoreReader, store: Path) -> None:
    add_events(store, [
        {"correlation_id": "c1", "data": '{"item_id": "A_1"}', "timestamp": at(-7200)},
        {"correlation_id": "c1", "data": '{"item_id": "B_2"}', "timestamp": "2027-01-15 07:30:00"},
        {"correlation_id": "c2", "data": '{"item_id": "A_1"}', "timestamp": at(-60)},
        {"correlation_id": None, "data": "{not json A_1", "timestamp": at(-60)},
        {"data": '{"item_id": 77}', "timestamp": "2027-01-15T09:59:00+02:00"},  # 07:59Z
        {"data": '{"item_id": "caf\\u00e9/1"}', "timestamp": at(120)},
        {"data": '{"nested": {"item_id": "A_1"}}', "timestamp": at(-60)},
    ])  # fmt: skip
    assert [e.rowid for e in await reader.events_where(correlation_id="c1")] == [1, 2]
    assert [e.rowid for e in await reader.events_where(item_id="A_1")] == [1, 3]
    assert [e.rowid for e in await reader.events_where(item_id="77")] == [5]
    assert [e.rowid for e in await reader.events_where(item_id="café/1")] == [6]
    got = await reader.events_where(since=NOW - 3600, until=NOW)
    assert [e.rowid for e in got] == [2, 3, 4, 5, 7]
    got = await reader.events_where(correlation_id="c1", since=NOW - 3600)
    assert [e.rowid for e in got] == [2]
    assert len(await reader.events_where(limit=3)) == 3


async def test_dead_letter_filters(reader: StoreReader, store: Path) -> None:
    add_dead(store, [
        (1, "ingest", "fetch", "HTTP 500: Upstream", at(-300)),
        (2, "ingest", "parse", "ValueError: bad json", "2027-01-15 07:59:00"),
        (3, "publish", "fetch", "http 503 upstream\nTraceback", "2027-01-15T09:59:30+02:00"),
        (4, "publish", "post", "Timeout", "unknown"),
        (5, "ingest", "fetch", "ÉCHEC upstream", at(-10)),
    ])  # fmt: skip
    assert [d.id for d in await reader.dead_letters()] == [5, 3, 2, 1, 4]  # newest failure first
    assert [d.id for d in await reader.dead_letters(queue="ingest")] == [5, 2, 1]
    assert [d.id for d in await reader.dead_letters(task_type="fetch")] == [5, 3, 1]
    assert [d.id for d in await reader.dead_letters(error="UPSTREAM")] == [5, 3, 1]
    assert [d.id for d in await reader.dead_letters(error="échec")] == []  # ASCII-only folding
    assert [d.id for d in await reader.dead_letters(error="ÉCHEC UP")] == [5]
    assert [d.id for d in await reader.dead_letters(queue="ingest", error="http")] == [1]
    assert [d.id for d in await reader.dead_letters(ids=[4, 1, 99])] == [1, 4]
    assert await reader.dead_letters(ids=[]) == []
    assert [d.id for d in await reader.dead_letters(limit=2)] == [5, 3]
    assert await reader.dead_letters(queue="nope") == []


async def test_tasks_by_id_and_by_item(reader: StoreReader, store: Path) -> None:
    add_tasks(store, [
        ("ingest", "completed", 0, None, at(-9), at(-9), '{"item_id": "pod_1"}'),
        ("ingest", "failed", 3, None, at(-9), at(-9), '{"item_id": "pod_10"}'),
        ("publish", "pending", 0, None, at(-9), at(-9), '{"item_id": "pod_1", "x": 1}'),
        ("publish", "pending", 0, None, at(-9), at(-9), "not json pod_1"),
    ])  # fmt: skip
    assert [t.id for t in await reader.tasks(item_id="pod_1")] == [1, 3]
    assert [t.id for t in await reader.tasks(ids=[3, 2])] == [2, 3]
    assert [t.id for t in await reader.tasks(ids=[1, 3], item_id="pod_1")] == [1, 3]
    assert [t.id for t in await reader.tasks(limit=2)] == [1, 2]


async def test_audit_is_newest_first(reader: StoreReader, store: Path) -> None:
    run(store, "INSERT INTO operator_actions (at, operator, action, target, detail, outcome)"
               " VALUES (?, ?, ?, ?, ?, ?)", [
        (at(-30), "ana", "retry", "dead_letter:1", '{"before": {}}', "ok"),
        (at(-20), "bo", "purge", "dead_letter:*", "{bad", "refused"),
        (at(-10), "ana", "reset_breaker", "breaker:w1", "{}", "error"),
    ])  # fmt: skip
    entries = await reader.audit()
    assert [e.id for e in entries] == [3, 2, 1]
    assert entries[1].detail == "{bad" and entries[2].detail == {"before": {}}
    assert entries[0].at == pytest.approx(NOW - 10)
    assert [e.id for e in await reader.audit(limit=1)] == [3]


async def test_queries_on_a_missing_store_raise_one_line(tmp_path: Path) -> None:
    async with StoreReader(tmp_path / "nope.db") as r:
        with pytest.raises(StoreError, match="store not found"):
            await r.dead_letters()
        with pytest.raises(StoreError, match="store not found"):
            await r.events_since(0)
        assert await r.integrity() == (False, f"store not found: {tmp_path / 'nope.db'}")


async def test_integrity_of_a_healthy_store(reader: StoreReader) -> None:
    assert await reader.integrity() == (True, "ok")
    assert await reader.integrity(quick=False) == (True, "ok")


async def test_close_is_idempotent_and_a_poll_reopens(store: Path) -> None:
    r = StoreReader(store, clock=FrozenClock(NOW))
    assert await r.poll() is not None
    await r.close()
    await r.close()
    snap = await r.poll(force=True)
    assert snap is not None and snap.health.ok
    await r.close()


async def test_a_cancelled_poll_leaves_no_read_transaction_open(store: Path) -> None:
    add_tasks(store, [("q", "pending", 1, at(i + 1), at(-9), at(-9)) for i in range(3000)])
    async with StoreReader(store, clock=FrozenClock(NOW)) as r:
        for delay in (0, 0, 0.0002, 0.0005, 0.001, 0.002, 0.004):
            task = asyncio.ensure_future(r.poll(force=True))
            await asyncio.sleep(delay)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert await r.poll(force=True) is not None
            assert await r.poll() is None
        add_tasks(store, [("q", "completed", 0, None, at(-9), at(-9))])
        snap = await r.poll()
        assert snap is not None and snap.task_counts == {"completed": 1, "pending": 3000}
        # The reader holds no snapshot open: a full checkpoint can reset the WAL.
        conn = sqlite3.connect(store)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
        finally:
            conn.close()


async def test_a_directory_in_place_of_the_store(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    path.mkdir()
    async with StoreReader(path, clock=FrozenClock(NOW)) as r:
        snap = await r.poll()
        assert snap is not None and not snap.health.readable
        assert snap.health.message == "cannot read store: not a regular file"
        assert await r.integrity() == (False, "cannot read store: not a regular file")
        with pytest.raises(StoreError, match="not a regular file"):
            await r.tasks()
