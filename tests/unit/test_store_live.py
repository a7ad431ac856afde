"""The reader against a real second process writing (and locking) the store."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oos_tui.clock import FrozenClock
from oos_tui.store.reader import StoreReader, StoreSnapshot
from oos_tui.store.schema import SCHEMA_VERSION, schema_sql
from oos_tui.timeutil import parse_ts

WRITER = Path(__file__).parents[1] / "helpers" / "store_writer.py"
BUSY = "store busy (locked by another process)"


@contextlib.asynccontextmanager
async def writer(db: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(db),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


async def expect(proc: asyncio.subprocess.Process, word: str, timeout: float = 20.0) -> str:
    """Wait for the writer to print a line starting with ``word``."""
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode().strip()
        if not line:
            err = b"" if proc.stderr is None else await proc.stderr.read()
            pytest.fail(f"writer ended before {word!r}: {err.decode()[-2000:]}")
        if line.startswith(word):
            return line


def check_invariants(snap: StoreSnapshot) -> None:
    """What the writer keeps true in every one of its transactions."""
    assert snap.health.message is None, snap.health.message
    for q in snap.queues:
        assert q.failed == q.dead_letters, q
    breakers = {b.name: b for b in snap.breakers}
    assert breakers["writer_txns"].total_successes == snap.latest_event_rowid
    assert breakers["writer_tasks"].total_successes == sum(snap.task_counts.values())
    assert snap.dead_letter_count == snap.task_counts.get("failed", 0)


def figures(snap: StoreSnapshot) -> tuple[object, ...]:
    return (snap.queues, dict(snap.task_counts), snap.breakers, snap.backing_off)


def independent_figures(db: Path, now: float) -> tuple[dict[str, int], dict[str, int]]:
    """Counts by status and completed-in-the-last-hour by queue, computed in Python."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        counts = dict(conn.execute("SELECT status, count(*) FROM tasks GROUP BY status"))
        hour: dict[str, int] = {}
        for queue, updated in conn.execute(
            "SELECT queue, updated_at FROM tasks WHERE status = 'completed'"
        ):
            ts = parse_ts(updated)
            if ts is not None and ts >= now - 3600:
                hour[queue] = hour.get(queue, 0) + 1
        return counts, hour
    finally:
        conn.close()


@pytest.mark.slow
async def test_snapshots_stay_consistent_while_another_process_writes(tmp_path: Path) -> None:
    db = tmp_path / "oos.db"
    clock = FrozenClock(time.time())
    async with writer(db, "--seconds", "3", "--rate", "0") as proc:
        await expect(proc, "READY")
        async with StoreReader(db, clock=clock) as reader:
            snapshots: list[StoreSnapshot] = []
            done = asyncio.ensure_future(expect(proc, "DONE"))
            try:
                while not done.done():
                    snap = await reader.poll()
                    if snap is not None:
                        check_invariants(snap)
                        snapshots.append(snap)
                    await asyncio.sleep(0.005)
                total = int((await done).split()[1])
            finally:
                done.cancel()
            final = await reader.poll(force=True)
            assert final is not None
            check_invariants(final)
            assert final.latest_event_rowid == total
            assert await reader.poll() is None
            assert await reader.poll() is None

            versions = [s.data_version for s in snapshots]
            assert len(snapshots) >= 10
            assert all(a != b for a, b in itertools.pairwise(versions))
            rowids = [s.latest_event_rowid for s in snapshots]
            assert rowids == sorted(rowids) and len(set(rowids)) > len(rowids) // 2
            for a, b in itertools.pairwise(snapshots):
                if a.latest_event_rowid == b.latest_event_rowid:
                    # data_version also moves when the WAL is reset after a checkpoint; the
                    # same last transaction must still give the very same figures.
                    assert figures(a) == figures(b)
            assert any(s.backing_off for s in snapshots)
            assert any(s.dead_letter_count for s in snapshots)

            counts, hour = independent_figures(db, clock.now())
            assert dict(final.task_counts) == counts
            assert {q.queue: q.completed_last_hour for q in final.queues if q.completed} == hour


