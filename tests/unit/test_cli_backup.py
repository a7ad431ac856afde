"""`oos-tui backup` and `oos-tui restore` through the real binary: output, exit codes, faults."""

from __future__ import annotations

import io
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oos_tui.cli.backup import ProgressBar

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import backup_support as support

sys.path.pop(0)

# No process of this machine matches: restore's process check passes.
NO_PRODUCER = "[processes]\npatterns = ['^no-such-oos-process-xyz$']\n"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "oos-tui.toml").write_text(NO_PRODUCER)
    support.make_store(ws / "data" / "oos.db", rows=3000)
    return ws


def _one_line_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("oos-tui: error: ")
    assert "Traceback" not in out.stderr
    for w in words:
        assert w in out.stderr, out.stderr


def _failed_cleanly(ws: Path, out: subprocess.CompletedProcess[str], *words: str) -> None:
    _one_line_error(out, "backup failed", *words)
    assert support.valid_looking(ws / "data" / "backups") == []
    assert [r[2] for r in support.audit_rows(ws / "data" / "oos.db")] == ["error"]


def test_backup_list_and_verify(run_cli, ws: Path) -> None:
    out = run_cli("backup", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("backup oos-") and "integrity ok" in out.stdout
    assert out.stderr == "", "no progress bar when stderr is not a terminal"
    out = run_cli("backup", "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    (made,) = _lines(out.stdout)
    assert made["action"] == "backup" and made["outcome"] == "ok" and made["audit_id"] == 2
    assert {"file", "bytes", "sha256", "duration_ms", "integrity"} <= made["detail"].keys()

    listed = run_cli("backup", "--list", "--json", "-w", str(ws))
    assert listed.returncode == 0
    rows = _lines(listed.stdout)
    assert len(rows) == 2
    for key in ("created_at", "bytes", "integrity", "age_seconds", "verified_at", "sha256", "ok"):
        assert key in rows[0]
    assert rows[0]["integrity"] == "ok" and rows[0]["ok"] is True
    text = run_cli("backup", "--list", "-w", str(ws))
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].startswith("time (UTC)")
    assert made["detail"]["file"] in text.stdout

    name = made["detail"]["file"]
    verified = run_cli("backup", "--verify", name, "-w", str(ws))
    assert verified.returncode == 0, verified.stderr
    assert "rows       events" in verified.stdout and "recorded in the sidecar" in verified.stdout
    as_json = run_cli("backup", "--verify", made["detail"]["path"], "--json", "-w", str(ws))
    (report,) = _lines(as_json.stdout)
    assert report["ok"] and report["row_counts"]["events"] == 3000 and report["recorded"]


def test_verify_failures_exit_1_with_one_line(run_cli, ws: Path) -> None:
    out = run_cli("backup", "--json", "-w", str(ws))
    path = Path(_lines(out.stdout)[0]["detail"]["path"])
    support.flip_byte(path)
    bad = run_cli("backup", "--verify", str(path), "-w", str(ws))
    _one_line_error(bad, "does not verify", "sha256 mismatch")
    assert "FAILED" in bad.stdout
    bad_json = run_cli("backup", "--verify", str(path), "--json", "-w", str(ws))
    assert bad_json.returncode == 1 and _lines(bad_json.stdout)[0]["ok"] is False
    _one_line_error(run_cli("backup", "--verify", "nope.db", "-w", str(ws)), "no backup")


def test_read_only_mode(run_cli, ws: Path) -> None:
    _one_line_error(run_cli("--read-only", "backup", "-w", str(ws)), "read-only")
    assert not (ws / "data" / "backups").exists()
    out = run_cli("backup", "--json", "-w", str(ws))
    made = _lines(out.stdout)[0]["detail"]
    sidecar = Path(made["sidecar"])
    before = sidecar.read_bytes()
    out = run_cli("backup", "--read-only", "--verify", made["file"], "-w", str(ws))
    assert out.returncode == 0 and "not recorded (read-only mode)" in out.stdout
    assert sidecar.read_bytes() == before
    assert run_cli("backup", "--list", "--read-only", "-w", str(ws)).returncode == 0
    _one_line_error(run_cli("restore", made["file"], "--yes", "--read-only", "-w", str(ws)))


def test_restore_asks_refuses_and_restores(run_cli, ws: Path) -> None:
    db = ws / "data" / "oos.db"
    out = run_cli("backup", "--json", "-w", str(ws))
    made = _lines(out.stdout)[0]["detail"]
    support.fill(db, 100)
    no_yes = run_cli("restore", made["file"], "-w", str(ws))
    _one_line_error(no_yes, "--yes", "nothing changed")
    assert support.rows(db, "SELECT count(*) FROM events") == [(3100,)]

    done = run_cli("restore", made["file"], "--yes", "--json", "-w", str(ws))
    assert done.returncode == 0, done.stderr
    (result,) = _lines(done.stdout)
    assert result["outcome"] == "ok" and result["target"] == f"restore:{made['file']}"
    assert support.rows(db, "SELECT count(*) FROM events") == [(3000,)]
    pre = result["detail"]["pre_restore"]["file"]
    assert pre.startswith("pre-restore-")
    assert run_cli("backup", "--verify", pre, "-w", str(ws)).returncode == 0

    support.flip_byte(Path(made["path"]))
    refused = run_cli("restore", made["path"], "--yes", "-w", str(ws))
    _one_line_error(refused, "restore refused", "does not verify")


def test_restore_refuses_while_the_pipeline_runs(run_cli, ws: Path) -> None:
    made = _lines(run_cli("backup", "--json", "-w", str(ws)).stdout)[0]["detail"]
    (ws / "oos-tui.toml").write_text("[processes]\npatterns = ['sleep 31.4159']\n")
    sleeper = subprocess.Popen(["sleep", "31.4159"])
    try:
        out = run_cli("restore", made["file"], "--yes", "-w", str(ws))
    finally:
        sleeper.kill()
        sleeper.wait()
    _one_line_error(out, "pipeline is running", f"pid {sleeper.pid}")


def test_progress_bar_draws_in_place() -> None:
    buf = io.StringIO()
    bar = ProgressBar(buf, width=10)
    bar(100, 200)
    bar(0, 200)
    bar.close()
    text = buf.getvalue()
    assert text.startswith("\rbackup [#####.....]  50%  100/200 pages")
    assert text.endswith("\rbackup [##########] 100%  200/200 pages\n")


# ------------------------------------------------------------------ faults


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_by_file_size_limit(ws: Path) -> None:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "oos-tui"), "backup", "-w", str(ws)],
        capture_output=True, text=True, timeout=60, preexec_fn=_limit_file_size(1 << 20),
    )  # fmt: skip
    _failed_cleanly(ws, out, "writing the backup")


