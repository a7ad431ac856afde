"""discover(): every log of a built workspace, grouped with its rotations, in reading order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oos_tui.config import Settings
from oos_tui.sources.discovery import SourceFile, discover, rotation_key, rotations

Row = tuple[str, str, str, int, bool]


def touch(path: Path, mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def rows(ws: Path, found: list[SourceFile]) -> list[Row]:
    out = []
    for f in found:
        try:
            shown = f.path.relative_to(ws).as_posix()
        except ValueError:
            shown = f.path.as_posix()
        out.append((shown, f.format, f.group, f.rotation_rank, f.live))
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def test_missing_workspace_parts_give_an_empty_list(ws: Path, tmp_path: Path) -> None:
    assert discover(Settings(workspace=ws)) == []
    assert discover(Settings(workspace=tmp_path / "nowhere")) == []


def test_full_tree_with_every_rotation_style(ws: Path) -> None:
    # mtimes deliberately disagree with the names: names decide where they can.
    touch(ws / "oos.log")
    touch(ws / "oos.log.1", mtime=1000)
    touch(ws / "oos.log.2", mtime=3000)
    touch(ws / "oos.log.10", mtime=2000)
    touch(ws / "oos.log.1.gz")
    touch(ws / "ai_events.log")
    touch(ws / "ai_events.2025-09-29T02-00-19Z.log", mtime=1000)
    touch(ws / "ai_events.log.20250928T020019Z.log", mtime=5000)
    touch(ws / "notes.txt")
    logs = ws / "logs"
    touch(logs / "worker.log")
    touch(logs / "worker.2025-09-29T10-00-00.log", mtime=1000)
    touch(logs / "worker.2025-09-28T10-00-00.log", mtime=9000)
    touch(logs / "worker.2025-09-28.log", mtime=500)
    touch(logs / "worker.log.1", mtime=100)
    touch(logs / "api.log")
    touch(logs / "api.1.log")
    touch(logs / "collector.20250929_101500.log")
    touch(logs / "readme.md")
    touch(ws / "out/job-1/logs/99_pipeline_20251127_140915.log")
    touch(ws / "out/job-1/05_asr/stage.log")
    touch(ws / "out/job-1/05_asr/segments.json")
    touch(ws / "out/job-2/01_demux/stage.log")
    touch(ws / "out/job-2/01_demux/stage.log.1")
    touch(ws / "out/stray.log")

    assert rows(ws, discover(Settings(workspace=ws))) == [
        ("ai_events.log.20250928T020019Z.log", "ai", "ai_events.log", 2, False),
        ("ai_events.2025-09-29T02-00-19Z.log", "ai", "ai_events.log", 1, False),
        ("ai_events.log", "ai", "ai_events.log", 0, True),
        ("logs/api.1.log", "app", "logs/api.1.log", 0, True),
        ("logs/api.log", "app", "logs/api.log", 0, True),
        ("logs/collector.20250929_101500.log", "app", "logs/collector.log", 1, False),
        # worker.log.1 (older by mtime) against the stamped ones: merged by mtime.
        ("logs/worker.log.1", "app", "logs/worker.log", 4, False),
        ("logs/worker.2025-09-28.log", "app", "logs/worker.log", 3, False),
        ("logs/worker.2025-09-28T10-00-00.log", "app", "logs/worker.log", 2, False),
        ("logs/worker.2025-09-29T10-00-00.log", "app", "logs/worker.log", 1, False),
        ("logs/worker.log", "app", "logs/worker.log", 0, True),
        ("oos.log.10", "pipe", "oos.log", 3, False),
        ("oos.log.2", "pipe", "oos.log", 2, False),
        ("oos.log.1", "pipe", "oos.log", 1, False),
        ("oos.log", "pipe", "oos.log", 0, True),
        (
            "out/job-1/05_asr/stage.log",
            "pylog",
            "out/job-1/05_asr/stage.log",
            0,
            True,
        ),
        (
            "out/job-1/logs/99_pipeline_20251127_140915.log",
            "pylog",
            "out/job-1/logs/99_pipeline_20251127_140915.log",
            0,
            True,
        ),
        (
            "out/job-2/01_demux/stage.log",
            "pylog",
            "out/job-2/01_demux/stage.log",
            0,
            True,
        ),
    ]


def test_same_timestamp_digits_fall_back_to_mtime(ws: Path) -> None:
    touch(ws / "oos.log")
    touch(ws / "oos.2025-09-29.log", mtime=2000)
    touch(ws / "oos.20250929.log", mtime=1000)
    assert [p.name for p in rotations(ws / "oos.log")] == ["oos.2025-09-29.log", "oos.20250929.log"]
    touch(ws / "oos.20250929.log", mtime=3000)
    assert [p.name for p in rotations(ws / "oos.log")] == ["oos.20250929.log", "oos.2025-09-29.log"]


def test_rotated_files_without_their_live_file_still_form_a_group(ws: Path) -> None:
    touch(ws / "oos.log.1")
    assert rows(ws, discover(Settings(workspace=ws))) == [
        ("oos.log.1", "pipe", "oos.log", 1, False)
    ]


@pytest.mark.parametrize(
    ("live", "name", "key"),
    [
        ("oos.log", "oos.log.1", (1, None)),
        ("oos.log", "oos.log.123456", (123456, None)),
        ("oos.log", "oos.log.2025-09-29", (None, "20250929".ljust(32, "0"))),
        ("oos.log", "oos.log.2025-09-29T02:00:19Z.log", (None, "20250929020019".ljust(32, "0"))),
        ("oos.log", "oos.2025_09_29_020019.log", (None, "20250929020019".ljust(32, "0"))),
        ("events", "events.20250929.log", (None, "20250929".ljust(32, "0"))),
        ("events.txt", "events.20250929.txt", (None, "20250929".ljust(32, "0"))),
        ("oos.log", "oos.log", None),
        ("oos.log", "oos.log.1.gz", None),
        ("oos.log", "oos.log.2025-09", None),
        ("oos.log", "oos.log.1234567", None),
        ("oos.log", "oos.1.log", None),
        ("oos.log", "oos.2025-09-29.1.log", None),
        ("oos.log", "oos.log.2025-09-29.bak", None),
        ("oos.log", "other.2025-09-29.log", None),
        ("worker.log", "worker.2025.09.29.log", None),
    ],
)
def test_rotation_name_shapes(
    live: str, name: str, key: tuple[int | None, str | None] | None
) -> None:
    assert rotation_key(live, name) == key


def test_log_dir_override_relative_and_absolute(ws: Path, tmp_path: Path) -> None:
    touch(ws / "logs/ignored.log")
    touch(ws / "var/log/app.log")
    touch(ws / "var/log/app.2025-09-29.log")
    found = discover(Settings(workspace=ws, log_dir_override="var/log"))
    assert rows(ws, found) == [
        ("var/log/app.2025-09-29.log", "app", "var/log/app.log", 1, False),
        ("var/log/app.log", "app", "var/log/app.log", 0, True),
    ]
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "svc.log")
    found = discover(Settings(workspace=ws, log_dir_override=str(elsewhere)))
    absolute = (elsewhere / "svc.log").as_posix()
    assert rows(ws, found) == [(absolute, "app", absolute, 0, True)]


def test_log_dir_override_from_the_environment(ws: Path, tmp_path: Path) -> None:
    from oos_tui.config import load_settings

    touch(tmp_path / "envlogs/queue.log")
    settings = load_settings(ws, env={"LOG_DIR": str(tmp_path / "envlogs")})
    assert [f.path.name for f in discover(settings)] == ["queue.log"]


def test_log_dir_that_is_the_workspace_does_not_list_files_twice(ws: Path) -> None:
    touch(ws / "oos.log")
    touch(ws / "oos.log.1")
    touch(ws / "side.log")
    found = discover(Settings(workspace=ws, log_dir_override="."))
    assert rows(ws, found) == [
        ("oos.log.1", "pipe", "oos.log", 1, False),
        ("oos.log", "pipe", "oos.log", 0, True),
        ("side.log", "app", "side.log", 0, True),
    ]


def test_new_files_appear_between_two_calls(ws: Path) -> None:
    settings = Settings(workspace=ws)
    touch(ws / "oos.log")
    assert [f.group for f in discover(settings)] == ["oos.log"]
    os.rename(ws / "oos.log", ws / "oos.log.1")
    touch(ws / "oos.log")
    touch(ws / "logs/worker.log")
    touch(ws / "out/job-9/02_vad/stage.log")
    assert rows(ws, discover(settings)) == [
        ("logs/worker.log", "app", "logs/worker.log", 0, True),
        ("oos.log.1", "pipe", "oos.log", 1, False),
        ("oos.log", "pipe", "oos.log", 0, True),
        ("out/job-9/02_vad/stage.log", "pylog", "out/job-9/02_vad/stage.log", 0, True),
    ]


def test_symlink_loops_and_broken_entries_are_skipped(ws: Path) -> None:
    touch(ws / "out/job-1/05_asr/stage.log")
    (ws / "out/loop").symlink_to(ws / "out")
    (ws / "out/job-1/self").symlink_to(ws / "out/job-1/self")
    (ws / "out/job-1/05_asr/deep").symlink_to(ws / "out/job-1")
    logs = ws / "logs"
    logs.mkdir()
    (logs / "self.log").symlink_to(logs / "self.log")
    (logs / "dangling.log").symlink_to(ws / "nothing-here")
    (logs / "dir.log").mkdir()
    touch(logs / "real.log")
    (logs / "alias.log").symlink_to(logs / "real.log")
    found = rows(ws, discover(Settings(workspace=ws)))
    assert found == [
        ("logs/alias.log", "app", "logs/alias.log", 0, True),
        ("out/job-1/05_asr/stage.log", "pylog", "out/job-1/05_asr/stage.log", 0, True),
    ]


def test_unreadable_directory_is_skipped(ws: Path) -> None:
    touch(ws / "out/job-1/05_asr/stage.log")
    touch(ws / "logs/worker.log")
    (ws / "logs").chmod(0)
    try:
        found = [f.group for f in discover(Settings(workspace=ws))]
    finally:
        (ws / "logs").chmod(0o755)
    if os.geteuid() != 0:
        assert found == ["out/job-1/05_asr/stage.log"]
    else:
        assert "out/job-1/05_asr/stage.log" in found


def test_without_jobs_the_main_logs_only(ws: Path) -> None:
    touch(ws / "oos.log")
    touch(ws / "logs/worker.log")
    touch(ws / "out/job-1/05_asr/stage.log")
    touch(ws / "out/job-1/logs/01_run.log")
    every = rows(ws, discover(Settings(workspace=ws)))
    main = rows(ws, discover(Settings(workspace=ws), jobs=False))
    assert [r[0] for r in main] == ["logs/worker.log", "oos.log"]
    assert main == [r for r in every if not r[0].startswith("out/")]
