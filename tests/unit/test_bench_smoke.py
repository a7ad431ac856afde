"""Smoke test of bench/: a tiny seeded workspace, then every script once, so none can rot.

The scripts run with ``--smoke`` (one short run) against the real ``oos-tui``
in tmux, all at once to keep the test short; their figures mean nothing here,
only that each measured oos-tui and wrote its JSON. Toolong, lnav and rg are
measured in first_screen and search_times when installed and skipped when not;
oos-tui itself is never skipped (tmux is required, as for the e2e tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = [
    "--lines",
    "3000",
    "--app-lines",
    "1000",
    "--ai-lines",
    "300",
    "--tasks",
    "300",
    "--dead",
    "30",
    "--jobs",
    "3",
    "--store-events",
    "100",
    "--procs",
    "1",
]


def _make(out: Path) -> dict:
    subprocess.run(
        [sys.executable, str(BENCH / "make_workspace.py"), "--out", str(out), *TINY],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return json.loads((out / "bench-workspace.json").read_text())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench") / "ws"
    return out, _make(out)


def test_make_workspace_is_seeded_and_realistic(tiny: tuple[Path, dict], tmp_path: Path) -> None:
    ws, doc = tiny
    again = _make(tmp_path / "ws")
    for rel in ("oos.log", "ai_events.log", "logs/worker.log", "logs/containers.log"):
        assert _digest(ws / rel) == _digest(tmp_path / "ws" / rel), rel
    assert again["files"] == doc["files"]
    oos = doc["files"]["oos.log"]
    assert oos["lines"] == 3000
    assert 0.03 < doc["fail_fraction"] < 0.08
    assert oos["malformed"] > 0
    lines = (ws / "oos.log").read_bytes().splitlines()
    assert doc["markers"]["oos"].encode() in lines[-1]
    assert sum(doc["needle"].encode() in line for line in lines) == 3
    with sqlite3.connect(ws / "data" / "oos.db") as conn:
        assert conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 300
        assert conn.execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 30
    assert len(list((ws / "out").iterdir())) == 3
    assert (Path(doc["solo"]) / "oos.log").read_bytes() == (ws / "oos.log").read_bytes()
    # A second build with the same parameters reuses the workspace.
    rebuilt = subprocess.run(
        [sys.executable, str(BENCH / "make_workspace.py"), "--out", str(ws), *TINY],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "reused" in rebuilt.stdout


def test_every_script_measures_oos_tui(tiny: tuple[Path, dict], tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required for the benchmarks (apt-get install -y tmux)")
    ws, _ = tiny
    compare = ",".join(
        ["ours-solo"]
        + [t for t, ok in (("toolong", _have_toolong()), ("lnav", shutil.which("lnav"))) if ok]
        + ["tail"]
    )
    runs = {
        "first_screen": ["--tools", compare],
        "search_times": ["--skip-full"],
        "follow_latency": ["--tools", "ours-solo", "--rates", "2000"],
        "memory": ["--tools", "ours-solo"],
        "idle_cost": ["--tools", "ours-solo"],
        "action_latency": [],
    }
    env = {**os.environ, "OOS_BENCH_SCRATCH": str(tmp_path / "scratch")}
    procs = {
        name: subprocess.Popen(
            [
                sys.executable,
                str(BENCH / f"{name}.py"),
                "--workspace",
                str(ws),
                "--smoke",
                "--json-out",
                str(tmp_path / f"{name}.json"),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        for name, args in runs.items()
    }
    outputs = {name: proc.communicate(timeout=120)[0].decode() for name, proc in procs.items()}
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} failed:\n{outputs[name]}"
    res = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in runs}

    assert res["first_screen"]["tools"]["ours-solo"]["last_line"]["n"] == 1
    assert res["search_times"]["engine"]["solo"]["queries"]["filter"]["count"] > 0
    assert res["search_times"]["cli"]["solo"]["filter"]["n"] == 1
    follow = res["follow_latency"]["runs"]["2000"]["ours-solo"]
    assert follow["latency"]["n"] > 0 and follow["cli_count"] == follow["written"]
    assert res["memory"]["open"]["ours-solo"]["rss_settled_mb"]["median"] > 10
    assert res["memory"]["soak"]["end_mb"] > 10
    assert res["idle_cost"]["tools"]["ours-solo"]["cpu_percent"] >= 0
    assert res["action_latency"]["cli_retry"]["commit"]["n"] == 1
    assert res["action_latency"]["status"]["n"] == 2

    report = subprocess.run(
        [sys.executable, str(BENCH / "common.py"), "report", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| first screen" in report.stdout


def _have_toolong() -> bool:
    return (BENCH / ".work" / "toolong-venv" / "bin" / "tl").exists() or bool(shutil.which("tl"))
