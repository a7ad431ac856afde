"""Recent error counts, read backwards from the end of real files, and the backward reader."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

import pytest

from oos_tui.config import Settings, load_settings
from oos_tui.formats import ai, applog, pipe, pylog
from oos_tui.models import iso
from oos_tui.sources.recent import BackwardReader, bucket_counts, recent_errors
from oos_tui.store.schema import init_store

# Real time: the reader skips files whose modification time is long before the window.
NOW = float(int(time.time()))


@pytest.fixture
def ws(tmp_path: Path) -> Settings:
    return load_settings(tmp_path, env={})


def fail(ts: float, item: str = "i") -> bytes:
    return pipe.write_line(ts, "FAIL", "podcast", "Feed", item, {"error": "boom"})


def ok(ts: float, item: str = "i") -> bytes:
    return pipe.write_line(ts, "COMPLETE", "podcast", "Feed", item, {"title": "FAILURE story"})


def minute_ago(minutes: float, seconds: float = 30.0) -> float:
    """A time inside the minute bucket ``minutes`` before the last one."""
    return NOW - 60.0 * minutes - seconds


# ------------------------------------------------------------ bucketing


def test_bucket_counts_boundaries() -> None:
    counts = bucket_counts(
        [NOW - 1, NOW - 59.9, NOW - 60.0, NOW - 3599.0, NOW - 3600.0, NOW - 3601, NOW + 5],
        NOW,
        60,
    )
    assert len(counts) == 60
    assert counts[-1] == 4  # [-60 s, now], and +5 s (a fast producer clock)
    assert counts[0] == 2 and sum(counts) == 6  # -3600 is the window's first instant
    assert bucket_counts([NOW + 3600], NOW, 60) == (0,) * 60


# ------------------------------------------------------------ real files


def test_counts_errors_of_every_source_per_minute(ws: Settings, tmp_path: Path) -> None:
    (tmp_path / "oos.log").write_bytes(
        ok(minute_ago(90))
        + fail(minute_ago(90))  # before the window
        + fail(minute_ago(30))
        + ok(minute_ago(2))
        + fail(minute_ago(0, 10))
        + fail(minute_ago(0, 5))
    )
    (tmp_path / "ai_events.log").write_bytes(
        ai.write_line(minute_ago(1), "error", "system", "svc", {"message": "model failed"})
        + ai.write_line(minute_ago(1), "decision", "ai", "svc", {"message": "no error here"})
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "worker.log").write_bytes(
        applog.write_line(minute_ago(0), "ERROR", "worker", "Task failed")
        + applog.write_line(minute_ago(0), "INFO", "worker", "error budget fine")
        + applog.write_line(minute_ago(5), "CRITICAL", "worker", "down")
    )
    job = tmp_path / "out" / "job1" / "logs"
    job.mkdir(parents=True)
    (job / "99_pipeline_1.log").write_bytes(
        pylog.write_record(minute_ago(3), "ERROR", "stage failed\nTraceback: ValueError: err")
        + pylog.write_record(minute_ago(3), "INFO", "error handled")
    )
    init_store(ws.store_path)
    conn = sqlite3.connect(ws.store_path)
    conn.executemany(
        "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (f"e{i}", stamp, "sys", "t", sev, "x", "", "{}", "[]", None, None, None, "{}")
            for i, (stamp, sev) in enumerate(
                [
                    (iso(minute_ago(4)), "error"),
                    (iso(minute_ago(4)).replace("T", " ").rstrip("Z"), "CRITICAL"),
                    (iso(minute_ago(4)), "warning"),
                    (iso(minute_ago(120)), "error"),
                ]
            )
        ],
    )
    conn.commit()
    conn.close()

    r = recent_errors(ws, NOW)
    counts = r.counts
    assert len(counts) == 60
    assert counts[-1] == 3  # two FAILs and one ERROR app line
    assert counts[-2] == 1  # the ai error event
    assert counts[-4] == 1  # the job log's ERROR record
    assert counts[-5] == 2  # the store's error and critical rows
    assert counts[-6] == 1  # the CRITICAL app line
    assert counts[-31] == 1  # the FAIL half an hour ago
    assert sum(counts) == 9 and r.store_rows == 2 and r.notes == ()
    assert r.last_minute == 3 and r.baseline == pytest.approx(6 / 59)


def test_rotation_inside_the_window_is_read(ws: Settings, tmp_path: Path) -> None:
    (tmp_path / "oos.log.2").write_bytes(fail(minute_ago(200)) * 1000)
    (tmp_path / "oos.log.1").write_bytes(fail(minute_ago(70)) + fail(minute_ago(20)))
    (tmp_path / "oos.log").write_bytes(fail(minute_ago(10)))
    r = recent_errors(ws, NOW, include_store=False)
    assert sum(r.counts) == 2 and r.counts[-21] == 1 and r.counts[-11] == 1
    # oos.log.1 reached back past the window: oos.log.2 was never opened.
    assert r.files == 2


def test_old_files_are_not_opened(ws: Settings, tmp_path: Path) -> None:
    old = tmp_path / "oos.log"
    old.write_bytes(fail(minute_ago(300)))
    os.utime(old, (NOW - 5 * 3600, NOW - 5 * 3600))
    r = recent_errors(ws, NOW, include_store=False)
    assert r.files == 0 and r.bytes_read == 0 and sum(r.counts) == 0


def test_partial_last_line_waits_for_its_newline(ws: Settings, tmp_path: Path) -> None:
    (tmp_path / "oos.log").write_bytes(fail(minute_ago(0)) + fail(minute_ago(0))[:-1])
    assert sum(recent_errors(ws, NOW, include_store=False).counts) == 1
    with open(tmp_path / "oos.log", "ab") as fh:
        fh.write(b"\n")
    assert sum(recent_errors(ws, NOW, include_store=False).counts) == 2


def test_malformed_and_lookalike_lines_are_not_errors(ws: Settings, tmp_path: Path) -> None:
    (tmp_path / "oos.log").write_bytes(
        b"FAIL FAIL FAIL\n"
        + b"not a timestamp|FAIL|p|s|i|{}\n"
        + ok(minute_ago(0))  # "FAILURE" in its data: a candidate that parse() rejects
        + b"\xff\xfe|FAIL|\n"
        + fail(minute_ago(0))
    )
    assert sum(recent_errors(ws, NOW, include_store=False).counts) == 1


def test_huge_file_reads_only_its_tail(ws: Settings, tmp_path: Path) -> None:
    path = tmp_path / "oos.log"
    old = ok(minute_ago(180))
    with open(path, "wb") as fh:
        fh.write(old * 300_000)  # ~22 MB of lines three hours old
        for i in range(120):
            ts = NOW - 3540 + 30 * i
            fh.write(fail(ts) if i % 4 == 0 else ok(ts))
    size = path.stat().st_size
    r = recent_errors(ws, NOW, include_store=False)
    assert sum(r.counts) == 30
    assert r.bytes_read <= 64 * 1024 and size > 20_000_000


def test_store_problems_become_notes(ws: Settings) -> None:
    ws.store_path.parent.mkdir(parents=True)
    ws.store_path.write_bytes(b"not a database" * 500)
    r = recent_errors(ws, NOW)
    assert sum(r.counts) == 0 and any("store" in n for n in r.notes)


def test_store_without_events_table_is_quiet(ws: Settings) -> None:
    ws.store_path.parent.mkdir(parents=True)
    sqlite3.connect(ws.store_path).execute("CREATE TABLE x(a)").connection.close()
    assert recent_errors(ws, NOW).notes == ()


# ------------------------------------------------------- backward reader


def complete_part(data: bytes) -> bytes:
    return data[: data.rfind(b"\n") + 1] if b"\n" in data else b""


@pytest.mark.parametrize("seed", range(40))
def test_backward_reader_yields_exactly_the_complete_lines(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    lines = [b"y" * rnd.choice([0, 1, 7, 80, 3000]) + b"%d" % i for i in range(rnd.randint(0, 80))]
    data = b"\n".join(lines)
    data += rnd.choice([b"", b"\n", b"\npartial", b"\r\n"])
    path = tmp_path / "f.log"
    path.write_bytes(data)
    block = rnd.choice([1, 3, 16, 100, 4096])
    reader = BackwardReader(path, block_size=block, max_line_bytes=10**9)
    regions = list(reader.regions())
    assert all(r.endswith(b"\n") for r in regions)
    assert b"".join(reversed(regions)) == complete_part(data)
    assert reader.bytes_read <= len(data)


def test_backward_reader_drops_overlong_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"first\n" + b"z" * 50_000 + b"\nlast\n")
    reader = BackwardReader(path, block_size=1000, max_line_bytes=10_000)
    got = b"".join(reversed(list(reader.regions())))
    assert got == b"first\nlast\n" and reader.skipped_long == 1


def test_backward_reader_byte_bound(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"line\n" * 10_000)
    reader = BackwardReader(path, block_size=1000, max_bytes=5000)
    list(reader.regions())
    assert reader.truncated and reader.bytes_read == 5000


def test_backward_reader_stops_when_the_caller_stops(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"line\n" * 100_000)
    reader = BackwardReader(path, block_size=4096)
    for _ in reader.regions():
        break
    assert reader.bytes_read == 4096
