"""``oos-tui jobs`` through the real binary: list, detail, JSON shapes, errors, hostile text."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import orjson

from oos_tui.formats.pylog import write_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jobs"
ESC = "\x1b"


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "out", ws / "out")
    return ws


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_help_lists_jobs(run_cli) -> None:
    out = run_cli("--help")
    assert "jobs" in out.stdout
    out = run_cli("jobs", "--help")
    assert out.returncode == 0 and "JOB_ID" in out.stdout and "--filter" in out.stdout


def test_list_text(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    out = run_cli("jobs", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert rows[0].split() == [
        "JOB",
        "STATUS",
        "STAGES",
        "FAILED",
        "AT",
        "DURATION",
        "OUTPUT",
        "STARTED",
    ]
    assert [r.split()[:3] for r in rows[1:]] == [
        ["job-c-running", "running", "1/2"],
        ["job-b-failed", "failed", "2/3"],
        ["job-a-success", "success", "3/3"],
        ["job-d-broken", "incomplete", "2/3"],
    ]
    b = rows[2].split()
    assert b[3] == "02_asr" and b[4] == "7s" and b[-2:] == ["2025-11-27", "15:00:00"]


def test_list_json_filter_and_limit(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    out = run_cli("jobs", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    jobs = lines(out.stdout)
    assert [j["id"] for j in jobs] == [
        "job-c-running",
        "job-b-failed",
        "job-a-success",
        "job-d-broken",
    ]
    assert set(jobs[0]) == {
        "id",
        "status",
        "stages_done",
        "stages_total",
        "failed_stage",
        "duration_seconds",
        "output_bytes",
        "started_at",
        "finished_at",
        "path",
        "pipeline_log",
        "problems",
    }
    a = jobs[2]
    assert a["status"] == "success" and a["duration_seconds"] == 22.0
    assert a["started_at"] == "2025-11-27T14:00:00.000Z" and a["output_bytes"] > 0

    out = run_cli("jobs", "--json", "--filter", "fail", "-w", str(ws))
    assert [j["id"] for j in lines(out.stdout)] == ["job-b-failed"]
    out = run_cli("jobs", "--json", "--limit", "2", "-w", str(ws))
    assert [j["id"] for j in lines(out.stdout)] == ["job-c-running", "job-b-failed"]
    out = run_cli("jobs", "--filter", "nothing-matches", "-w", str(ws))
    assert out.returncode == 0 and out.stdout.startswith("no jobs under")


def test_detail_text(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    out = run_cli("jobs", "job-b-failed", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.splitlines()[0] == "job       job-b-failed  failed  2/3 stages  failed at 02_asr"
    assert "\nSTAGES\n" in text and "\nLINEAGE\n" in text and "\nTIMELINE\n" in text
    assert "02_asr  failed  2.0s  started 15:00:05" in text and "errors 1  warnings 2" in text
    assert "cpu_percent=99  memory_mb=2048" in text
    assert "  ! error: CUDA out of memory" in text
    assert "  ~ warning: falling back to CPU" in text
    assert "  in   01_demux/audio.wav  audio/wav  17 B  ← 01_demux" in text
    assert "  in   input/podcast.mp3  audio/mp3  22 B  ← external" in text
    assert "03_summary  missing" in text
    assert "stage_failed    stage 02_asr failed: CUDA out of memory" in text
    assert "Traceback" not in text.split("\nTIMELINE\n")[1]
    lineage = text.split("\nLINEAGE\n")[1].split("\n\n")[0].splitlines()
    assert lineage == [
        "├─ 03_summary",
        "└─ 02_asr",
        "   └─ 01_demux/audio.wav  (audio/wav  524 kB)",
        "      └─ 01_demux",
        "         └─ input/podcast.mp3  (audio/mp3)  [← external]",
    ]


def test_detail_shows_manifest_errors_and_lineage_problems(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    out = run_cli("jobs", "job-d-broken", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "03_c  malformed" in text and "  ! manifest: unknown status 'bogus'" in text
    assert "[↺ cycle: not traced further]" in text
    assert "! order: 01_a reads 02_b/x.txt, which the later stage 02_b produces" in text
    assert "! missing: 02_b: output 02_b/gone.txt is not on disk" in text
    assert "(no pipeline log)" in text


def test_detail_json(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    out = run_cli("jobs", "job-a-success", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1
    doc = json.loads(out.stdout)
    assert set(doc) == {"job", "stages", "lineage", "timeline"}
    assert doc["job"]["id"] == "job-a-success" and doc["job"]["status"] == "success"
    assert [s["name"] for s in doc["stages"]] == ["01_demux", "02_asr", "03_summary"]
    asr = doc["stages"][1]
    assert asr["warning_count"] == 1 and asr["resources"] == {"cpu_percent": 80.1, "memory_mb": 512}
    assert asr["outputs"][0]["final"] is False and asr["inputs"][0]["producer"] == "01_demux"
    assert asr["log_path"].endswith("02_asr/stage.log")
    assert doc["lineage"]["edges"] == [
        {"from": "01_demux", "to": "02_asr", "path": "01_demux/audio.wav", "kind": "ok"},
        {"from": "02_asr", "to": "03_summary", "path": "02_asr/segments.json", "kind": "ok"},
    ]
    assert [e["path"] for e in doc["lineage"]["externals"]] == ["input/podcast.mp3"]
    assert [e["path"] for e in doc["lineage"]["finals"]] == ["03_summary/summary.md"]
    assert doc["lineage"]["problems"] == []
    assert doc["timeline"][0] == {
        "timestamp": "2025-11-27T14:00:00.000Z",
        "kind": "job_started",
        "stage": None,
        "status": None,
        "seconds": None,
        "error": None,
        "message": "job job-a-success started",
        "file": str(
            ws.resolve() / "out" / "job-a-success" / "logs" / "99_pipeline_20251127T140000.log"
        ),
        "line": 1,
    }


def test_unknown_job_is_exit_1_one_line(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    for job in ("nope", "..", "job-a-success/01_demux"):
        out = run_cli("jobs", job, "-w", str(ws))
        assert out.returncode == 1, job
        assert out.stderr.count("\n") == 1 and f"no job {job} under" in out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""


def test_usage_errors_are_exit_2(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    for args in (("--limit", "-1"), ("--limit", "x"), ("job-a-success", "--limit", "1")):
        out = run_cli("jobs", *args, "-w", str(ws))
        assert out.returncode == 2, args
        assert out.stderr.count("\n") == 1


def test_no_out_dir_is_an_empty_list(run_cli, tmp_path: Path) -> None:
    out = run_cli("jobs", "--json", "-w", str(tmp_path))
    assert out.returncode == 0 and out.stdout == ""
    out = run_cli("jobs", "-w", str(tmp_path))
    assert out.returncode == 0 and "no jobs under" in out.stdout and "not present" in out.stdout


def test_hostile_text_is_escaped_and_secrets_masked(run_cli, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    evil = f"{ESC}]52;c;cGF3bmVk{ESC}\\{ESC}[2J\u202eevil password=hunter2hunter2"
    job = ws / "out" / "job-b-failed"
    path = job / "02_asr" / "manifest.json"
    doc = orjson.loads(path.read_bytes())
    doc["errors"][0]["message"] = evil
    doc["resources"]["note"] = evil
    doc["inputs"].append({"path": f"01_demux/{ESC}[31mred.wav", "type": evil})
    path.write_bytes(orjson.dumps(doc))
    with open(job / "logs" / "99_pipeline_20251127T150000.log", "ab") as fh:
        fh.write(write_record(time.time(), "ERROR", f"stage 02_asr failed: {evil}"))
    weird = ws / "out" / f"job-{ESC}[2J-weird"
    shutil.copytree(ws / "out" / "job-a-success", weird)
    os.utime(weird, (time.time() - 3600, time.time() - 3600))

    listing = run_cli("jobs", "-w", str(ws))
    assert listing.returncode == 0, listing.stderr
    assert ESC not in listing.stdout and "job-\\x1b[2J-weird" in listing.stdout

    out = run_cli("jobs", "job-b-failed", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert ESC not in out.stdout and "\u202e" not in out.stdout
    assert "\\x1b]52;c;" in out.stdout and "\\u202e" in out.stdout
    assert "hunter2hunter2" not in out.stdout and "password=***" in out.stdout

    out = run_cli("jobs", "job-b-failed", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert ESC not in out.stdout and "\u202e" not in out.stdout
    assert "hunter2hunter2" not in out.stdout
    doc = json.loads(out.stdout)
    assert doc["stages"][1]["errors"][0]["message"].startswith(f"{ESC}]52;c;")

    out = run_cli("jobs", f"job-{ESC}[2J-weird", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["job"]["id"] == f"job-{ESC}[2J-weird"
    missing = run_cli("jobs", f"no-{ESC}[2J", "-w", str(ws))
    assert missing.returncode == 1 and ESC not in missing.stderr
