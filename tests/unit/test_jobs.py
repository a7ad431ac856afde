"""The jobs scanner: status, timeline, partial and malformed manifests, incremental rescans."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oos_tui.clock import FrozenClock
from oos_tui.config import Settings
from oos_tui.formats.manifest import write_manifest
from oos_tui.formats.pylog import write_record
from oos_tui.models import Stage, StageFile
from oos_tui.sources.jobs import (
    INCOMPLETE,
    JobScanner,
    TimelineEntry,
    derive_status,
    is_stage_dir,
    job_matches,
    load_job,
    parse_timeline_message,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jobs"
T0 = 1_764_252_000.0  # 2025-11-27T14:00:00Z


def settle(root: Path, age: float = 60.0) -> None:
    """Age every mtime under ``root`` so the scanner trusts its cached listings."""
    when = time.time() - age
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), (when, when))
        os.utime(dirpath, (when, when))


def copy_fixture(tmp_path: Path) -> Settings:
    shutil.copytree(FIXTURES / "out", tmp_path / "out")
    settle(tmp_path / "out")
    return Settings(tmp_path)


def manifest(name: str, status: str, t: float, inputs=(), outputs=(), **kw) -> bytes:
    duration = None if status == "running" else kw.pop("duration", 1.0)
    return write_manifest(name, status, t, duration, inputs, outputs, **kw)


def make_job(
    out: Path,
    job: str,
    stages: list[tuple[str, str]],
    *,
    log: list[str] | None = None,
    t: float = T0,
) -> Path:
    """A job directory: stages as (dir name, status or "" for no manifest), a pipeline log."""
    d = out / job
    d.mkdir(parents=True)
    previous = "input/src.bin"
    (d / "input").mkdir()
    (d / "input" / "src.bin").write_bytes(b"s" * 10)
    for i, (name, status) in enumerate(stages):
        sd = d / name
        sd.mkdir()
        output = f"{name}/out.bin"
        (sd / "out.bin").write_bytes(b"o" * 100)
        if status:
            data = manifest(name, status, t + 10 * i, [previous], [output])
            (sd / "manifest.json").write_bytes(data)
        previous = output
    if log is not None:
        (d / "logs").mkdir()
        text = b"".join(write_record(t + i, "INFO", msg) for i, msg in enumerate(log))
        (d / "logs" / "99_pipeline_20251127T140000.log").write_bytes(text)
    return d


# -- the pipeline log's messages ------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind", "stage", "status", "seconds", "error"),
    [
        ("job job-1 started", "job_started", None, None, None, None),
        ("job job-1 finished: success", "job_finished", None, "success", None, None),
        ("job job-1 finished: failed", "job_finished", None, "failed", None, None),
        ("Job job-1 FINISHED: Failed", "job_finished", None, "failed", None, None),
        ("stage 05_asr started", "stage_started", "05_asr", None, None, None),
        ("stage 05_asr finished: success in 12.5s", "stage_finished", "05_asr", "success", 12.5,
         None),
        ("stage 05_asr finished: skipped in 0s", "stage_finished", "05_asr", "skipped", 0.0, None),
        ("stage 05_asr finished in 3s", "stage_finished", "05_asr", None, 3.0, None),
        ("stage '05_asr' finished: success", "stage_finished", "05_asr", "success", None, None),
        ("stage 05_asr failed: CUDA out of memory", "stage_failed", "05_asr", "failed", None,
         "CUDA out of memory"),
        ("stage 05_asr failed", "stage_failed", "05_asr", "failed", None, None),
        ("  stage 05_asr failed: x: y\nTraceback", "stage_failed", "05_asr", "failed", None,
         "x: y"),
        ("loading model weights", "log", None, None, None, None),
        ("stage", "log", None, None, None, None),
        ("job done", "log", None, None, None, None),
        ("the stage 05_asr started", "log", None, None, None, None),
    ],
)  # fmt: skip
def test_timeline_messages(message, kind, stage, status, seconds, error) -> None:
    entry = parse_timeline_message(T0, message, "p.log", 3)
    assert (entry.kind, entry.stage, entry.status, entry.seconds, entry.error) == (
        kind,
        stage,
        status,
        seconds,
        error,
    )
    assert entry.raw_message == message.split("\n")[0]
    assert entry.is_transition == (kind != "log")
    assert entry.to_json()["line"] == 3


def _stage(name: str, status: str) -> Stage:
    return Stage(name, int(name[:2]), name[3:], status)


STARTED = ("job_started", None)


def _t(kind: str, status: str | None = None, ts: float = T0) -> TimelineEntry:
    return TimelineEntry(ts, kind, None, status)


@pytest.mark.parametrize(
    ("statuses", "timeline", "recent", "expected"),
    [
        (["success", "running"], [], False, "running"),
        (["success", "pending"], [], False, "running"),
        (["success", "missing"], [("job_started", None)], False, "running"),
        (["success", "success"], [("job_started", None)], False, "running"),
        ([], [], True, "running"),
        (["missing"], [], True, "running"),
        ([], [], False, INCOMPLETE),
        (["success", "failed", "missing"], [], False, "failed"),
        (["success", "failed", "running"], [], False, "running"),
        (["success", "missing"], [STARTED, ("job_finished", "failed")], False, "failed"),
        (["success", "missing"], [STARTED, ("job_finished", "success")], False, "success"),
        (["success", "skipped"], [], False, "success"),
        (["success", "missing"], [], False, INCOMPLETE),
        (["success", "malformed"], [], False, INCOMPLETE),
        (["success", "failed"], [STARTED, ("job_finished", "success")], False, "failed"),
        # A re-run: the latest verdict counts.
        (
            ["success", "success"],
            [("job_started", None), ("job_finished", "failed"), ("job_started", None),
             ("job_finished", "success")],
            False,
            "success",
        ),
        (
            ["success", "success"],
            [("job_finished", "success"), ("job_started", None)],
            False,
            "running",
        ),
    ],
)  # fmt: skip
def test_derive_status(statuses, timeline, recent, expected) -> None:
    stages = [_stage(f"{i + 1:02d}_s", s) for i, s in enumerate(statuses)]
    entries = [_t(kind, status, T0 + i) for i, (kind, status) in enumerate(timeline)]
    assert derive_status(stages, entries, recent) == expected


def test_is_stage_dir() -> None:
    assert is_stage_dir("01_demux") and is_stage_dir("123_x_y")
    assert not is_stage_dir("logs") and not is_stage_dir("01_") and not is_stage_dir("_x")
    assert not is_stage_dir("٠١_arabic_digits")


# -- the hand-written job trees -------------------------------------------------------


def test_fixture_jobs(tmp_path: Path) -> None:
    settings = copy_fixture(tmp_path)
    snap = JobScanner(settings).scan()
    assert snap.present and snap.errors == ()
    assert [j.id for j in snap.jobs] == [
        "job-c-running",
        "job-b-failed",
        "job-a-success",
        "job-d-broken",
    ]
    a, b, c, d = (
        snap.get(n) for n in ("job-a-success", "job-b-failed", "job-c-running", "job-d-broken")
    )
    assert a and b and c and d

    assert (a.status, a.stages_done, a.stages_total, a.failed_stage) == ("success", 3, 3, None)
    assert a.duration_seconds == pytest.approx(22.0)
    assert a.job.output_bytes == sum(
        (tmp_path / "out" / "job-a-success" / p).stat().st_size
        for p in ("01_demux/audio.wav", "02_asr/segments.json", "03_summary/summary.md")
    )
    asr = a.stage("02_asr")
    assert asr is not None and asr.status == "success" and len(asr.warnings) == 1
    assert asr.resources == {"cpu_percent": 80.1, "memory_mb": 512}
    assert asr.log_path == str(tmp_path / "out" / "job-a-success" / "02_asr" / "stage.log")
    assert a.lineage.problems == ()
    assert [r.path for r in a.lineage.externals] == ["input/podcast.mp3"]
    assert [r.path for r in a.lineage.finals] == ["03_summary/summary.md"]
    assert [e.kind for e in a.timeline] == [
        "job_started",
        *["stage_started", "stage_finished"] * 3,
        "job_finished",
    ]
    assert a.job.pipeline_log and a.job.pipeline_log.endswith("99_pipeline_20251127T140000.log")

    assert (b.status, b.stages_done, b.stages_total, b.failed_stage) == ("failed", 2, 3, "02_asr")
    assert [s.status for s in b.stages] == ["success", "failed", "missing"]
    failed = b.stage("02_asr")
    assert failed is not None and len(failed.errors) == 1 and len(failed.warnings) == 2
    step = next(e for e in b.timeline if e.kind == "stage_failed")
    assert (step.stage, step.error) == ("02_asr", "CUDA out of memory")
    assert all("Traceback" not in e.raw_message for e in b.timeline)  # continuation lines
    assert b.timeline[-1].kind == "job_finished" and b.timeline[-1].status == "failed"

    assert (c.status, c.stages_done, c.stages_total) == ("running", 1, 2)
    assert c.job.finished_at is None and c.duration_seconds is not None

    assert (d.status, d.stages_done, d.stages_total) == (INCOMPLETE, 2, 3)
    broken = d.stage("03_c")
    assert broken is not None and broken.status == "malformed"
    assert broken.manifest_error and "bogus" in broken.manifest_error
    assert sorted(p.kind for p in d.lineage.problems) == ["cycle", "missing", "order"]
    assert d.timeline == () and d.job.pipeline_log is None
    assert d.job.started_at == pytest.approx(T0 - 3600)  # from the stages' own times


def test_detail_json_shape(tmp_path: Path) -> None:
    settings = copy_fixture(tmp_path)
    info = load_job(settings, "job-b-failed")
    assert info is not None
    doc = info.detail_json()
    assert set(doc) == {"job", "stages", "lineage", "timeline"}
    assert doc["job"]["status"] == "failed" and doc["job"]["failed_stage"] == "02_asr"
    assert doc["job"]["started_at"] == "2025-11-27T15:00:00.000Z"
    asr = doc["stages"][1]
    assert asr["status"] == "failed" and asr["error_count"] == 1 and asr["warning_count"] == 2
    assert asr["inputs"] == [
        {
            "path": "01_demux/audio.wav",
            "type": "audio",
            "format": "wav",
            "size_mb": None,
            "size_bytes": 17,
            "exists": True,
            "producer": "01_demux",
            "external": False,
        }
    ]
    assert doc["stages"][2]["status"] == "missing" and doc["stages"][2]["log_path"] is None
    assert set(doc["lineage"]) == {"edges", "externals", "finals", "problems"}
    assert doc["timeline"][0]["kind"] == "job_started"


def test_no_out_dir_is_empty_not_an_error(tmp_path: Path) -> None:
    snap = JobScanner(Settings(tmp_path)).scan()
    assert snap.jobs == () and snap.errors == () and not snap.present
    assert load_job(Settings(tmp_path), "anything") is None


def test_load_job_refuses_paths(tmp_path: Path) -> None:
    settings = copy_fixture(tmp_path)
    (tmp_path / "out" / "a-file").write_text("x")
    for bad in ("", ".", "..", "../out/job-a-success", "job-a-success/01_demux", "a-file", "x\0y"):
        assert load_job(settings, bad) is None, bad
    assert load_job(settings, "job-a-success") is not None


def test_job_matches(tmp_path: Path) -> None:
    snap = JobScanner(copy_fixture(tmp_path)).scan()
    assert [j.id for j in snap.jobs if job_matches(j, "FAILED")] == ["job-b-failed"]
    assert [j.id for j in snap.jobs if job_matches(j, "job asr")] == ["job-b-failed"]
    assert len([j for j in snap.jobs if job_matches(j, "  ")]) == 4


def test_stage_dirs_are_ordered_by_number_then_name(tmp_path: Path) -> None:
    make_job(tmp_path / "out", "j", [("10_ten", "success"), ("2_two", "success"), ("02_a", "")])
    (tmp_path / "out" / "j" / "notes").mkdir()
    (tmp_path / "out" / "j" / "03_file").write_text("not a directory")
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    assert [s.name for s in info.stages] == ["02_a", "2_two", "10_ten"]


# -- being written, staying malformed -------------------------------------------------


def test_partial_manifest_is_retried_then_parsed(tmp_path: Path) -> None:
    clock = FrozenClock(time.time())
    d = make_job(tmp_path / "out", "j", [("01_a", "success"), ("02_b", "")], log=["job j started"])
    scanner = JobScanner(Settings(tmp_path), clock)
    data = manifest("b", "success", T0, ["01_a/out.bin"], ["02_b/out.bin"])
    (d / "02_b" / "manifest.json").write_bytes(data[: len(data) // 2])
    for _ in range(4):
        info = scanner.scan().jobs[0]
        b = info.stage("02_b")
        assert b is not None and b.status == "pending" and b.manifest_error is None
        assert info.status == "running"
        clock.advance(1.0)
    (d / "02_b" / "manifest.json").write_bytes(data)
    info = scanner.scan().jobs[0]
    b = info.stage("02_b")
    assert b is not None and b.status == "success" and b.manifest_error is None
    assert info.stages_done == 2


def test_partial_rewrite_keeps_the_previous_parse(tmp_path: Path) -> None:
    clock = FrozenClock(time.time())
    d = make_job(tmp_path / "out", "j", [("01_a", "running")], log=["job j started"])
    scanner = JobScanner(Settings(tmp_path), clock)
    assert scanner.scan().jobs[0].stages[0].status == "running"
    data = manifest("a", "success", T0, [], ["01_a/out.bin"])
    (d / "01_a" / "manifest.json").write_bytes(data[:10])
    assert scanner.scan().jobs[0].stages[0].status == "running"
    (d / "01_a" / "manifest.json").write_bytes(data)
    assert scanner.scan().jobs[0].stages[0].status == "success"


def test_manifest_that_stays_partial_is_malformed_after_the_grace(tmp_path: Path) -> None:
    clock = FrozenClock(time.time())
    d = make_job(tmp_path / "out", "j", [("01_a", "")])
    (d / "01_a" / "manifest.json").write_bytes(b'{"stage": "a", "status": "succ')
    scanner = JobScanner(Settings(tmp_path), clock, malformed_grace_seconds=5.0)
    assert scanner.scan().jobs[0].stages[0].status == "pending"
    clock.advance(10)
    assert scanner.scan().jobs[0].stages[0].status == "pending"  # one unchanged scan: not yet
    clock.advance(1)
    stage = scanner.scan().jobs[0].stages[0]
    assert stage.status == "malformed"
    assert stage.manifest_error and "unexpected end of data" in stage.manifest_error

    # Two scans in quick succession are not enough either: the time must pass too.
    clock2 = FrozenClock(time.time())
    quick = JobScanner(Settings(tmp_path), clock2, malformed_grace_seconds=5.0)
    for _ in range(5):
        assert quick.scan().jobs[0].stages[0].status == "pending"
    clock2.advance(5)
    assert quick.scan().jobs[0].stages[0].status == "malformed"


def test_malformed_manifest_is_shown_at_once(tmp_path: Path) -> None:
    d = make_job(tmp_path / "out", "j", [("01_a", "")])
    (d / "01_a" / "manifest.json").write_bytes(b'{"stage": "a", "status": "finished"}')
    stage = JobScanner(Settings(tmp_path)).scan().jobs[0].stages[0]
    assert stage.status == "malformed" and "unknown status" in (stage.manifest_error or "")
    (d / "01_a" / "manifest.json").write_bytes(b"[1, 2, 3]\n")
    stage = load_job(Settings(tmp_path), "j").stages[0]  # type: ignore[union-attr]
    assert stage.status == "malformed" and "not a JSON object" in (stage.manifest_error or "")


def test_hostile_files_do_not_hang_or_break_the_scan(tmp_path: Path) -> None:
    d = make_job(tmp_path / "out", "j", [("01_a", ""), ("02_b", "")], log=["job j started"])
    os.mkfifo(d / "01_a" / "manifest.json")
    os.mkfifo(d / "logs" / "00_fifo.log")
    (d / "02_b" / "manifest.json").mkdir()
    (d / "logs" / "98_binary.log").write_bytes(b"\xff\xfe\x00garbage\n" + b"x" * 3_000_000)
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    a, b = info.stages
    assert a.status == "malformed" and "regular file" in (a.manifest_error or "")
    assert b.status == "malformed"
    assert info.timeline[0].kind == "job_started"


# -- pipeline logs: offsets, truncation, re-runs ---------------------------------------


def test_pipeline_log_is_read_incrementally_and_restarted_on_truncation(tmp_path: Path) -> None:
    d = make_job(tmp_path / "out", "j", [("01_a", "running")], log=["job j started"])
    log = d / "logs" / "99_pipeline_20251127T140000.log"
    scanner = JobScanner(Settings(tmp_path))
    assert [e.kind for e in scanner.scan().jobs[0].timeline] == ["job_started"]
    before = scanner.counters.log_bytes
    line = write_record(T0 + 5, "INFO", "stage 01_a started")
    partial = write_record(T0 + 6, "INFO", "stage 01_a fin")[:-1]
    with open(log, "ab") as fh:
        fh.write(line + partial)  # the last line is still being written
    info = scanner.scan().jobs[0]
    assert [e.kind for e in info.timeline] == ["job_started", "stage_started"]
    rest = b"ished: success in 1s\n"
    with open(log, "ab") as fh:
        fh.write(rest)
    info = scanner.scan().jobs[0]
    assert [e.kind for e in info.timeline] == ["job_started", "stage_started", "stage_finished"]
    assert info.timeline[-1].seconds == 1.0
    # From the last complete line on, never from the start: the partial line twice, once whole.
    assert scanner.counters.log_bytes - before == len(line) + 2 * len(partial) + len(rest)

    log.write_bytes(write_record(T0 + 100, "INFO", "job j started"))  # truncated and rewritten
    assert [e.ts for e in scanner.scan().jobs[0].timeline] == [T0 + 100]

    os.replace(log, d / "logs" / "old.log.1")
    log.write_bytes(write_record(T0 + 200, "INFO", "job j finished: failed"))
    info = scanner.scan().jobs[0]
    assert [(e.kind, e.status) for e in info.timeline] == [("job_finished", "failed")]


def test_reruns_merge_pipeline_logs_by_time(tmp_path: Path) -> None:
    d = make_job(
        tmp_path / "out",
        "j",
        [("01_a", "success"), ("02_b", "success")],
        log=["job j started", "stage 02_b failed: boom", "job j finished: failed"],
    )
    second = [
        write_record(T0 + 50, "INFO", "job j started"),
        write_record(T0 + 51, "INFO", "stage 02_b finished: success in 1s"),
        write_record(T0 + 52, "INFO", "job j finished: success"),
    ]
    (d / "logs" / "99_pipeline_20251127T140050.log").write_bytes(b"".join(second))
    # An older run's log written later, with a name that sorts first: merged by time.
    (d / "logs" / "00_pipeline_old.log").write_bytes(
        write_record(T0 - 100, "INFO", "job j started")
    )
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    assert [e.ts for e in info.timeline] == sorted(e.ts for e in info.timeline)
    assert info.timeline[0].ts == T0 - 100
    assert info.status == "success" and info.failed_stage is None
    assert info.job.started_at == T0 + 50 and info.job.finished_at == T0 + 52
    assert info.duration_seconds == pytest.approx(2.0)
    assert len(info.pipeline_logs) == 3


def test_failed_stage_from_the_log_when_no_manifest_says_so(tmp_path: Path) -> None:
    make_job(
        tmp_path / "out",
        "j",
        [("01_a", "success"), ("02_b", "")],
        log=[
            "job j started",
            "stage 02_b started",
            "stage 02_b failed: boom",
            "job j finished: failed",
        ],
    )
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    assert (info.status, info.failed_stage, info.stages_done) == ("failed", "02_b", 1)


# -- sizes, durations, bounds ---------------------------------------------------------


def test_output_sizes_prefer_disk_then_manifest_and_walk_directories(tmp_path: Path) -> None:
    d = tmp_path / "out" / "j"
    (d / "01_a" / "frames" / "sub").mkdir(parents=True)
    for i in range(5):
        (d / "01_a" / "frames" / f"{i}.png").write_bytes(b"p" * 100)
    (d / "01_a" / "frames" / "sub" / "x").write_bytes(b"p" * 50)
    (d / "01_a" / "real.bin").write_bytes(b"r" * 1234)
    outputs = [
        StageFile("01_a/frames/", "images", "png", 99.0),
        StageFile("01_a/real.bin", size_mb=50.0),
        StageFile("01_a/gone.bin", size_mb=2.0),
        StageFile(str(d / "01_a" / "real.bin")),  # the same file by absolute path: once
    ]
    (d / "01_a" / "manifest.json").write_bytes(manifest("a", "success", T0, [], outputs))
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    assert info.job.output_bytes == 550 + 1234 + 2 * 1024 * 1024
    assert info.file_sizes["01_a/frames"] == 550
    assert info.file_sizes["01_a/gone.bin"] is None
    assert [p.path for p in info.lineage.problems] == ["01_a/gone.bin"]


def test_duration_without_a_pipeline_log_is_the_extent_of_the_stages(tmp_path: Path) -> None:
    make_job(tmp_path / "out", "j", [("01_a", "success"), ("02_b", "success")])
    info = JobScanner(Settings(tmp_path)).scan().jobs[0]
    assert info.status == "success"
    assert info.job.started_at == T0 and info.job.finished_at == T0 + 11
    assert info.duration_seconds == pytest.approx(11.0)


def test_running_duration_follows_the_clock(tmp_path: Path) -> None:
    make_job(tmp_path / "out", "j", [("01_a", "running")], log=["job j started"])
    clock = FrozenClock(T0 + 30)
    scanner = JobScanner(Settings(tmp_path), clock)
    assert scanner.scan().jobs[0].duration_seconds == pytest.approx(30)
    clock.advance(15)
    assert scanner.scan().jobs[0].duration_seconds == pytest.approx(45)


def test_max_jobs_keeps_the_most_recently_modified(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for i in range(5):
        make_job(out, f"j{i}", [("01_a", "success")], t=T0 + i)
        when = time.time() - 100 + i
        os.utime(out / f"j{i}", (when, when))
    (out / ".hidden").mkdir()
    snap = JobScanner(Settings(tmp_path), max_jobs=2).scan()
    assert [j.id for j in snap.jobs] == ["j4", "j3"]


def test_vanished_job_and_stage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_job(out, "a", [("01_a", "success"), ("02_b", "success")])
    make_job(out, "b", [("01_a", "success")])
    scanner = JobScanner(Settings(tmp_path))
    assert len(scanner.scan().jobs) == 2
    shutil.rmtree(out / "b")
    shutil.rmtree(out / "a" / "02_b")
    snap = scanner.scan()
    assert [j.id for j in snap.jobs] == ["a"] and snap.jobs[0].stages_total == 1


# -- incremental cost ------------------------------------------------------------------


def test_idle_rescan_reads_nothing_and_reuses_job_objects(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for i in range(40):
        stages = [(f"{k:02d}_s{k}", "success") for k in range(1, 9)]
        make_job(out, f"job-{i:03d}", stages, log=["job started", "job x finished: success"])
    settle(out)
    scanner = JobScanner(Settings(tmp_path))
    first = scanner.scan()
    assert scanner.counters.manifest_reads == 40 * 8
    reads = (scanner.counters.manifest_reads, scanner.counters.log_bytes)
    listings = scanner.counters.dir_listings
    stats = scanner.counters.file_stats
    for _ in range(3):
        again = scanner.scan()
        assert all(a is b for a, b in zip(first.jobs, again.jobs, strict=True))
    assert (scanner.counters.manifest_reads, scanner.counters.log_bytes) == reads
    assert scanner.counters.dir_listings == listings
    assert scanner.counters.file_stats == stats

    # One manifest rewritten: one read, one job rebuilt, the others the same objects.
    target = out / "job-007" / "03_s3" / "manifest.json"
    target.write_bytes(
        manifest("s3", "failed", T0, [], ["03_s3/out.bin"], errors=[{"message": "x"}])
    )
    snap = scanner.scan()
    assert scanner.counters.manifest_reads == reads[0] + 1
    changed = [j.id for j, old in zip(snap.jobs, first.jobs, strict=True) if j is not old]
    assert changed == ["job-007"]
    assert snap.get("job-007").failed_stage == "03_s3"  # type: ignore[union-attr]


# -- a job directory that grows while the console watches ------------------------------

_RANK = {"missing": 0, "pending": 1, "running": 2, "success": 3}


def test_growing_job_watched_by_repeated_scans(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stages = 6
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURES / "grow_job.py"), str(out), "job-grow", str(stages), "0.12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    scanner = JobScanner(Settings(tmp_path), malformed_grace_seconds=5.0)
    seen = []
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            info = scanner.scan().get("job-grow")
            if info is not None:
                seen.append(info)
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err.decode()
    final = scanner.scan().get("job-grow")
    assert final is not None
    seen.append(final)
    assert len(seen) > 20

    last_rank: dict[str, int] = {}
    for before, after in itertools.pairwise(seen):
        assert after.stages_total >= before.stages_total
        assert after.stages_done >= before.stages_done
        assert after.timeline[: len(before.timeline)] == before.timeline
    for info in seen:
        for s in info.stages:
            assert s.status in _RANK, (s.name, s.status, s.manifest_error)
            assert _RANK[s.status] >= last_rank.get(s.name, 0), (s.name, s.status)
            last_rank[s.name] = _RANK[s.status]
    statuses = [info.status for info in seen]
    first_done = statuses.index("success")
    assert set(statuses[:first_done]) == {"running"} and set(statuses[first_done:]) == {"success"}
    assert any(0 < info.stages_done < stages for info in seen)
    assert any(s.status == "running" for info in seen for s in info.stages)

    assert final.status == "success"
    assert final.stages_done == final.stages_total == stages
    names = [f"{i:02d}_step{i}" for i in range(1, stages + 1)]
    assert [s.name for s in final.stages] == names
    assert all(s.status == "success" and s.log_path for s in final.stages)
    assert [(e.producer, e.consumer) for e in final.lineage.edges] == list(
        itertools.pairwise(names)
    )
    assert [r.path for r in final.lineage.externals] == ["input/source.bin"]
    assert [r.path for r in final.lineage.finals] == [f"{names[-1]}/out.bin"]
    assert final.lineage.problems == ()
    assert [e.kind for e in final.timeline] == [
        "job_started",
        *["stage_started", "stage_finished"] * stages,
        "job_finished",
    ]
    assert final.job.output_bytes == sum(1000 * i for i in range(1, stages + 1))
    assert final.duration_seconds is not None and final.duration_seconds > 0
