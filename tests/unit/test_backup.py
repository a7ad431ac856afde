"""Backups: taken under a live writer, checked, named last, retained, listed and verified."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from oos_tui.actions.backup import (
    SIDECAR_FIELDS,
    list_backups,
    newest_verified_at,
    take_backup,
    verify_backup,
)
from oos_tui.clock import FrozenClock
from oos_tui.config import BackupSettings, Settings, load_settings

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import backup_support as support

sys.path.pop(0)

T0 = 1759111200.0  # 2025-09-29T02:00:00Z


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    ws = tmp_path / "ws"
    ws.mkdir()
    support.make_store(ws / "data" / "oos.db", rows=3000)
    return load_settings(ws)


def _backup_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.backups_dir.iterdir() if p.name != ".backup.lock")


async def test_a_backup_is_checked_hashed_named_and_audited(settings: Settings) -> None:
    calls: list[tuple[int, int]] = []
    res = await take_backup(
        settings, progress=lambda r, t: calls.append((r, t)), operator="alice",
        pages_per_step=64, clock=FrozenClock(T0),
    )  # fmt: skip
    assert res.outcome == "ok", res.message
    final = settings.backups_dir / "oos-20250929T020000Z.db"
    assert _backup_files(settings) == [final.name, "oos-20250929T020000Z.json"]
    side = json.loads(final.with_suffix(".json").read_text())
    assert set(SIDECAR_FIELDS) <= side.keys()
    assert side["created_at"] == "2025-09-29T02:00:00.000Z"
    assert side["bytes"] == final.stat().st_size
    assert side["sha256"] == support.hashlib_sha256(final)
    assert side["integrity"] == "ok" and side["operator"] == "alice"
    assert side["source"] == str(settings.store_path)
    assert isinstance(side["duration_ms"], int) and side["verify_ok"] is True
    # Steps with progress: remaining never grows, and ends at 0.
    assert len(calls) > 3 and calls[-1][0] == 0
    assert all(a[0] >= b[0] for a, b in itertools.pairwise(calls))
    # A backup is one self-contained file: no WAL, opens read-only anywhere.
    assert support.rows(final, "PRAGMA journal_mode") == [("delete",)]
    assert support.rows(final, "SELECT count(*) FROM events") == [(3000,)]
    (audit,) = support.audit_rows(settings.store_path)
    assert audit[:3] == ("backup", "store", "ok")
    detail = json.loads(audit[3])
    assert detail["file"] == final.name and detail["sha256"] == side["sha256"]
    assert detail["integrity"] == "ok" and detail["bytes"] == side["bytes"]
    assert res.audit_id == 1 and res.detail["file"] == final.name
    (info,) = list_backups(settings)
    assert info.ok and info.kind == "backup" and info.created_at == T0
    assert newest_verified_at(settings) == T0


async def test_read_only_mode_refuses_and_writes_nothing(settings: Settings) -> None:
    before = settings.store_path.read_bytes()
    res = await take_backup(replace(settings, read_only=True))
    assert res.outcome == "refused" and "read-only" in res.message
    assert not settings.backups_dir.exists()
    assert settings.store_path.read_bytes() == before


async def test_no_store_and_a_newer_schema_are_refused(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    res = await take_backup(s)
    assert res.outcome == "refused" and "no store" in res.message
    support.make_store(s.store_path, rows=10)
    con = sqlite3.connect(s.store_path)
    con.execute("PRAGMA user_version = 2")
    con.close()
    res = await take_backup(s)
    assert res.outcome == "refused" and "newer" in res.message
    assert support.valid_looking(s.backups_dir) == []


async def test_same_second_backups_get_distinct_names(settings: Settings) -> None:
    clock = FrozenClock(T0)
    first = await take_backup(settings, clock=clock)
    second = await take_backup(settings, clock=clock)
    assert first.ok and second.ok
    assert first.detail["file"] == "oos-20250929T020000Z.db"
    assert second.detail["file"] == "oos-20250929T020001Z.db"


async def test_a_backup_under_a_real_concurrent_writer(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    db = support.make_store(ws / "data" / "oos.db", rows=8000)
    s = load_settings(ws)
    proc = subprocess.Popen(
        [sys.executable, str(support.WRITER), str(db), "--seconds", "30", "--rate", "400"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        time.sleep(0.5)
        counter = "SELECT total_successes FROM circuit_breakers WHERE name = 'writer_txns'"
        (committed_before,) = support.rows(db, counter)[0]
        steps: list[int] = []
        res = await take_backup(
            s, progress=lambda r, t: steps.append(r), pages_per_step=64, step_pause=0.005
        )
        (committed_after,) = support.rows(db, counter)[0]
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert res.outcome == "ok", res.message
    assert len(steps) > 20
    assert committed_after > committed_before, "the writer did not write during the backup"
    copy = Path(res.detail["path"])
    assert support.rows(copy, "PRAGMA integrity_check") == [("ok",)]
    (in_copy,) = support.rows(copy, counter)[0]
    assert in_copy >= committed_before
    # One consistent snapshot: the writer's invariants hold in the copy.
    assert support.rows(copy, "SELECT max(rowid) FROM events") == [(in_copy,)]
    assert support.rows(copy, "SELECT count(*) FROM tasks") == support.rows(
        copy, "SELECT total_successes FROM circuit_breakers WHERE name = 'writer_tasks'"
    )
    failed = support.rows(
        copy, "SELECT queue, count(*) FROM tasks WHERE status = 'failed' GROUP BY queue"
    )
    dead = support.rows(copy, "SELECT queue, count(*) FROM dead_letter GROUP BY queue")
    assert failed == dead
    assert verify_backup(copy).ok


async def test_retention_keeps_the_newest_n_and_spares_pre_restore(settings: Settings) -> None:
    s = replace(settings, backup=BackupSettings(retention=3))
    clock = FrozenClock(T0)
    s.backups_dir.mkdir(parents=True)
    (s.backups_dir / "pre-restore-20250101T000000Z.db").write_bytes(b"x")
    (s.backups_dir / "pre-restore-20250101T000000Z.json").write_text("{}")
    (s.backups_dir / "mine.db").write_bytes(b"not a backup")
    results = []
    for _ in range(5):
        results.append(await take_backup(s, clock=clock))
        clock.advance(6 * 3600)
    assert all(r.ok for r in results)
    listed = list_backups(s)
    assert [b.path.name for b in listed if b.kind == "backup"] == [
        "oos-20250930T020000Z.db",
        "oos-20250929T200000Z.db",
        "oos-20250929T140000Z.db",
    ]
    others = {b.path.name: b.kind for b in listed if b.kind != "backup"}
    assert others == {"pre-restore-20250101T000000Z.db": "pre-restore", "mine.db": "other"}
    assert not (s.backups_dir / "oos-20250929T020000Z.json").exists()
    assert results[3].detail["retention"]["deleted"] == ["oos-20250929T020000Z.db"]
    assert results[4].detail["retention"]["deleted"] == ["oos-20250929T080000Z.db"]
    assert (s.backups_dir / "pre-restore-20250101T000000Z.json").exists()


async def test_list_ignores_temporaries_and_flags_bad_sidecars(settings: Settings) -> None:
    res = await take_backup(settings, clock=FrozenClock(T0))
    d = settings.backups_dir
    (d / "oos-20250929T030000Z.db.tmp-0badf00d").write_bytes(b"partial")
    (d / "oos-20250929T030000Z.db.tmp-0badf00d-journal").write_bytes(b"j")
    (d / "oos-20250929T040000Z.json").write_text("{}")  # a sidecar without its .db
    (d / "oos-20250929T050000Z.db").write_bytes(b"no sidecar")
    (d / "oos-20250929T060000Z.db").write_bytes(b"bad sidecar")
    (d / "oos-20250929T060000Z.json").write_text("{not json")
    grown = d / "oos-20250929T070000Z.db"
    grown.write_bytes(Path(res.detail["path"]).read_bytes() + b"extra")
    side = json.loads(Path(res.detail["sidecar"]).read_text())
    side["created_at"] = "2025-09-29T07:00:00Z"
    grown.with_suffix(".json").write_text(json.dumps(side))
    listed = {b.path.name: b for b in list_backups(settings)}
    assert list(listed) == [
        "oos-20250929T070000Z.db",
        "oos-20250929T060000Z.db",
        "oos-20250929T050000Z.db",
        "oos-20250929T020000Z.db",
    ]
    assert listed["oos-20250929T050000Z.db"].problem == "sidecar missing"
    assert not listed["oos-20250929T050000Z.db"].ok
    assert listed["oos-20250929T060000Z.db"].problem.startswith("sidecar unreadable")
    assert listed["oos-20250929T070000Z.db"].problem.startswith("size differs")
    assert listed["oos-20250929T020000Z.db"].ok
    assert newest_verified_at(settings) == T0
    # The next backup sweeps the crashed run's temporaries and the orphan sidecar.
    nxt = await take_backup(settings, clock=FrozenClock(T0 + 86400))
    assert set(nxt.detail["cleaned"]) == {
        "oos-20250929T030000Z.db.tmp-0badf00d",
        "oos-20250929T030000Z.db.tmp-0badf00d-journal",
        "oos-20250929T040000Z.json",
    }
    assert not (d / "oos-20250929T040000Z.json").exists()


async def test_verify_catches_a_flipped_byte_and_records_it(settings: Settings) -> None:
    res = await take_backup(settings, clock=FrozenClock(T0))
    path = Path(res.detail["path"])
    good = verify_backup(path, clock=FrozenClock(T0 + 60))
    assert good.ok and good.recorded and good.sha_ok and good.integrity == "ok"
    assert good.row_counts["events"] == 3000 and good.schema_version == 1
    assert list_backups(settings)[0].verified_at == T0 + 60
    support.flip_byte(path)
    bad = verify_backup(path, clock=FrozenClock(T0 + 120))
    assert not bad.ok and not bad.sha_ok and bad.recorded
    assert any(e.startswith("sha256 mismatch") for e in bad.errors)
    assert "\n" not in bad.message
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["verify_ok"] is False and side["verified_at"] == "2025-09-29T02:01:00.000Z"
    assert side["sha256"] == res.detail["sha256"], "the contract's fields are never rewritten"
    (info,) = list_backups(settings)
    assert not info.ok and info.problem.startswith("last verify failed")
    assert newest_verified_at(settings) is None
    support.flip_byte(path)
    again = verify_backup(path, clock=FrozenClock(T0 + 180))
    assert again.ok and list_backups(settings)[0].ok
    assert list_backups(settings)[0].verified_at == T0 + 180


async def test_verify_catches_a_damaged_page_even_when_the_sha_matches(
    settings: Settings,
) -> None:
    res = await take_backup(settings, clock=FrozenClock(T0))
    path = Path(res.detail["path"])
    support.damage_page(path)
    sidecar = path.with_suffix(".json")
    side = json.loads(sidecar.read_text())
    side["sha256"] = support.hashlib_sha256(path)
    sidecar.write_text(json.dumps(side))
    report = verify_backup(path)
    assert report.sha_ok and not report.ok
    assert report.integrity != "ok" and "\n" not in report.integrity
    assert any(e.startswith("integrity check failed") for e in report.errors)


async def test_verify_without_recording_leaves_the_sidecar_alone(settings: Settings) -> None:
    res = await take_backup(settings)
    sidecar = Path(res.detail["sidecar"])
    before = sidecar.read_bytes()
    report = verify_backup(res.detail["path"], record=False)
    assert report.ok and not report.recorded and "read-only" in (report.note or "")
    assert sidecar.read_bytes() == before
    sidecar.unlink()
    orphan = verify_backup(res.detail["path"])
    assert not orphan.ok and "sidecar missing" in orphan.message


async def test_the_copy_check_feeds_the_integrity_record(settings: Settings) -> None:
    integrity = pytest.importorskip("oos_tui.integrity")
    res = await take_backup(settings, clock=FrozenClock(T0))
    assert res.ok
    record = integrity.last_integrity(settings)
    assert record is not None and record.ok and record.kind == "backup"


# ---------------------------------------------------------------- failures


def _assert_failed_cleanly(settings: Settings, res, words: str) -> None:
    assert res.outcome == "error", res.message
    assert words in res.message and "\n" not in res.message
    assert "no backup kept" in res.message
    assert support.valid_looking(settings.backups_dir) == []
    assert list_backups(settings) == []
    outcomes = [r[2] for r in support.audit_rows(settings.store_path)]
    assert outcomes == ["error"], res.message


async def test_full_disk_on_a_tiny_filesystem(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    support.make_store(ws / "data" / "oos.db", rows=3000)
    s = load_settings(ws)
    with support.tiny_tmpfs(s.backups_dir, "1m") as mounted:
        if not mounted:
            pytest.skip("mount is not allowed here (see the RLIMIT_FSIZE test in test_cli)")
        res = await take_backup(s)
        _assert_failed_cleanly(s, res, "disk full")
        assert os.listdir(s.backups_dir) == [".backup.lock"]


async def test_read_only_backups_directory(settings: Settings) -> None:
    with support.read_only_dir(settings.backups_dir) as how:
        res = await take_backup(settings)
        assert res.outcome == "error", how
        assert any(w in res.message for w in ("read-only", "permission", "cannot write")), how
        _assert_failed_cleanly(settings, res, "")


async def test_backups_directory_that_is_a_file(settings: Settings) -> None:
    settings.backups_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.backups_dir.write_text("a file where the directory should be")
    res = await take_backup(settings)
    assert res.outcome == "error" and "not a directory" in res.message
    assert [r[2] for r in support.audit_rows(settings.store_path)] == ["error"]


async def test_busy_store_fails_after_a_bounded_wait_and_is_audited(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    db = support.make_store(ws / "data" / "oos.db", rows=200)
    s = load_settings(ws)
    proc = subprocess.Popen(
        [sys.executable, str(support.WRITER), str(db), "--seconds", "3", "--lock-seconds", "2",
         "--rate", "50"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        assert proc.stdout.readline().strip() == "LOCKED"
        started = time.monotonic()
        res = await take_backup(s, busy_timeout=0.5)
        waited = time.monotonic() - started
    finally:
        proc.wait(timeout=20)
    assert "store busy" in res.message
    assert waited < 8
    _assert_failed_cleanly(s, res, "store busy")


async def test_corrupt_source_fails_the_integrity_check_of_the_copy(settings: Settings) -> None:
    support.damage_page(settings.store_path)
    res = await take_backup(settings)
    _assert_failed_cleanly(settings, res, "integrity check failed on the copy")
    assert res.detail["stage"] == "check" and res.detail["integrity"] != "ok"


async def test_garbage_store_fails_with_one_line(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    s.store_path.parent.mkdir(parents=True)
    s.store_path.write_bytes(os.urandom(16384))
    res = await take_backup(s)
    assert res.outcome == "error" and "not a database" in res.message
    assert "not audited" in res.message
    assert support.valid_looking(s.backups_dir) == []


async def test_cancelling_leaves_nothing_behind(settings: Settings) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(
        take_backup(
            settings, progress=lambda r, t: started.set(), pages_per_step=8, step_pause=0.02
        )
    )
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert support.valid_looking(settings.backups_dir) == []
    (audit,) = support.audit_rows(settings.store_path)
    assert audit[2] == "error" and "cancelled" in audit[3]


def test_a_crash_mid_copy_leaves_only_a_temporary_that_the_next_run_removes(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    support.make_store(ws / "data" / "oos.db", rows=25_000)  # about 30 MB: some 230 slow steps
    s = load_settings(ws)
    proc = subprocess.Popen(
        [sys.executable, str(support.HERE), "crash", str(ws)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "COPYING"
        time.sleep(0.3)
        proc.kill()
    finally:
        proc.wait(timeout=10)
    left = os.listdir(s.backups_dir)
    temps = [n for n in left if ".db.tmp-" in n]
    assert temps, left
    assert not [n for n in left if n.endswith((".db", ".json"))], left
    assert list_backups(s) == [] and newest_verified_at(s) is None
    res = asyncio.run(take_backup(s))
    assert res.ok, res.message
    assert set(temps) <= set(res.detail["cleaned"])
    assert not [n for n in os.listdir(s.backups_dir) if ".tmp-" in n]
