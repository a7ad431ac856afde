"""Restore: refuses unless safe, keeps the old store, replaces the file whole, WAL included."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from oos_tui.actions.backup import list_backups, restore_backup, take_backup, verify_backup
from oos_tui.clock import FrozenClock
from oos_tui.config import Settings, load_settings
from oos_tui.store.schema import init_store

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import backup_support as support

sys.path.pop(0)

T0 = 1759111200.0  # 2025-09-29T02:00:00Z

# Commits rows with automatic checkpoints off, then dies without closing: the
# rows live only in the -wal file, as after a producer's crash.
LEAVE_WAL = """
import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint=0")
con.execute("BEGIN")
for i in range(int(sys.argv[2])):
    con.execute(
        "INSERT INTO events VALUES (?, 't', 'wal', 'e', 'info', 'x', 'in the wal', '{}', '[]',"
        " NULL, NULL, 1, '{}')", (f"wal-{i}",))
con.execute("COMMIT")
os._exit(0)
"""

HOLD_OPEN = """
import sqlite3, sys, time
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
con.execute("SELECT count(*) FROM tasks").fetchone()
print("open", flush=True)
time.sleep(float(sys.argv[2]))
"""


def no_producer(settings: Settings) -> list[str]:
    return []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    ws = tmp_path / "ws"
    ws.mkdir()
    support.make_store(ws / "data" / "oos.db", rows=2000)
    return load_settings(ws)


async def _backup(settings: Settings, at: float = T0) -> Path:
    res = await take_backup(settings, clock=FrozenClock(at))
    assert res.ok, res.message
    return Path(res.detail["path"])


def _leave_wal(db: Path, n: int) -> None:
    subprocess.run([sys.executable, "-c", LEAVE_WAL, str(db), str(n)], check=True, timeout=30)
    assert Path(f"{db}-wal").stat().st_size > 0


def _ids(db: Path) -> list[tuple]:
    return support.rows(db, "SELECT id FROM events ORDER BY id")


async def test_restore_replaces_the_store_and_keeps_the_old_one(settings: Settings) -> None:
    db = settings.store_path
    backup = await _backup(settings)
    support.fill(db, 500)
    _leave_wal(db, 100)  # committed rows only in the -wal: they belong to the old store
    res = await restore_backup(
        settings, backup, operator="bob", process_check=no_producer, clock=FrozenClock(T0 + 60)
    )
    assert res.outcome == "ok", res.message
    assert "pre-restore-20250929T020100Z.db" in res.message
    # The store is the backup's data, whole, in WAL mode, with no stale companions.
    assert _ids(db) == _ids(backup)
    assert support.rows(db, "SELECT count(*) FROM events") == [(2000,)]
    assert support.rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert support.rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert not Path(f"{db}-journal").exists()
    assert not list(db.parent.glob("*.restore-tmp*"))
    # Its audit row is in the restored store, the new truth.
    (audit,) = support.audit_rows(db)
    assert audit[:3] == ("backup", f"restore:{backup.name}", "ok")
    assert json.loads(audit[3])["pre_restore"]["file"] == "pre-restore-20250929T020100Z.db"
    assert res.audit_id == 1
    # The old store, WAL rows included, is a verified pre-restore backup.
    pre = settings.backups_dir / "pre-restore-20250929T020100Z.db"
    report = verify_backup(pre)
    assert report.ok and report.row_counts["events"] == 2600
    assert report.row_counts["operator_actions"] == 1  # the first backup's own row
    kinds = {b.path.name: b.kind for b in list_backups(settings)}
    assert kinds[pre.name] == "pre-restore"
    # Undo: restoring the pre-restore backup brings the old store back.
    undo = await restore_backup(settings, pre, process_check=no_producer)
    assert undo.ok, undo.message
    assert support.rows(db, "SELECT count(*) FROM events") == [(2600,)]


async def test_an_unverified_backup_is_refused(settings: Settings) -> None:
    backup = await _backup(settings)
    support.flip_byte(backup)
    support.fill(settings.store_path, 10)
    before = _ids(settings.store_path)
    res = await restore_backup(settings, backup, process_check=no_producer)
    assert res.outcome == "refused" and "does not verify" in res.message
    assert "sha256 mismatch" in res.message and "\n" not in res.message
    assert _ids(settings.store_path) == before
    outcomes = [(r[1], r[2]) for r in support.audit_rows(settings.store_path)]
    assert outcomes == [("store", "ok"), (f"restore:{backup.name}", "refused")]
    assert not list(settings.backups_dir.glob("pre-restore-*"))


async def test_a_running_producer_is_refused(settings: Settings) -> None:
    backup = await _backup(settings)
    res = await restore_backup(
        settings, backup, process_check=lambda s: ["pid 4242: python -m oos_worker --queue asr"]
    )
    assert res.outcome == "refused" and "pid 4242" in res.message
    assert "stop it first" in res.message
    assert [r[2] for r in support.audit_rows(settings.store_path)] == ["ok", "refused"]
    assert not list(settings.backups_dir.glob("pre-restore-*"))


async def test_a_writer_holding_the_store_is_refused(settings: Settings) -> None:
    backup = await _backup(settings)
    db = settings.store_path
    proc = subprocess.Popen(
        [sys.executable, str(support.WRITER), str(db), "--seconds", "30", "--rate", "200"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        res = await restore_backup(settings, backup, process_check=no_producer, busy_timeout=0.5)
        assert proc.poll() is None, "the writer must not notice the attempt"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert res.outcome == "refused" and "in use" in res.message
    assert support.rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert support.rows(db, "SELECT count(*) FROM circuit_breakers WHERE name = 'writer_txns'")
    assert not list(settings.backups_dir.glob("pre-restore-*"))


async def test_a_console_with_the_store_open_is_refused(settings: Settings) -> None:
    backup = await _backup(settings)
    db = settings.store_path
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(db), "20"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        res = await restore_backup(settings, backup, process_check=no_producer, busy_timeout=0.3)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert res.outcome == "refused" and "close every console" in res.message
    assert support.rows(db, "PRAGMA journal_mode") == [("wal",)]


async def test_read_only_mode_and_a_missing_file_are_refused(settings: Settings) -> None:
    backup = await _backup(settings)
    res = await restore_backup(replace(settings, read_only=True), backup)
    assert res.outcome == "refused" and "read-only" in res.message
    res = await restore_backup(settings, backup.with_name("nope.db"), process_check=no_producer)
    assert res.outcome == "refused" and "no backup" in res.message
    res = await restore_backup(settings, settings.store_path, process_check=no_producer)
    assert res.outcome == "refused"


async def test_a_backup_of_a_newer_schema_is_refused(settings: Settings, tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    init_store(newer)
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 7")
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    side = {
        "created_at": "2025-09-29T02:00:00Z",
        "source": "elsewhere",
        "bytes": newer.stat().st_size,
        "sha256": support.hashlib_sha256(newer),
        "integrity": "ok",
        "duration_ms": 1,
        "operator": "x",
    }
    newer.with_suffix(".json").write_bytes(orjson.dumps(side))
    res = await restore_backup(settings, newer, process_check=no_producer)
    assert res.outcome == "refused" and "v7" in res.message


async def test_a_garbage_live_store_is_set_aside_raw(settings: Settings) -> None:
    backup = await _backup(settings)
    garbage = os.urandom(8192)
    settings.store_path.write_bytes(garbage)
    res = await restore_backup(
        settings, backup, process_check=no_producer, clock=FrozenClock(T0 + 60)
    )
    assert res.outcome == "ok", res.message
    raw = settings.backups_dir / "pre-restore-20250929T020100Z.raw"
    assert "set aside" in res.message and str(raw) in res.message
    assert (raw / "oos.db").read_bytes() == garbage
    assert _ids(settings.store_path) == _ids(backup)
    assert all(b.kind != "pre-restore" for b in list_backups(settings))


async def test_a_damaged_live_store_is_set_aside_raw(settings: Settings) -> None:
    backup = await _backup(settings)
    support.damage_page(settings.store_path)
    res = await restore_backup(settings, backup, process_check=no_producer)
    assert res.outcome == "ok", res.message
    assert "damaged" in res.message and ".raw" in res.message
    assert support.rows(settings.store_path, "PRAGMA integrity_check") == [("ok",)]
    assert support.valid_looking(settings.backups_dir) == [
        backup.name,
        backup.with_suffix(".json").name,
    ]


async def test_a_stale_wal_without_its_store_is_never_replayed(settings: Settings) -> None:
    backup = await _backup(settings)
    db = settings.store_path
    _leave_wal(db, 50)
    db.unlink()  # the main file is lost; its -wal and -shm remain
    res = await restore_backup(settings, backup, process_check=no_producer)
    assert res.outcome == "ok", res.message
    assert _ids(db) == _ids(backup)
    assert support.rows(db, "SELECT count(*) FROM events WHERE id LIKE 'wal-%'") == [(0,)]
    (raw,) = settings.backups_dir.glob("pre-restore-*.raw")
    assert (raw / "oos.db-wal").exists()
