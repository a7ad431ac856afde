"""Poll cost on the benchmark-sized store: 100,000 tasks and 10,000 dead letters."""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from pathlib import Path

import pytest

from oos_tui.clock import FrozenClock
from oos_tui.models import iso
from oos_tui.store.reader import StoreReader
from oos_tui.store.schema import init_store

NOW = 1_800_000_000.0
QUEUES = ("ingest", "transcribe", "summarize", "publish", "notify")


def build_benchmark_store(
    path: Path, *, tasks: int = 100_000, dead: int = 10_000, events: int = 50_000
) -> None:
    """A store shaped like a busy week: mostly completed, some failed, a backlog retrying."""
    rnd = random.Random(7)
    init_store(path)
    task_rows = []
    dead_rows = []
    for i in range(1, tasks + 1):
        queue = rnd.choice(QUEUES)
        created = NOW - rnd.uniform(0, 7 * 86400)
        updated = min(created + rnd.uniform(0, 600), NOW)
        attempts, next_at = 0, None
        if i <= dead:
            status, attempts = "failed", 10
        elif i <= dead + 5000:
            status = "pending"
            if rnd.random() < 0.3:
                attempts, next_at = rnd.randint(1, 9), iso(NOW + rnd.uniform(1, 300))
        elif i <= dead + 6000:
            status = "processing"
        else:
            status = "completed"
            if rnd.random() < 0.05:
                updated = NOW - rnd.uniform(0, 3600)
        payload = json.dumps({"item_id": f"item_{i}"})
        task_rows.append(
            (i, queue, f"{queue}_job", payload, status, 0, attempts, 10, next_at, "w1", None,
             iso(created), iso(updated))
        )  # fmt: skip
        if status == "failed":
            dead_rows.append(
                (i, i, queue, f"{queue}_job", payload, 10, f"Error {rnd.randrange(50)}: boom",
                 "w1", iso(updated))
            )  # fmt: skip
    event_rows = [
        (f"ev-{n}", iso(NOW - (events - n) * 2), "oos", "task", "info", "Task done", "Task done",
         json.dumps({"item_id": f"item_{n}"}), '["oos"]', f"c{n // 5}", "worker", 12, "{}")
        for n in range(events)
    ]  # fmt: skip
    breakers = [
        (f"worker_{n}", "closed", 0, 10, 5, 100, None, None, None, iso(NOW)) for n in range(20)
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO tasks VALUES ({', '.join('?' * 13)})", task_rows)
        conn.executemany(f"INSERT INTO dead_letter VALUES ({', '.join('?' * 9)})", dead_rows)
        conn.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 13)})", event_rows)
        conn.executemany(f"INSERT INTO circuit_breakers VALUES ({', '.join('?' * 10)})", breakers)
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.slow
async def test_poll_costs_on_the_benchmark_store(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    build_benchmark_store(path)
    async with StoreReader(path, clock=FrozenClock(NOW)) as reader:
        started = time.perf_counter()
        first = await reader.poll()
        cold = time.perf_counter() - started
        assert first is not None and first.health.message is None
        assert sum(first.task_counts.values()) == 100_000
        assert first.dead_letter_count == 10_000
        assert len(first.backing_off) == 500

        full = []
        for _ in range(15):
            started = time.perf_counter()
            assert await reader.poll(force=True) is not None
            full.append(time.perf_counter() - started)

        idle = []
        for _ in range(2000):
            started = time.perf_counter()
            assert await reader.poll() is None
            idle.append(time.perf_counter() - started)

    full_ms = statistics.median(full) * 1000
    idle_us = statistics.median(idle) * 1e6
    print(
        f"\nstore poll on 100k tasks / 10k dead letters: cold {cold * 1000:.1f} ms,"
        f" full median {full_ms:.1f} ms (min {min(full) * 1000:.1f}),"
        f" idle median {idle_us:.0f} µs (p95 {sorted(idle)[1900] * 1e6:.0f} µs)"
    )
    assert full_ms < 100
    assert idle_us < 1000
