"""The action runner: one transaction with its audit row, or nothing at all."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oos_tui.actions.runner import ActionOutcome, Refused, run_action
from oos_tui.store.schema import init_store

HOLD_LOCK = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("UPDATE circuit_breakers SET total_failures = total_failures + 1")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "oos.db"
    init_store(db)
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO circuit_breakers(name, state, consecutive_failures, updated_at) "
        "VALUES ('w1', 'open', 10, '2025-01-01T00:00:00Z')"
    )
    con.commit()
    con.close()
    return db


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def _close_breaker(conn) -> ActionOutcome:
    await conn.execute("UPDATE circuit_breakers SET state='closed' WHERE name='w1'")
    return ActionOutcome("closed w1", {"before": "open"})


async def test_ok_writes_change_and_audit_together(store: Path) -> None:
    res = await run_action(
        store, action="reset_breaker", target="breaker:w1", body=_close_breaker, operator="alice"
    )
    assert res.outcome == "ok" and res.audit_id
    assert _rows(store, "SELECT state FROM circuit_breakers") == [("closed",)]
    audit = _rows(store, "SELECT operator, action, target, outcome, detail FROM operator_actions")
    assert audit[0][:4] == ("alice", "reset_breaker", "breaker:w1", "ok")
    assert '"before":"open"' in audit[0][4]


async def test_read_only_refuses_without_touching_the_store(store: Path) -> None:
    before = store.read_bytes()
    res = await run_action(
        store, action="reset_breaker", target="breaker:w1", body=_close_breaker, read_only=True
    )
    assert res.outcome == "refused" and "read-only" in res.message
    assert store.read_bytes() == before


async def test_missing_store_is_refused(tmp_path: Path) -> None:
    res = await run_action(
        tmp_path / "nope.db", action="retry", target="dead_letter:1", body=_close_breaker
    )
    assert res.outcome == "refused" and "no store" in res.message
    assert not (tmp_path / "nope.db").exists()


async def test_refusal_is_audited_and_changes_nothing(store: Path) -> None:
    async def body(conn) -> ActionOutcome:
        await conn.execute("UPDATE circuit_breakers SET state='closed'")
        raise Refused("already retried", {"why": "gone"})

    res = await run_action(store, action="retry", target="dead_letter:7", body=body)
    assert res.outcome == "refused" and res.message == "already retried"
    assert _rows(store, "SELECT state FROM circuit_breakers") == [("open",)]
    assert _rows(store, "SELECT outcome FROM operator_actions") == [("refused",)]


async def test_failure_mid_action_rolls_back_and_audits_error(store: Path) -> None:
    async def body(conn) -> ActionOutcome:
        await conn.execute("UPDATE circuit_breakers SET state='closed'")
        raise RuntimeError("injected fault between statements")

    res = await run_action(store, action="reset_breaker", target="breaker:w1", body=body)
    assert res.outcome == "error" and "injected fault" in res.message
    assert "nothing changed" in res.message
    assert _rows(store, "SELECT state FROM circuit_breakers") == [("open",)]
    assert _rows(store, "SELECT outcome FROM operator_actions") == [("error",)]


async def test_busy_store_waits_a_bounded_time_then_refuses(store: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store), "4"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        started = time.monotonic()
        res = await run_action(
            store,
            action="reset_breaker",
            target="breaker:w1",
            body=_close_breaker,
            busy_timeout=0.5,
        )
        waited = time.monotonic() - started
    finally:
        proc.wait(timeout=10)
    assert res.outcome == "refused" and "store busy" in res.message
    assert 0.4 <= waited < 3.5
    assert _rows(store, "SELECT state FROM circuit_breakers") == [("open",)]


async def test_newer_schema_is_refused(store: Path) -> None:
    con = sqlite3.connect(store)
    con.execute("PRAGMA user_version = 2")
    con.close()
    res = await run_action(store, action="reset_breaker", target="breaker:w1", body=_close_breaker)
    assert res.outcome == "refused" and "newer" in res.message
    assert _rows(store, "SELECT state FROM circuit_breakers") == [("open",)]
