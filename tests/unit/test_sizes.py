"""Workspace sizes: what counts where, the bounded walk of out/, growth rates."""

from __future__ import annotations

from pathlib import Path

import pytest

from oos_tui.config import Settings, load_settings
from oos_tui.sources.sizes import FIELDS, SizeTracker, WorkspaceSizes, measure_sizes


@pytest.fixture
def ws(tmp_path: Path) -> Settings:
    return load_settings(tmp_path, env={})


def write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_empty_workspace(ws: Settings) -> None:
    s = measure_sizes(ws, 100.0)
    assert (s.store, s.wal, s.logs, s.backups, s.out) == (0, 0, 0, 0, 0)
    assert s.ts == 100.0 and s.out_complete and s.total == 0


def test_each_part_is_counted_once(ws: Settings, tmp_path: Path) -> None:
    write(tmp_path / "data" / "oos.db", 4096)
    write(tmp_path / "data" / "oos.db-wal", 1000)
    write(tmp_path / "oos.log", 100)
    write(tmp_path / "oos.log.1", 50)
    write(tmp_path / "ai_events.log", 30)
    write(tmp_path / "ai_events.log.2", 20)
    write(tmp_path / "unrelated.txt", 9999)
    write(tmp_path / "logs" / "worker.log", 7)
    write(tmp_path / "logs" / "worker.2025-09-29T02-00-19.log", 3)
    write(tmp_path / "data" / "backups" / "oos-20270115T080000Z.db", 4000)
    write(tmp_path / "data" / "backups" / "oos-20270115T080000Z.json", 200)
    write(tmp_path / "out" / "job1" / "01_demux" / "audio.wav", 500)
    write(tmp_path / "out" / "job1" / "logs" / "99_pipeline_1.log", 60)
    write(tmp_path / "out" / "job2" / "manifest.json", 40)
    s = measure_sizes(ws)
    assert (s.store, s.wal) == (4096, 1000)
    assert s.logs == 100 + 50 + 30 + 20 + 7 + 3 and s.log_files == 6
    assert s.backups == 4200 and s.backup_files == 2
    assert s.out == 600 and s.out_files == 3 and s.out_complete
    j = s.to_json({"store": 12.5})
    assert j["store"] == {"bytes": 4096, "growth_bps": 12.5}
    assert j["out"]["complete"] is True and j["total_bytes"] == s.total


def test_log_dir_that_is_the_workspace_counts_files_once(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={"LOG_DIR": str(tmp_path)})
    write(tmp_path / "oos.log", 100)
    write(tmp_path / "app.log", 10)
    s = measure_sizes(settings)
    assert s.logs == 110 and s.log_files == 2


def test_out_walk_is_bounded(ws: Settings, tmp_path: Path) -> None:
    for i in range(50):
        write(tmp_path / "out" / f"job{i % 5}" / f"f{i}.bin", 10)
    full = measure_sizes(ws)
    assert full.out == 500 and full.out_files == 50 and full.out_complete
    cut = measure_sizes(ws, max_out_entries=20)
    assert not cut.out_complete and cut.out < 500


def test_out_walk_does_not_follow_symlinks(ws: Settings, tmp_path: Path) -> None:
    write(tmp_path / "out" / "job" / "a.bin", 10)
    (tmp_path / "out" / "job" / "loop").symlink_to(tmp_path / "out")
    (tmp_path / "out" / "big").symlink_to(tmp_path / "data")
    write(tmp_path / "data" / "oos.db", 1000)
    s = measure_sizes(ws)
    assert s.out == 10 and s.out_complete


def sizes(ts: float, **over: int) -> WorkspaceSizes:
    base = dict.fromkeys(FIELDS, 0)
    base.update(over)
    return WorkspaceSizes(ts=ts, **base)


def test_growth_rates() -> None:
    t = SizeTracker(maxlen=5)
    assert t.rate("store") is None and t.latest is None
    t.add(sizes(0, store=1000, logs=500))
    assert t.rate("store") is None
    t.add(sizes(10, store=2000, logs=600))
    assert t.rate("store") == 100.0 and t.rate("logs") == 10.0
    t.add(sizes(20, store=2000, logs=100))  # a rotation
    assert t.rate("logs", samples=2) == -50.0
    assert t.rates()["store"] == 50.0
    t.add(sizes(20, store=9999))  # not newer: ignored
    assert t.latest is not None and t.latest.store == 2000
    for i in range(3, 10):
        t.add(sizes(i * 10, store=2000 + i))
    assert len(t.history()) == 5 and t.history()[0].ts == 50
    with pytest.raises(ValueError, match="unknown size"):
        t.rate("nope")
