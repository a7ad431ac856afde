"""The demo simulation in-process, tick by tick: contract, operator actions, transactions."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from oos_tui.demo.checks import check_workspace
from oos_tui.demo.metrics import SyntheticMetrics
from oos_tui.demo.options import DemoOptions
from oos_tui.demo.producer import run_producer
from oos_tui.demo.world import World
from oos_tui.formats.base import format_ts

T0 = 1_735_689_600.0  # 2025-01-01T00:00:00Z
RATE = 40.0


class Sim:
    """A world stepped by the test, with a second connection playing the operator."""

    def __init__(self, workspace: Path, seed: int = 11, speed: float = 10.0) -> None:
        self.options = DemoOptions(
            workspace=workspace, seed=seed, rate=RATE, speed=speed, fixed_time=T0, ticks=0
        )
        self.world = World(self.options, T0, SyntheticMetrics(random.Random(seed)))
        self.world.begin()
        self.tick = 0
        self.db = workspace / "data" / "oos.db"

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.world.step(self.tick, self.now)
            self.tick += 1

    def run_until(self, sql: str, limit: int = 4000) -> tuple[object, ...]:
        for _ in range(limit):
            row = self.query(sql)
            if row:
                return row[0]
            self.run(10)
        pytest.fail(f"never true within {limit * 10} ticks: {sql}")

    @property
    def now(self) -> float:
        return T0 + self.tick / RATE

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db, isolation_level=None)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def operator(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        """One operator transaction, as the console's actions run them (CONTRACT §5)."""
        conn = sqlite3.connect(self.db, isolation_level=None, timeout=5)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for sql, params in statements:
                conn.execute(sql, params)
            conn.execute("COMMIT")
        finally:
            conn.close()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    s = Sim(tmp_path / "ws")
    yield s
    s.world.finish()


