"""Dead-letter actions against real second processes: a busy producer, a rival console."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oos_tui.actions.dead_letter import DeadLetterFilter, retry_matching, retry_one
from oos_tui.store.schema import init_store

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import actions_support as support

sys.path.pop(0)

WRITER = Path(__file__).parents[1] / "helpers" / "store_writer.py"
BINARY = str(Path(sys.executable).parent / "oos-tui")


def _events(db: Path) -> int:
    con = support.connect(db)
    try:
        return int(con.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0])
    finally:
        con.close()


def _dead_ids(db: Path) -> list[tuple[int, str]]:
    con = support.connect(db)
    try:
        return con.execute("SELECT id, queue FROM dead_letter ORDER BY id DESC").fetchall()
    finally:
        con.close()


async def test_retries_stay_whole_under_a_writer_committing_continuously(tmp_path: Path) -> None:
    db = tmp_path / "data" / "oos.db"
    init_store(db)
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), "--seconds", "30", "--rate", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        deadline = time.monotonic() + 20
        while len(_dead_ids(db)) < 6 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(_dead_ids(db)) >= 6, "the writer produced no dead letters"
        events_before = _events(db)
        end = time.monotonic() + 4
        rounds = 0
        while time.monotonic() < end or rounds < 4:
            rows = _dead_ids(db)
            if rows:
                results.append(await retry_one(db, rows[0][0]))
                assert support.writer_invariant_problems(db) == []
            rows = _dead_ids(db)
            if rows:
                queue = rows[-1][1]
                ids = tuple(i for i, q in rows if q == queue)
                results += await retry_matching(
                    db, DeadLetterFilter(queue=queue, ids=ids), expected_count=len(ids)
                )
                assert support.writer_invariant_problems(db) == []
            rounds += 1
        # The producer kept committing between and around the actions.
        assert _events(db) > events_before + 100
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode is not None
    assert "Traceback" not in err, err
    assert results and all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert support.writer_invariant_problems(db) == []
    audits = support.audit_rows(db)
    assert {a["outcome"] for a in audits} == {"ok"}
    assert len(audits) == len({r.audit_id for r in results})
    for audit in audits:
        for row in audit["detail"]["rows"]:
            assert set(row) == {
                "id",
                "task_id",
                "queue",
                "task_type",
                "payload",
                "attempts",
                "error",
                "worker_id",
                "failed_at",
            }


@pytest.mark.parametrize("held", [True, False], ids=["both-waiting-on-a-lock", "back-to-back"])
def test_two_consoles_retrying_the_same_row(tmp_path: Path, held: bool) -> None:
    ws = tmp_path / "ws"
    db = support.seed(ws / "data" / "oos.db")
    before_task = support.row_dict(db, "tasks", "id", 3)
    holder = None
    if held:
        # Both retries start while the store is locked, so both are inside
        # BEGIN IMMEDIATE's wait when it frees up: a true race.
        holder = subprocess.Popen(
            [sys.executable, str(support.HERE), "hold", str(db), "1.5"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    cmd = [BINARY, "retry", "3", "--json", "--workspace", str(ws)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    if holder is not None:
        holder.wait(timeout=10)
    results = [json.loads(out) for out, _ in outs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], outs
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["ok", "refused"]
    refused = next(r for r in results if r["outcome"] == "refused")
    assert refused["message"] == "dead letter 3 was already retried (or purged)"
    assert support.row_dict(db, "dead_letter", "id", 3) is None
    after = support.row_dict(db, "tasks", "id", 3)
    assert before_task is not None and after is not None
    assert (after["status"], after["attempts"]) == ("pending", 0)
    assert sorted(a["outcome"] for a in support.audit_rows(db)) == ["ok", "refused"]
