"""Retry and purge of dead letters: exact effects, audit rows, refusals, rollback on a fault."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oos_tui.actions.dead_letter import (
    DeadLetterFilter,
    purge_matching,
    retry_matching,
    retry_one,
    summarize,
)
from oos_tui.models import ActionResult
from oos_tui.store.reader import StoreReader

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import actions_support as support

sys.path.pop(0)

NOW_TS = 1759111200.0  # 2025-09-29T02:00:00Z
NOW_ISO = "2025-09-29T02:00:00.000Z"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return support.seed(tmp_path / "data" / "oos.db")


class Boom(RuntimeError):
    pass


async def _boom() -> None:
    raise Boom("injected fault between DELETE and UPDATE")


# ------------------------------------------------------------------ filter


def test_filter_describe_and_json() -> None:
    assert DeadLetterFilter().describe() == "all"
    assert DeadLetterFilter().is_empty
    assert DeadLetterFilter(error="").is_empty
    flt = DeadLetterFilter(queue="asr", task_type="transcribe", error="timeout")
    assert flt.describe() == "queue=asr,type=transcribe,error=timeout"
    assert flt.matching() == "matching queue=asr,type=transcribe,error=timeout"
    assert DeadLetterFilter().matching() == "(no filter: every row)"
    many = DeadLetterFilter(ids=[9, 3, 3, 1, 2, 5, 7, 8])
    assert many.ids == (1, 2, 3, 5, 7, 8, 9)
    assert many.describe() == "ids=1,2,3,5,7,…(+2)"
    assert many.to_json()["ids"] == [1, 2, 3, 5, 7, 8, 9]


async def test_filter_matches_agrees_with_the_reader(db: Path) -> None:
    filters = [
        DeadLetterFilter(),
        DeadLetterFilter(queue="asr"),
        DeadLetterFilter(task_type="fetch"),
        DeadLetterFilter(error="http 503"),
        DeadLetterFilter(error="TRACEBACK"),
        DeadLetterFilter(queue="asr", error="timeout"),
        DeadLetterFilter(ids=(2, 4, 99)),
        DeadLetterFilter(queue="ingest", ids=(1, 4)),
    ]
    async with StoreReader(db) as reader:
        everything = await reader.dead_letters()
        for flt in filters:
            listed = await reader.dead_letters(
                queue=flt.queue, task_type=flt.task_type, error=flt.error, ids=flt.ids
            )
            assert {r.id for r in listed} == {r.id for r in everything if flt.matches(r)}, flt


# --------------------------------------------------------------- retry_one


async def test_retry_one_exact_effect_and_audit(db: Path) -> None:
    before = support.dump(db)
    dead_before = support.row_dict(db, "dead_letter", "id", 2)
    task_before = support.row_dict(db, "tasks", "id", 2)
    res = await retry_one(db, 2, operator="alice@10.0.0.9", clock_now=NOW_TS)
    assert res.ok, res.message
    assert (res.action, res.target, res.outcome) == ("retry", "dead_letter:2", "ok")
    assert res.message == "retried dead letter 2: task 2 is pending again"
    after = support.dump(db)

    assert after["dead_letter"] == [r for r in before["dead_letter"] if r[0] != 2]
    task_after = support.row_dict(db, "tasks", "id", 2)
    assert task_before is not None and task_after is not None
    expected = dict(task_before)
    expected.update(status="pending", attempts=0, next_attempt_at=NOW_ISO, updated_at=NOW_ISO)
    assert task_after == expected
    assert [r for r in after["tasks"] if r[0] != 2] == [r for r in before["tasks"] if r[0] != 2]
    assert after["circuit_breakers"] == before["circuit_breakers"]
    assert after["events"] == before["events"]

    (audit,) = support.audit_rows(db)
    assert audit["id"] == res.audit_id
    assert (audit["operator"], audit["action"], audit["target"], audit["outcome"]) == (
        "alice@10.0.0.9",
        "retry",
        "dead_letter:2",
        "ok",
    )
    assert audit["detail"]["rows"] == [dead_before]
    assert audit["detail"]["task_before"] == task_before
    assert audit["detail"]["result"] == res.message
    assert res.detail["rows"] == [dead_before]


async def test_retry_one_twice_is_already_retried(db: Path) -> None:
    assert (await retry_one(db, 1)).ok
    before = support.dump(db)
    again = await retry_one(db, 1)
    assert again.outcome == "refused"
    assert again.message == "dead letter 1 was already retried (or purged)"
    assert support.dump(db) == before
    assert [a["outcome"] for a in support.audit_rows(db)] == ["ok", "refused"]


async def test_retry_one_refuses_a_missing_task(db: Path) -> None:
    con = support.connect(db)
    con.execute("DELETE FROM tasks WHERE id = 3")
    con.close()
    before = support.dump(db)
    res = await retry_one(db, 3)
    assert res.outcome == "refused"
    assert res.message == "task 3 of dead letter 3 no longer exists: nothing changed"
    assert support.dump(db) == before
    assert support.audit_rows(db)[-1]["outcome"] == "refused"


@pytest.mark.parametrize("status", ["pending", "processing", "completed"])
async def test_retry_one_refuses_a_task_not_failed(db: Path, status: str) -> None:
    con = support.connect(db)
    con.execute("UPDATE tasks SET status = ? WHERE id = 4", (status,))
    con.close()
    before = support.dump(db)
    res = await retry_one(db, 4)
    assert res.outcome == "refused"
    assert res.message == f"task 4 of dead letter 4 is {status}, not failed: nothing changed"
    assert support.dump(db) == before


async def test_fault_between_statements_leaves_the_store_unchanged(db: Path) -> None:
    before = support.dump(db)
    res = await retry_one(db, 1, _between=_boom)
    assert res.outcome == "error"
    assert "injected fault" in res.message and "nothing changed" in res.message
    assert support.dump(db) == before
    (audit,) = support.audit_rows(db)
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "retry",
        "dead_letter:1",
        "error",
    )
    assert "injected fault" in audit["detail"]["error"]
    assert audit["id"] == res.audit_id


async def test_read_only_opens_nothing(db: Path) -> None:
    before_bytes = db.read_bytes()
    wal = Path(f"{db}-wal")
    wal_before = wal.read_bytes() if wal.exists() else None
    res = await retry_one(db, 1, read_only=True)
    assert res.outcome == "refused" and "read-only" in res.message
    assert db.read_bytes() == before_bytes
    assert (wal.read_bytes() if wal.exists() else None) == wal_before
    results = await retry_matching(db, DeadLetterFilter(), expected_count=5, read_only=True)
    assert [r.outcome for r in results] == ["refused"]
    results = await purge_matching(db, DeadLetterFilter(), expected_count=5, read_only=True)
    assert [r.outcome for r in results] == ["refused"]
    assert support.audit_rows(db) == []


async def test_newer_schema_is_refused(db: Path) -> None:
    con = support.connect(db)
    con.execute("PRAGMA user_version = 2")
    con.close()
    before = support.dump(db)
    res = await retry_one(db, 1)
    assert res.outcome == "refused" and "newer" in res.message
    (res2,) = await purge_matching(db, DeadLetterFilter(), expected_count=5)
    assert res2.outcome == "refused" and "newer" in res2.message
    assert support.dump(db) == before


async def test_missing_store_is_refused(tmp_path: Path) -> None:
    res = await retry_one(tmp_path / "nope.db", 1)
    assert res.outcome == "refused" and "no store" in res.message
    assert not (tmp_path / "nope.db").exists()


async def test_busy_store_waits_then_refuses(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(support.HERE), "hold", str(db), "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        before = support.dump(db)
        started = time.monotonic()
        res = await retry_one(db, 1, busy_timeout=0.5)
        waited = time.monotonic() - started
        results = await retry_matching(
            db, DeadLetterFilter(queue="asr"), expected_count=3, busy_timeout=0.3
        )
    finally:
        proc.wait(timeout=10)
    assert res.outcome == "refused"
    assert res.message == "store busy (the producer holds the write lock): nothing changed"
    assert 0.4 <= waited < 3.5
    assert [r.outcome for r in results] == ["refused"]
    assert results[0].target == "dead_letter:queue=asr"
    assert support.dump(db) == before
    assert support.audit_rows(db) == []


async def test_busy_store_then_free_succeeds_within_the_wait(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(support.HERE), "hold", str(db), "0.8"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        res = await retry_one(db, 1, busy_timeout=5.0)
    finally:
        proc.wait(timeout=10)
    assert res.ok, res.message


# ----------------------------------------------------------- retry_matching


async def test_retry_matching_one_transaction_one_audit_row(db: Path) -> None:
    before = support.dump(db)
    flt = DeadLetterFilter(queue="asr", error="503")
    rows_before = [support.row_dict(db, "dead_letter", "id", i) for i in (1, 2)]
    tasks_before = [support.row_dict(db, "tasks", "id", i) for i in (1, 2)]
    results = await retry_matching(db, flt, expected_count=2, operator="bob", clock_now=NOW_TS)
    assert [(r.target, r.outcome) for r in results] == [
        ("dead_letter:1", "ok"),
        ("dead_letter:2", "ok"),
    ]
    assert {r.action for r in results} == {"retry_all"}
    assert len({r.audit_id for r in results}) == 1
    assert results[0].detail["row"] == rows_before[0]
    assert results[0].detail["task_before"] == tasks_before[0]
    assert results[0].detail["bulk_target"] == "dead_letter:queue=asr,error=503"

    after = support.dump(db)
    assert after["dead_letter"] == [r for r in before["dead_letter"] if r[0] not in (1, 2)]
    for task in tasks_before:
        assert task is not None
        now = support.row_dict(db, "tasks", "id", task["id"])
        expected = dict(task)
        expected.update(status="pending", attempts=0, next_attempt_at=NOW_ISO, updated_at=NOW_ISO)
        assert now == expected
    untouched = [r for r in before["tasks"] if r[0] not in (1, 2)]
    assert [r for r in after["tasks"] if r[0] not in (1, 2)] == untouched

    (audit,) = support.audit_rows(db)
    assert (audit["operator"], audit["action"], audit["target"], audit["outcome"]) == (
        "bob",
        "retry_all",
        "dead_letter:queue=asr,error=503",
        "ok",
    )
    assert audit["detail"]["rows"] == rows_before
    assert audit["detail"]["tasks_before"] == tasks_before
    assert audit["detail"]["count"] == 2
    assert audit["detail"]["filter"] == {
        "queue": "asr",
        "task_type": None,
        "error": "503",
        "ids": None,
    }
    assert summarize(results) == "retried 2 dead letters"


async def test_retry_matching_refuses_when_the_count_changed(db: Path) -> None:
    before = support.dump(db)
    results = await retry_matching(db, DeadLetterFilter(queue="asr"), expected_count=2)
    assert [r.outcome for r in results] == ["refused"] * 3
    assert [r.target for r in results] == [f"dead_letter:{i}" for i in (1, 2, 3)]
    assert results[0].message == "3 rows match now, you confirmed 2: nothing changed"
    assert support.dump(db) == before
    (audit,) = support.audit_rows(db)
    assert audit["outcome"] == "refused" and audit["detail"]["expected_count"] == 2
    assert summarize(results) == (
        "retry_all refused: 3 rows match now, you confirmed 2: nothing changed"
    )


async def test_retry_matching_with_pinned_ids_ignores_newcomers(db: Path) -> None:
    flt = DeadLetterFilter(queue="asr", ids=(1, 2))
    con = support.connect(db)
    con.execute(
        "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error,"
        " failed_at) VALUES (50, 'asr', 'transcribe', '{}', 1, 'late', ?)",
        (NOW_ISO,),
    )
    con.close()
    results = await retry_matching(db, flt, expected_count=2)
    assert [r.outcome for r in results] == ["ok", "ok"]
    assert support.row_dict(db, "dead_letter", "error", "late") is not None


async def test_retry_matching_is_all_or_nothing(db: Path) -> None:
    con = support.connect(db)
    con.execute("UPDATE tasks SET status = 'processing' WHERE id = 2")
    con.close()
    before = support.dump(db)
    results = await retry_matching(db, DeadLetterFilter(queue="asr"), expected_count=3)
    assert {r.outcome for r in results} == {"refused"}
    assert (
        results[0].message == "task 2 of dead letter 2 is processing, not failed: nothing changed"
    )
    assert support.dump(db) == before


async def test_retry_matching_nothing_matches(db: Path) -> None:
    results = await retry_matching(db, DeadLetterFilter(queue="nope"), expected_count=None)
    assert len(results) == 1
    assert results[0].outcome == "refused"
    assert results[0].target == "dead_letter:queue=nope"
    assert results[0].message == "no dead letters matching queue=nope: nothing changed"


async def test_retry_matching_fault_rolls_back_everything(db: Path) -> None:
    before = support.dump(db)
    results = await retry_matching(db, DeadLetterFilter(), expected_count=5, _between=_boom)
    assert [r.outcome for r in results] == ["error"] * 5
    assert all("injected fault" in r.message for r in results)
    assert support.dump(db) == before
    (audit,) = support.audit_rows(db)
    assert audit["outcome"] == "error" and audit["action"] == "retry_all"


async def test_two_dead_letters_of_one_task(db: Path) -> None:
    con = support.connect(db)
    con.execute(
        "INSERT INTO dead_letter (id, task_id, queue, task_type, payload, attempts, error,"
        " failed_at) VALUES (77, 1, 'asr', 'transcribe', '{}', 10, 'again', ?)",
        (NOW_ISO,),
    )
    con.close()
    results = await retry_matching(db, DeadLetterFilter(ids=(1, 77)), expected_count=2)
    assert [r.outcome for r in results] == ["ok", "ok"]
    assert support.row_dict(db, "tasks", "id", 1)["status"] == "pending"  # type: ignore[index]


# ------------------------------------------------------------------- purge


async def test_purge_deletes_rows_and_keeps_them_in_the_audit(db: Path) -> None:
    before = support.dump(db)
    rows_before = [support.row_dict(db, "dead_letter", "id", i) for i in (4, 5)]
    results = await purge_matching(db, DeadLetterFilter(queue="ingest"), expected_count=2)
    assert [(r.action, r.target, r.outcome) for r in results] == [
        ("purge", "dead_letter:4", "ok"),
        ("purge", "dead_letter:5", "ok"),
    ]
    assert results[0].message == "purged dead letter 4 (task 4 stays failed)"
    after = support.dump(db)
    assert after["dead_letter"] == [r for r in before["dead_letter"] if r[0] not in (4, 5)]
    assert after["tasks"] == before["tasks"]  # the tasks stay failed
    (audit,) = support.audit_rows(db)
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "purge",
        "dead_letter:queue=ingest",
        "ok",
    )
    assert audit["detail"]["rows"] == rows_before
    assert summarize(results) == "purged 2 dead letters"


async def test_purge_count_mismatch_and_fault(db: Path) -> None:
    before = support.dump(db)
    results = await purge_matching(db, DeadLetterFilter(), expected_count=4)
    assert {r.outcome for r in results} == {"refused"}
    assert results[0].message == "5 rows match now, you confirmed 4: nothing changed"
    results = await purge_matching(db, DeadLetterFilter(), expected_count=5, _between=_boom)
    assert {r.outcome for r in results} == {"error"}
    assert support.dump(db) == before
    assert [a["outcome"] for a in support.audit_rows(db)] == ["refused", "error"]


# --------------------------------------------------------------- summarize


def test_summarize_mixed_results() -> None:
    ok = ActionResult("retry", "dead_letter:1", "ok", "retried dead letter 1: task 1 is …")
    gone = ActionResult("retry", "dead_letter:2", "refused", "dead letter 2 was already …")
    assert summarize([]) == "nothing done"
    assert summarize([ok]) == ok.message
    assert summarize([gone]) == f"retry refused: {gone.message}"
    assert summarize([ok, gone]) == (
        f"1 ok, 1 refused; first problem: dead_letter:2: {gone.message}"
    )


async def test_whole_row_survives_odd_values(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("UPDATE dead_letter SET payload = 'not json', error = 'x\ny' WHERE id = 5")
    con.commit()
    con.close()
    res = await retry_one(db, 5)
    assert res.ok
    audit = support.audit_rows(db)[-1]
    assert audit["detail"]["rows"][0]["payload"] == "not json"
    assert audit["detail"]["rows"][0]["error"] == "x\ny"
