"""Resetting a breaker (one audited transaction) and the figures the breakers view shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oos_tui.actions.breakers import (
    STATE_LOOK,
    breaker_json,
    format_open_for,
    format_rate,
    format_retry_in,
    open_for,
    reset_breaker,
    retry_in,
    state_look,
    trip_progress,
)
from oos_tui.models import Breaker

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import actions_support as support

sys.path.pop(0)

NOW_TS = 1759111200.0  # 2025-09-29T02:00:00Z
NOW_ISO = "2025-09-29T02:00:00.000Z"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return support.seed(tmp_path / "data" / "oos.db")


def _breaker(**kw: object) -> Breaker:
    base: dict[str, object] = {
        "name": "worker_1",
        "state": "open",
        "consecutive_failures": 10,
        "failure_threshold": 10,
        "total_failures": 14,
        "total_successes": 86,
        "opened_at": NOW_TS - 300,
        "retry_at": NOW_TS + 30,
        "last_error": "HTTP 503\nTraceback …",
        "updated_at": NOW_TS - 1,
    }
    base.update(kw)
    return Breaker(**base)  # type: ignore[arg-type]


# ------------------------------------------------------------------ reset


async def test_reset_exact_effect_and_audit(db: Path) -> None:
    before = support.dump(db)
    row_before = support.row_dict(db, "circuit_breakers", "name", "worker_1")
    res = await reset_breaker(
        db, "worker_1", reason="DNS fixed, INC-42", operator="carol", clock_now=NOW_TS + 5
    )
    assert (res.action, res.target, res.outcome) == ("reset_breaker", "breaker:worker_1", "ok")
    assert res.message == "breaker worker_1 reset: closed (was open, 10 consecutive failures)"
    after = support.dump(db)
    assert after["tasks"] == before["tasks"]
    assert after["dead_letter"] == before["dead_letter"]
    others = [r for r in before["circuit_breakers"] if r[0] != "worker_1"]
    assert [r for r in after["circuit_breakers"] if r[0] != "worker_1"] == others
    row_after = support.row_dict(db, "circuit_breakers", "name", "worker_1")
    assert row_before is not None
    expected = dict(row_before)
    expected.update(
        state="closed",
        consecutive_failures=0,
        opened_at=None,
        retry_at=None,
        updated_at="2025-09-29T02:00:05.000Z",
    )
    assert row_after == expected  # totals and the last error are history and stay
    (audit,) = support.audit_rows(db)
    assert audit["id"] == res.audit_id
    assert (audit["operator"], audit["action"], audit["target"], audit["outcome"]) == (
        "carol",
        "reset_breaker",
        "breaker:worker_1",
        "ok",
    )
    assert audit["detail"]["before"] == row_before
    assert audit["detail"]["reason"] == "DNS fixed, INC-42"


async def test_half_open_and_counting_closed_breakers_are_reset(db: Path) -> None:
    res = await reset_breaker(db, "worker_3")
    assert res.ok and "was half-open" in res.message
    res = await reset_breaker(db, "worker_2")
    assert res.ok and "7 consecutive failures" in res.message
    row = support.row_dict(db, "circuit_breakers", "name", "worker_2")
    assert row is not None and row["consecutive_failures"] == 0


async def test_already_closed_is_refused_and_audited(db: Path) -> None:
    before = support.dump(db)
    res = await reset_breaker(db, "idle", reason="  ")
    assert res.outcome == "refused"
    assert res.message == "breaker idle is already closed: nothing changed"
    assert support.dump(db) == before
    (audit,) = support.audit_rows(db)
    assert audit["outcome"] == "refused" and audit["detail"]["reason"] is None
    assert audit["detail"]["before"]["name"] == "idle"


async def test_unknown_breaker_is_refused(db: Path) -> None:
    before = support.dump(db)
    res = await reset_breaker(db, "nope")
    assert res.outcome == "refused"
    assert res.message == "no breaker named 'nope': nothing changed"
    assert support.dump(db) == before


async def test_read_only_newer_schema_and_missing_store(db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    res = await reset_breaker(db, "worker_1", read_only=True)
    assert res.outcome == "refused" and "read-only" in res.message
    assert db.read_bytes() == before and support.audit_rows(db) == []
    con = support.connect(db)
    con.execute("PRAGMA user_version = 3")
    con.close()
    res = await reset_breaker(db, "worker_1")
    assert res.outcome == "refused" and "newer" in res.message
    assert support.row_dict(db, "circuit_breakers", "name", "worker_1")["state"] == "open"  # type: ignore[index]
    res = await reset_breaker(tmp_path / "none.db", "worker_1")
    assert res.outcome == "refused" and "no store" in res.message


async def test_busy_store_is_refused_after_a_bounded_wait(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(support.HERE), "hold", str(db), "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        res = await reset_breaker(db, "worker_1", busy_timeout=0.3)
    finally:
        proc.wait(timeout=10)
    assert (
        res.outcome == "refused"
        and "store busy" in res.message
        and "nothing changed" in res.message
    )
    assert support.row_dict(db, "circuit_breakers", "name", "worker_1")["state"] == "open"  # type: ignore[index]


# ---------------------------------------------------------------- figures


def test_state_words_and_symbols_match_the_overview() -> None:
    assert STATE_LOOK == {
        "closed": ("closed", "●"),
        "open": ("open", "✕"),
        "half_open": ("half-open", "◐"),
    }
    assert state_look("weird") == ("weird", "?")
    assert state_look("") == ("unknown", "?")


def test_trip_progress_and_rate() -> None:
    assert trip_progress(_breaker(consecutive_failures=7)) == "7/10 consecutive failures"
    assert trip_progress(_breaker(failure_threshold=5, consecutive_failures=0)) == (
        "0/5 consecutive failures"
    )
    assert format_rate(_breaker()) == "14.0%"
    assert format_rate(_breaker(total_failures=0, total_successes=0)) == "-"


def test_open_for_and_retry_in() -> None:
    b = _breaker()
    assert open_for(b, NOW_TS) == 300
    assert retry_in(b, NOW_TS) == 30
    assert format_open_for(b, NOW_TS) == "5m00s"
    assert format_retry_in(b, NOW_TS) == "in 30s"
    assert format_retry_in(b, NOW_TS + 31) == "due"
    assert retry_in(b, NOW_TS + 31) == -1
    half = _breaker(state="half_open", retry_at=None)
    assert open_for(half, NOW_TS) == 300 and retry_in(half, NOW_TS) is None
    closed = _breaker(state="closed", opened_at=None, retry_at=None)
    assert open_for(closed, NOW_TS) is None and format_open_for(closed, NOW_TS) == "-"
    assert format_retry_in(closed, NOW_TS) == "-"
    assert open_for(_breaker(opened_at=NOW_TS + 10), NOW_TS) == 0  # clock skew


def test_breaker_json_shape() -> None:
    obj = breaker_json(_breaker(), NOW_TS)
    assert obj == {
        "name": "worker_1",
        "state": "open",
        "state_word": "open",
        "symbol": "✕",
        "consecutive_failures": 10,
        "failure_threshold": 10,
        "trip_progress": "10/10 consecutive failures",
        "total_failures": 14,
        "total_successes": 86,
        "failure_rate": 0.14,
        "opened_at": "2025-09-29T01:55:00.000Z",
        "open_for_seconds": 300.0,
        "retry_at": "2025-09-29T02:00:30.000Z",
        "retry_in_seconds": 30.0,
        "last_error": "HTTP 503\nTraceback …",
        "last_error_line": "HTTP 503",
        "updated_at": "2025-09-29T01:59:59.000Z",
    }
