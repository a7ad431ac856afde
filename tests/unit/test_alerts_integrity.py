"""The inputs the alert engine gathers: integrity records and checks, backups, dead letters."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from oos_tui.alerts import backup_facts, count_dead_letters_since
from oos_tui.clock import FrozenClock
from oos_tui.config import Settings, load_settings
from oos_tui.integrity import (
    INTEGRITY_FILE,
    check_store,
    last_integrity,
    record_integrity,
    run_integrity_check,
    store_health_figures,
)
from oos_tui.models import iso
from oos_tui.store.reader import StoreHealth
from oos_tui.store.schema import init_store

T0 = 1_800_000_000.0


def health(page_count: int | None, freelist_count: int | None) -> StoreHealth:
    return StoreHealth(
        "/ws/data/oos.db", True, True, 1, False, "wal", 4096 * 100, 0, 4096,
        page_count, freelist_count, (), None,
    )  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(tmp_path, env={})


def make_store(settings: Settings, events: int = 0) -> Path:
    path = settings.store_path
    path.parent.mkdir(parents=True, exist_ok=True)
    init_store(path)
    if events:
        row = ("s", "e", "info", "t", "d" * 200, "{}", "[]", None, None, None, "{}")
        conn = sqlite3.connect(path)
        conn.executemany(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((f"id-{i}", iso(T0), *row) for i in range(events)),
        )
        conn.commit()
        conn.close()
    return path


# ---------------------------------------------------------------- records


def test_record_and_read_back(settings: Settings) -> None:
    assert last_integrity(settings) is None
    rec = record_integrity(settings, False, "page 7: btree broken", "quick_check", T0)
    back = last_integrity(settings)
    assert back == rec and back is not None
    assert back.ok is False and back.at == T0 and back.kind == "quick_check"
    stored = json.loads((settings.cache_dir / INTEGRITY_FILE).read_text())
    assert stored == {
        "ok": False,
        "at": iso(T0),
        "detail": "page 7: btree broken",
        "kind": "quick_check",
    }
    record_integrity(settings, True, "ok", "backup", T0 + 5)
    newest = last_integrity(settings)
    assert newest is not None and newest.ok and newest.kind == "backup"
    assert sorted(p.name for p in settings.cache_dir.iterdir()) == [INTEGRITY_FILE]


def test_record_rejects_unknown_kind(settings: Settings) -> None:
    with pytest.raises(ValueError, match="kind"):
        record_integrity(settings, True, "ok", "vacuum", T0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[1, 2]", b'{"ok": "yes", "at": "2027-01-01T00:00:00Z"}', b'{"ok": true}'],
)
def test_corrupt_record_reads_as_unknown(settings: Settings, content: bytes) -> None:
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / INTEGRITY_FILE).write_bytes(content)
    assert last_integrity(settings) is None


def test_unknown_kind_in_file_is_tolerated(settings: Settings) -> None:
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / INTEGRITY_FILE).write_text(
        '{"ok": true, "at": "2027-01-15T08:00:00Z", "detail": 3, "kind": "odd"}'
    )
    rec = last_integrity(settings)
    assert rec is not None and rec.ok and rec.at == T0 and rec.detail == ""


# ----------------------------------------------------------------- checks


def test_quick_check_on_a_good_store_reports_progress(settings: Settings) -> None:
    make_store(settings, events=5000)
    seen: list[float] = []
    ok, detail = run_integrity_check(settings.store_path, seen.append)
    assert (ok, detail) == (True, "ok")
    assert len(seen) >= 3 and seen[-1] == 1.0
    assert seen == sorted(seen) and all(0.0 < f <= 1.0 for f in seen)
    assert max(seen[:-1]) <= 0.99
    full_ok, _ = run_integrity_check(settings.store_path, full=True)
    assert full_ok


def test_check_can_be_cancelled_and_is_not_recorded(settings: Settings) -> None:
    make_store(settings, events=5000)
    record, why = check_store(settings, lambda fraction: fraction > 0.0)
    assert record.detail == "cancelled" and not record.ok and why is not None
    assert last_integrity(settings) is None


def test_check_store_records_the_result(settings: Settings) -> None:
    make_store(settings)
    record, why = check_store(settings, clock=FrozenClock(T0), full=True)
    assert why is None and record.ok and record.kind == "integrity_check" and record.at == T0
    assert last_integrity(settings) == record


def test_check_store_says_when_it_cannot_record(settings: Settings, tmp_path: Path) -> None:
    make_store(settings)
    (tmp_path / ".oos-tui").write_text("a file where the cache directory should be")
    record, why = check_store(settings)
    assert record.ok and why is not None and "cannot record" in why


def test_check_of_a_damaged_store_fails(settings: Settings) -> None:
    path = make_store(settings, events=3000)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:
        for page in (20, 40, 60):
            fh.seek(page * page_size + 8)
            fh.write(b"\xff" * 200)
    ok, detail = run_integrity_check(path)
    assert not ok and detail and detail != "ok"
    record, _ = check_store(settings)
    assert not record.ok and last_integrity(settings) == record


def test_check_of_missing_or_foreign_store(settings: Settings, tmp_path: Path) -> None:
    ok, detail = run_integrity_check(tmp_path / "nope.db")
    assert not ok and "not found" in detail
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 300)
    ok, detail = run_integrity_check(junk)
    assert not ok and "not a database" in detail


def test_store_health_figures_recommend_vacuum_over_a_quarter_free() -> None:
    calm = store_health_figures(health(page_count=100, freelist_count=25), None)
    assert calm.freelist_ratio == 0.25 and not calm.vacuum_recommended and calm.advice is None
    loose = store_health_figures(health(page_count=100, freelist_count=26), None)
    assert loose.vacuum_recommended and "VACUUM" in (loose.advice or "")
    unknown = store_health_figures(health(page_count=None, freelist_count=None), None)
    assert unknown.freelist_ratio is None and not unknown.vacuum_recommended
    assert unknown.to_json()["last_check"] is None


# ---------------------------------------------------------------- backups


def test_backup_facts_counts_backup_files(settings: Settings) -> None:
    settings.backups_dir.mkdir(parents=True)
    for name in ("oos-20270115T080000Z.db", "oos-20270115T020000Z.db", "notes.txt", "x.db"):
        (settings.backups_dir / name).write_bytes(b"x")
    facts = backup_facts(settings)
    assert facts.count == 2 and facts.directory == str(settings.backups_dir)


def test_backup_facts_without_a_backup_module(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "oos_tui.actions.backup", None)
    facts = backup_facts(settings)
    assert not facts.known and facts.count == 0 and "unavailable" in (facts.reason or "")
    assert facts.to_json(T0)["available"] is False


def test_backup_facts_from_the_backup_module(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    fake = types.ModuleType("oos_tui.actions.backup")
    fake.newest_verified_at = lambda s: T0 - 7200  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "oos_tui.actions.backup", fake)
    facts = backup_facts(settings)
    assert facts.known and facts.newest_verified_at == T0 - 7200
    assert facts.to_json(T0)["newest_verified_age_hours"] == 2.0

    def denied(s: Settings) -> float:
        raise PermissionError(13, "Permission denied")

    fake.newest_verified_at = denied  # type: ignore[attr-defined]
    facts = backup_facts(settings)
    assert not facts.known and "Permission denied" in (facts.reason or "")


# ------------------------------------------------------------ dead letters


def test_count_dead_letters_since(settings: Settings) -> None:
    assert count_dead_letters_since(settings.store_path, T0) is None
    path = make_store(settings)
    conn = sqlite3.connect(path)
    stamps = [
        iso(T0 - 3600),  # before the window
        iso(T0 - 599).replace("T", " "),  # a space, no Z
        iso(T0 - 10)[:-1] + "+00:00",
        iso(T0),
    ]
    conn.executemany(
        "INSERT INTO dead_letter(task_id, queue, task_type, payload, attempts, error, failed_at)"
        " VALUES (1, 'q', 't', '{}', 3, 'boom', ?)",
        [(s,) for s in stamps],
    )
    conn.commit()
    conn.close()
    assert count_dead_letters_since(path, T0 - 600) == 3
    assert count_dead_letters_since(path, T0 + 1) == 0


def test_count_dead_letters_without_the_table(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE x(a)").connection.close()
    assert count_dead_letters_since(path, T0) == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"junk" * 1000)
    assert count_dead_letters_since(junk, T0) is None
