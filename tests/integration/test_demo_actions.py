"""Operator actions through the real CLI against the real demo producer.

Issue 6: a dead letter retried with ``oos-tui retry`` is taken again by a
worker; issue 7: a breaker reset with ``oos-tui reset-breaker`` lets its
worker resume. Both run while the producer writes the store continuously.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import oos_tui_binary

FAST = ["--rate", "400", "--speed", "50"]


def _query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _wait(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _producer(tmp_path: Path, *flags: str):
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [
            oos_tui_binary(),
            "demo",
            "--headless",
            "-w",
            str(ws),
            "--seed",
            "21",
            *flags,
            "--duration",
            "90",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(lambda: (ws / "data" / "oos.db").exists(), 20, "the store")
        yield ws
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def producer(tmp_path: Path):
    yield from _producer(tmp_path, *FAST)


@pytest.fixture
def slow_producer(tmp_path: Path):
    """Speed 2: an open breaker stays open about 15 s, time enough to reset it."""
    yield from _producer(tmp_path, "--rate", "100", "--speed", "2")


def test_a_dead_letter_retried_with_the_cli_is_taken_again(producer: Path) -> None:
    db = producer / "data" / "oos.db"
    row = _wait(
        lambda: _query(db, "SELECT id, task_id FROM dead_letter ORDER BY id LIMIT 1"),
        40,
        "a dead letter",
    )
    dl_id, task_id = row[0]  # type: ignore[index]
    out = subprocess.run(
        [oos_tui_binary(), "retry", str(dl_id), "-w", str(producer), "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert _query(db, "SELECT count(*) FROM dead_letter WHERE id = ?", (dl_id,)) == [(0,)]
    audit = _query(db, "SELECT action, target, outcome FROM operator_actions")
    assert ("retry", f"dead_letter:{dl_id}", "ok") in audit

    def taken_again() -> bool:
        ((status, attempts),) = _query(
            db, "SELECT status, attempts FROM tasks WHERE id = ?", (task_id,)
        )
        return status != "pending" or attempts > 0

    _wait(taken_again, 40, f"task {task_id} to be taken again by a worker")


def test_a_reset_breaker_lets_its_worker_resume(slow_producer: Path) -> None:
    producer = slow_producer
    db = producer / "data" / "oos.db"
    out = None
    for _attempt in range(3):  # the producer may close it on its own first: take the next one
        name = _wait(
            lambda: _query(db, "SELECT name FROM circuit_breakers WHERE state = 'open' LIMIT 1"),
            60,
            "a breaker to open",
        )[0][0]  # type: ignore[index]
        ((before,),) = _query(
            db,
            "SELECT total_failures + total_successes FROM circuit_breakers WHERE name = ?",
            (name,),
        )
        out = subprocess.run(
            [oos_tui_binary(), "reset-breaker", name, "--reason", "e2e", "-w", str(producer)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if "already closed" not in out.stdout + out.stderr:
            break
    assert out is not None and out.returncode == 0, out.stdout + out.stderr if out else ""
    detail = _query(
        db,
        "SELECT detail FROM operator_actions WHERE action = 'reset_breaker' AND target = ?",
        (f"breaker:{name}",),
    )
    assert detail and '"reason":"e2e"' in detail[-1][0]

    def used_again() -> bool:
        ((calls,),) = _query(
            db,
            "SELECT total_failures + total_successes FROM circuit_breakers WHERE name = ?",
            (name,),
        )
        return calls > before

    _wait(used_again, 40, f"breaker {name}'s worker or dependency to be used again")
