"""``oos-tui demo`` with a console: the producer is a second process that never outlives it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from oos_tui.config import ProcessSettings
from oos_tui.demo.launcher import DemoError, producer_command, run_with_console
from oos_tui.demo.options import DemoOptions


def _options(workspace: Path) -> DemoOptions:
    return DemoOptions(workspace=workspace, seed=1, rate=200.0, speed=20.0)


def _gone(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is not None


def test_the_producer_runs_while_the_console_does_and_stops_after(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    started: list[subprocess.Popen[bytes]] = []
    seen: dict[str, object] = {}

    def console(workspace: Path) -> int:
        proc = started[0]
        seen["alive"] = proc.poll() is None
        seen["store"] = (workspace / "data" / "oos.db").is_file()
        seen["workspace"] = workspace
        return 7

    code = run_with_console(_options(ws), console, on_start=started.append)
    assert code == 7
    assert seen == {"alive": True, "store": True, "workspace": ws}
    assert _gone(started[0])
    assert started[0].returncode == 0  # SIGTERM is a clean stop, not a kill


def test_a_crashing_console_still_stops_the_producer(tmp_path: Path) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def console(workspace: Path) -> int:
        raise RuntimeError("the console fell over")

    with pytest.raises(RuntimeError, match="fell over"):
        run_with_console(_options(tmp_path / "ws"), console, on_start=started.append)
    assert _gone(started[0])


def test_a_producer_that_cannot_start_is_reported_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    started: list[subprocess.Popen[bytes]] = []
    called: list[Path] = []

    def console(workspace: Path) -> int:
        called.append(workspace)
        return 0

    with pytest.raises(DemoError, match="exited with status") as exc_info:
        run_with_console(_options(blocker / "ws"), console, on_start=started.append)
    assert "\n" not in str(exc_info.value)
    assert called == []
    assert _gone(started[0])


def test_the_producer_is_recognised_as_a_pipeline_process(tmp_path: Path) -> None:
    cmdline = " ".join(producer_command(_options(tmp_path)))
    assert any(re.search(p, cmdline) for p in ProcessSettings().patterns)


def test_the_cli_prints_the_workspace_and_stops_the_producer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from oos_tui.cli import demo as demo_cli
    from oos_tui.cli import main

    ran: list[Path] = []

    def fake_console(args: object) -> object:
        def run(workspace: Path) -> int:
            ran.append(workspace)
            return 0

        return run

    monkeypatch.setattr(demo_cli, "_console", fake_console)
    ws = tmp_path / "ws"
    assert main(["demo", "-w", str(ws), "--seed", "2", "--rate", "100", "--theme", "oos-dark"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"oos-tui demo: workspace {ws} (seed 2)"
    assert out[-1].endswith(str(ws))
    assert ran == [ws]
    assert (ws / "data" / "oos.db").is_file()


def test_an_unknown_theme_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from oos_tui.cli import main

    assert main(["demo", "-w", str(tmp_path / "ws"), "--theme", "neon"]) == 2
    assert "unknown theme 'neon'" in capsys.readouterr().err
    assert not (tmp_path / "ws" / "data").exists()


def test_a_producer_whose_console_vanished_stops_by_itself(tmp_path: Path) -> None:
    ws, ready, out = tmp_path / "ws", tmp_path / "ready", tmp_path / "producer.out"
    # A stand-in console that starts the producer, then dies without stopping it.
    script = f"""
import os, subprocess, time
from pathlib import Path
from oos_tui.demo.launcher import producer_command
from oos_tui.demo.options import DemoOptions
cmd = producer_command(DemoOptions(workspace=Path({str(ws)!r}), seed=1), Path({str(ready)!r}))
subprocess.Popen(cmd, stdout=open({str(out)!r}, "w"), start_new_session=True)
while not os.path.exists({str(ready)!r}):
    time.sleep(0.02)
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", script], timeout=30, check=True)
    deadline = time.monotonic() + 15
    while b"summary" not in (out.read_bytes() if out.exists() else b""):
        assert time.monotonic() < deadline, "the orphaned producer kept running"
        time.sleep(0.05)
    summary = orjson.loads(out.read_bytes().splitlines()[-1])["summary"]
    assert summary["stopped_by"] == "parent exited"