@pytest.mark.slow
def test_the_invariants_catch_a_read_that_is_not_one_transaction(tmp_path: Path) -> None:
    """Control: reading the same figures outside one transaction does tear."""
    db = tmp_path / "oos.db"

    async def main() -> int:
        torn = 0
        async with writer(db, "--seconds", "2", "--rate", "0") as proc:
            await expect(proc, "READY")
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
            try:
                for _ in range(50):
                    (events,) = conn.execute("SELECT max(rowid) FROM events").fetchone()
                    await asyncio.sleep(0.002)
                    (txns,) = conn.execute(
                        "SELECT total_successes FROM circuit_breakers WHERE name='writer_txns'"
                    ).fetchone()
                    torn += events != txns
            finally:
                conn.close()
        return torn

    assert asyncio.run(main()) > 0


@pytest.mark.slow
async def test_a_wal_store_locked_before_the_reader_connects(tmp_path: Path) -> None:
    db = tmp_path / "oos.db"
    async with writer(db, "--seconds", "4", "--rate", "100", "--lock-seconds", "1.5") as proc:
        await expect(proc, "READY")
        await expect(proc, "LOCKED")
        async with StoreReader(db, clock=FrozenClock(time.time()), busy_timeout_ms=100) as reader:
            started = time.monotonic()
            snap = await reader.poll()
            assert time.monotonic() - started < 1.0  # the busy timeout bounds the wait
            assert snap is not None
            assert snap.health.message == BUSY
            assert snap.health.present and not snap.health.readable
            assert snap.queues == () and snap.data_version is None
            with pytest.raises(Exception, match="store busy"):
                await reader.dead_letters()
            ok, summary = await reader.integrity()
            assert (ok, summary) == (False, BUSY)
            await expect(proc, "UNLOCKED")
            snap = await reader.poll()
            assert snap is not None and snap.health.message is None
            assert snap.health.journal_mode == "wal"
            check_invariants(snap)


@pytest.mark.slow
async def test_a_connected_wal_reader_cannot_be_locked_out(tmp_path: Path) -> None:
    """Every WAL connection holds a shared lock: the writer's exclusive lock fails."""
    db = tmp_path / "oos.db"
    async with writer(db, "--seconds", "0.2", "--rate", "0") as proc:
        await expect(proc, "DONE")
    async with StoreReader(db, clock=FrozenClock(time.time())) as reader:
        assert await reader.poll() is not None
        async with writer(db, "--seconds", "2", "--rate", "100", "--lock-seconds", "1") as proc:
            assert (await expect(proc, "LOCK")).startswith("LOCK-FAILED")
            snap = await reader.poll()
            assert snap is not None and snap.health.message is None


@pytest.mark.slow
async def test_a_locked_rollback_journal_store_keeps_the_previous_figures(tmp_path: Path) -> None:
    db = tmp_path / "oos.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(schema_sql() + f"\nPRAGMA user_version={SCHEMA_VERSION};")
    conn.close()
    async with writer(db, "--seconds", "0.3", "--rate", "0", "--journal", "delete") as proc:
        await expect(proc, "DONE")
    clock = FrozenClock(time.time())
    async with StoreReader(db, clock=clock, busy_timeout_ms=100) as reader:
        good = await reader.poll()
        assert good is not None and good.health.journal_mode == "delete"
        check_invariants(good)
        args = ("--seconds", "3", "--rate", "100", "--lock-seconds", "1.5", "--journal", "delete")
        async with writer(db, *args) as proc:
            await expect(proc, "LOCKED")
            clock.advance(5)
            locked = await reader.poll()
            assert locked is not None
            assert locked.health.message == BUSY and not locked.health.readable
            assert locked.health.schema_version == 1 and locked.health.journal_mode == "delete"
            # The figures (and their time) are the last good ones.
            assert locked.queues == good.queues and locked.task_counts == good.task_counts
            assert locked.taken_at == good.taken_at
            assert locked.data_version == good.data_version
            await expect(proc, "UNLOCKED")
            fresh = await reader.poll()
            assert fresh is not None and fresh.health.message is None
            assert fresh.latest_event_rowid > good.latest_event_rowid
            assert fresh.taken_at == clock.now()