def test_a_seeded_run_keeps_the_contract_and_shows_every_episode(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    options = DemoOptions(workspace=ws, seed=5, rate=RATE, speed=10.0, fixed_time=T0, ticks=2400)
    summary = run_producer(options)
    assert summary["stopped_by"] == "ticks"
    assert check_workspace(ws) == []
    assert summary["breaker_opened"] >= 2 and summary["breaker_closed"] >= 2
    assert summary["backlog_alerts"] >= 1 and summary["dead_lettered"] >= 1
    assert summary["jobs"]["success"] >= 1 and summary["jobs"]["failed"] >= 1

    conn = sqlite3.connect(ws / "data" / "oos.db")
    # The bad source's breaker opens, goes half-open at retry_at and closes, as one episode.
    rows = conn.execute(
        "SELECT event_type, correlation_id FROM events WHERE source_component = 'dep_feed_badfeed'"
        " ORDER BY timestamp, rowid"
    ).fetchall()
    kinds = [r[0] for r in rows]
    first_close = kinds.index("breaker_closed")
    assert kinds[: first_close + 1][-2:] == ["breaker_half_open", "breaker_closed"]
    assert kinds[0] == "breaker_opened"
    assert len({r[1] for r in rows[: first_close + 1]}) == 1
    # The backfill pushed publish past 1000 pending, and it drained.
    types = {r[0] for r in conn.execute("SELECT event_type FROM events WHERE system = 'publish'")}
    assert {"backfill_started", "queue_backlog", "queue_drained"} <= types
    # One workflow's correlation id crosses the store, oos.log, the app logs and ai_events.
    corr = next(
        d["correlation_id"]
        for line in (ws / "ai_events.log").read_bytes().splitlines()
        if line.endswith(b"}")
        and isinstance(d := orjson.loads(line)["details"], dict)
        and str(d.get("correlation_id", "")).startswith("wf-")
    )
    (count,) = conn.execute(
        "SELECT count(*) FROM events WHERE correlation_id = ?", (corr,)
    ).fetchone()
    conn.close()
    assert count >= 2
    needle = corr.encode()
    assert needle in (ws / "oos.log").read_bytes()
    assert b'"request_id":"' + needle in (ws / "logs" / "worker.log").read_bytes()


def test_dead_letter_and_failed_status_are_one_transaction(sim: Sim) -> None:
    statements: list[str] = []
    sim.world.store.conn.set_trace_callback(statements.append)
    sim.run_until("SELECT id FROM dead_letter")
    sim.world.store.conn.set_trace_callback(None)
    failed_at = next(i for i, s in enumerate(statements) if "SET status = 'failed'" in s)
    insert_at = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO dead_letter"))
    begin_at = max(i for i, s in enumerate(statements[:failed_at]) if s.startswith("BEGIN"))
    between = statements[begin_at:insert_at]
    assert not any(s.startswith(("COMMIT", "ROLLBACK")) for s in between)
    assert failed_at < insert_at


def test_an_operator_retry_is_taken_again_by_a_worker(sim: Sim) -> None:
    dl_id, task_id = sim.run_until("SELECT id, task_id FROM dead_letter ORDER BY id LIMIT 1")
    # The console's clock is not the simulation's: "now" may even lie in its future.
    console_now = "2099-01-01T00:00:00+00:00"
    sim.operator(
        (
            "UPDATE tasks SET status = 'pending', attempts = 0, next_attempt_at = ?,"
            " updated_at = ? WHERE id = ?",
            (console_now, console_now, task_id),
        ),
        ("DELETE FROM dead_letter WHERE id = ?", (dl_id,)),
    )
    status, worker = sim.run_until(
        f"SELECT status, worker_id FROM tasks WHERE id = {int(task_id)}"  # type: ignore[call-overload]
        " AND NOT (status = 'pending' AND attempts = 0)"
    )
    assert status in ("processing", "completed", "failed", "pending")
    assert worker is not None
    assert not sim.query("SELECT 1 FROM dead_letter WHERE id = ?", (dl_id,))


def test_an_open_worker_breaker_stops_its_worker_and_a_reset_resumes_it(sim: Sim) -> None:
    name = "worker_publish_1"
    sim.run(200)
    far = format_ts(sim.now + 86400)
    sim.operator(
        (
            "UPDATE circuit_breakers SET state = 'open', consecutive_failures = 10,"
            " total_failures = total_failures + 10, opened_at = ?, retry_at = ? WHERE name = ?",
            (format_ts(sim.now), far, name),
        )
    )
    sim.run(200)  # the task it held, if any, is finished by now
    stopped_at = format_ts(sim.now)
    sim.run(600)
    taken = sim.query(
        "SELECT count(*) FROM tasks WHERE worker_id = ? AND updated_at > ?", (name, stopped_at)
    )
    assert taken == [(0,)]
    assert sim.query("SELECT state FROM circuit_breakers WHERE name = ?", (name,)) == [("open",)]
    reset_at = format_ts(sim.now)
    sim.operator(
        (
            "UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0,"
            " opened_at = NULL, retry_at = NULL, updated_at = ? WHERE name = ?",
            (reset_at, name),
        )
    )
    sim.run_until(f"SELECT id FROM tasks WHERE worker_id = '{name}' AND updated_at > '{reset_at}'")


def test_a_reused_workspace_continues_and_requeues_orphans(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    first = Sim(ws, seed=2)
    first.run(400)
    first.world.store.close()  # a producer that died: tasks stay "processing"
    first.world.logs.close()
    first.world.jobs.close()
    orphans = first.query("SELECT count(*) FROM tasks WHERE status = 'processing'")[0][0]
    assert orphans
    options = DemoOptions(
        workspace=ws, seed=3, rate=RATE, speed=10.0, fixed_time=T0 + 60, ticks=400
    )
    summary = run_producer(options)
    assert summary["ticks"] == 400
    assert check_workspace(ws) == []
    start = orjson.loads((ws / "ai_events.log").read_bytes().splitlines()[-1])
    assert start["event_type"] == "stop"
    assert b'"requeued_orphans":%d' % orphans in (ws / "ai_events.log").read_bytes()
