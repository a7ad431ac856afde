"""``oos-tui demo --headless`` as a real second process: reproducible, on contract, interruptible.

Each test runs the installed binary against a fresh workspace, at a high
``--rate`` and ``--speed`` so a few seconds show breakers tripping and
recovering, a backlog and its drain, dead letters and jobs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from oos_tui.demo.checks import check_workspace
from oos_tui.formats import get_format
from oos_tui.formats.base import format_ts
from oos_tui.models import ParseError
from oos_tui.sources.tail import Tailer
from oos_tui.store.schema import TABLES

FAST = ["--rate", "400", "--speed", "50"]


def _binary() -> str:
    """The installed ``oos-tui`` next to this interpreter (not whatever PATH finds)."""
    exe = Path(sys.executable).parent / "oos-tui"
    found = str(exe) if exe.exists() else shutil.which("oos-tui")
    if found is None:
        pytest.fail("oos-tui is not installed in this environment (pip install '.[test]')")
    return found


def _demo(workspace: Path, *flags: str) -> list[str]:
    return [_binary(), "demo", "--headless", "--workspace", str(workspace), *flags]


def _start(workspace: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _demo(workspace, *flags), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 30) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    return orjson.loads(lines[-1])["summary"]  # type: ignore[no-any-return]


def _run(workspace: Path, *flags: str) -> dict[str, Any]:
    return _finish(_start(workspace, *flags))


def _connect(workspace: Path) -> sqlite3.Connection:
    return sqlite3.connect(workspace / "data" / "oos.db", isolation_level=None, timeout=10)


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _fingerprint(workspace: Path) -> tuple[dict[str, str], dict[str, list[tuple[Any, ...]]]]:
    files = {
        str(p.relative_to(workspace)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(workspace.rglob("*"))
        if p.is_file() and not p.name.startswith("oos.db")
    }
    conn = _connect(workspace)
    try:
        tables = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()
    return files, tables


def test_same_seed_time_and_ticks_write_the_same_bytes_and_rows(tmp_path: Path) -> None:
    ws = tmp_path / "ws"  # one path for both runs: manifests name external inputs absolutely
    flags = ["--seed", "21", "--fixed-time", "2025-03-01T12:00:00Z", "--ticks", "1600"]
    flags += ["--rate", "40", "--speed", "10", "--rotate-bytes", "16384"]
    first_summary = _run(ws, *flags)
    first = _fingerprint(ws)
    shutil.rmtree(ws)
    second_summary = _run(ws, *flags)
    second = _fingerprint(ws)
    assert first[0] == second[0]
    assert first[1] == second[1]
    for key in ("ticks", "lines", "malformed", "rotations", "dead_lettered", "breaker_opened"):
        assert first_summary[key] == second_summary[key]
    assert first_summary["rotations"]["ai_events.log"] >= 1
    assert all(first[1][t] for t in ("tasks", "dead_letter", "circuit_breakers", "events"))
    assert any(name.startswith("out/job-2025") for name in first[0])

    shutil.rmtree(ws)
    _run(ws, *[("22" if f == "21" else f) for f in flags])
    assert _fingerprint(ws)[1]["events"] != first[1]["events"]


def test_a_paced_run_keeps_the_contract(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    summary = _run(ws, "--seed", "3", *FAST, "--duration", "4")
    assert summary["stopped_by"] == "duration" and summary["paced"] is True
    assert check_workspace(ws) == []
    assert summary["breaker_opened"] >= 1 and summary["breaker_closed"] >= 1
    assert summary["backlog_alerts"] >= 1 and summary["dead_lettered"] >= 1
    for name in ("oos.log", "logs/api.log", "logs/collector.log"):
        assert summary["lines"][name] == (ws / name).read_bytes().count(b"\n")
    # Timestamps follow the wall clock in a paced run.
    last = (ws / "oos.log").read_bytes().splitlines()[-1].split(b"|", 1)[0].decode()
    assert abs(time.time() - get_format("pipe").timestamp(last.encode() + b"|")) < 30  # type: ignore[operator]
    conn = _connect(ws)
    (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    assert check == "ok"


def _follow(path: Path, proc: subprocess.Popen[str]) -> list[bytes]:
    """Tail ``path`` (from before it exists) while the producer runs, through every rotation."""
    tailer = Tailer(path, start_offset=0)
    got: list[bytes] = []
    quiet = 0
    try:
        while quiet < 3:
            batch = tailer.poll()
            got += [line.data for line in batch.lines]
            if batch.lines or batch.more:
                quiet = 0
            elif proc.poll() is not None:
                quiet += 1
            else:
                time.sleep(0.002)
    finally:
        tailer.close()
    return got


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("ai_events.log", "ai"), ("logs/worker.log", "app")],
    ids=["numbered", "stamped"],
)
def test_rotation_loses_no_line(tmp_path: Path, name: str, fmt: str) -> None:
    ws = tmp_path / "ws"
    proc = _start(
        ws, "--seed", "8", *FAST, "--rotate-bytes", "8192", "--app-rotate-bytes", "32768",
        "--duration", "4",
    )  # fmt: skip
    lines = _follow(ws / name, proc)
    summary = _finish(proc)
    assert summary["rotations"][name] >= 3
    assert len(lines) == summary["lines"][name]
    parser = get_format(fmt)
    errors = sum(isinstance(parser.parse(raw, name, 0), ParseError) for raw in lines)
    assert errors == summary["malformed"].get(name, 0)


def test_operator_retry_and_breaker_reset_are_honoured_while_it_runs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    proc = _start(ws, "--seed", "5", "--rate", "200", "--speed", "20", "--duration", "30")
    try:
        _wait_for("the store", lambda: (ws / "data" / "oos.db").exists())
        conn = _connect(ws)

        # Retry a dead letter as the console does (CONTRACT §5): one IMMEDIATE transaction.
        dl_id, task_id = _wait_for(
            "a dead letter",
            lambda: conn.execute("SELECT id, task_id FROM dead_letter LIMIT 1").fetchone(),
        )
        now = format_ts(time.time())
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE tasks SET status = 'pending', attempts = 0, next_attempt_at = ?,"
            " updated_at = ? WHERE id = ?",
            (now, now, task_id),
        )
        conn.execute("DELETE FROM dead_letter WHERE id = ?", (dl_id,))
        conn.execute("COMMIT")
        _wait_for(
            "the retried task to be taken",
            lambda: conn.execute(
                "SELECT 1 FROM tasks WHERE id = ? AND (status <> 'pending' OR attempts > 0)",
                (task_id,),
            ).fetchone(),
            timeout=10,
        )

        # A worker whose breaker is open takes nothing; a reset lets it resume.
        name = "worker_publish_1"
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE circuit_breakers SET state = 'open', consecutive_failures = 10,"
            " total_failures = total_failures + 10, opened_at = ?, retry_at = ? WHERE name = ?",
            (format_ts(time.time()), format_ts(time.time() + 86400), name),
        )
        conn.execute("COMMIT")
        time.sleep(1.0)  # whatever it held when the breaker opened is finished by now
        quiet_from = format_ts(time.time())
        time.sleep(1.5)
        worked = "SELECT count(*) FROM events WHERE source_component = ? AND timestamp > ?"
        assert conn.execute(worked, (name, quiet_from)).fetchone() == (0,)
        reset = format_ts(time.time())
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0,"
            " opened_at = NULL, retry_at = NULL, updated_at = ? WHERE name = ?",
            (reset, name),
        )
        conn.execute("COMMIT")
        _wait_for(
            f"{name} to work again",
            lambda: conn.execute(worked, (name, reset)).fetchone()[0] > 0,
            timeout=10,
        )
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
    summary = _finish(proc)
    assert summary["stopped_by"] == "SIGTERM"
    assert check_workspace(ws) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_it_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    ws = tmp_path / "ws"
    proc = _start(ws, "--seed", "6", *FAST)
    _wait_for("some work", lambda: (ws / "oos.log").exists() and os.path.getsize(ws / "oos.log"))
    time.sleep(1.5)
    proc.send_signal(sig)
    summary = _finish(proc, timeout=15)
    assert summary["stopped_by"] == sig.name
    conn = _connect(ws)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    assert check_workspace(ws) == []
    last = orjson.loads((ws / "ai_events.log").read_bytes().splitlines()[-1])
    assert last["event_type"] == "stop"