def test_full_disk_on_a_tiny_filesystem(run_cli, ws: Path) -> None:
    with support.tiny_tmpfs(ws / "data" / "backups", "1m") as mounted:
        if not mounted:
            pytest.skip("mount is not allowed here; the file size limit test covers this")
        out = run_cli("backup", "-w", str(ws))
        _failed_cleanly(ws, out, "disk full")


def test_read_only_backups_directory(run_cli, ws: Path) -> None:
    with support.read_only_dir(ws / "data" / "backups"):
        out = run_cli("backup", "-w", str(ws))
    _failed_cleanly(ws, out)


def test_backups_path_is_a_file(run_cli, ws: Path) -> None:
    (ws / "data" / "backups").write_text("not a directory")
    _failed_cleanly(ws, run_cli("backup", "-w", str(ws)), "not a directory")


def test_corrupt_store(run_cli, ws: Path) -> None:
    support.damage_page(ws / "data" / "oos.db")
    _failed_cleanly(ws, run_cli("backup", "-w", str(ws)), "integrity check failed")


@pytest.mark.slow
def test_busy_store(run_cli, ws: Path) -> None:
    # Held past the CLI's 5 s wait for the copy, released within its 5 s wait to audit.
    db = ws / "data" / "oos.db"
    proc = subprocess.Popen(
        [sys.executable, str(support.WRITER), str(db), "--seconds", "9.5", "--lock-seconds",
         "9", "--rate", "20"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        assert proc.stdout.readline().strip() == "LOCKED"
        out = run_cli("backup", "-w", str(ws))
    finally:
        proc.wait(timeout=30)
    _failed_cleanly(ws, out, "store busy")
