"""Snapshots of the Jobs screen: list, job view, lineage, timeline, broken and hostile jobs.

Review every SVG before accepting it (`pytest --snapshot-update`, then look
at tests/ui/__snapshots__/test_jobs_snapshots/).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oos_tui.app import OosApp, make_app
from oos_tui.clock import FrozenClock
from oos_tui.config import load_settings
from oos_tui.sources.jobs import JobScanner

SIZES = [(80, 24), (160, 48)]
SIZE_IDS = ["80x24", "160x48"]
JOBS_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jobs"
# Fixed paths: the status bar shows the workspace, so a per-run name would change every SVG.
BROKEN_WS = Path(tempfile.gettempdir()) / "oos-tui-jobs-fixture" / "ws"
HOSTILE_WS = Path(tempfile.gettempdir()) / "oos-tui-jobs-hostile" / "ws"


@pytest.fixture
def jobs_app(fixture_app: Callable[..., OosApp]) -> Callable[..., OosApp]:
    """The console on the fixture workspace with a scan of its ``out/`` in the state."""
    from fixtures.workspace import FIXTURE_NOW

    def build(**kw: Any) -> OosApp:
        app = fixture_app(**kw)
        scanner = JobScanner(app.settings, clock=FrozenClock(FIXTURE_NOW))
        app.state = app.state.with_jobs(scanner.scan())
        return app

    return build


def app_on(out: Path | None, ws: Path, write: Callable[[Path], None] | None = None) -> OosApp:
    """The console on a workspace at a fixed path (the status bar shows it) with ``out/`` scanned.

    ``out`` is copied in as the workspace's ``out/``; ``write`` may add more.
    The tree is built and scanned under a lock (concurrent test sessions share
    the path); the app shows the scan and reads nothing more from it.
    """
    from fixtures.workspace import FIXTURE_NOW

    ws.parent.mkdir(parents=True, exist_ok=True)
    clock = FrozenClock(FIXTURE_NOW)
    with open(ws.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(ws, ignore_errors=True)
        ws.mkdir()
        if out is not None:
            shutil.copytree(out, ws / "out")
        if write is not None:
            write(ws)
        settings = load_settings(ws, env={})
        snapshot = JobScanner(settings, clock=clock).scan()
    app = make_app(settings, clock=clock, feeds=False)
    app.animation_level = "none"
    app.state = app.state.with_jobs(snapshot)
    return app


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_jobs_list(snap_compare, jobs_app, size: tuple[int, int]) -> None:
    assert snap_compare(jobs_app(), terminal_size=size, press=["6", "wait:100"])


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_failed_job(snap_compare, jobs_app, size: tuple[int, int]) -> None:
    assert snap_compare(jobs_app(), terminal_size=size, press=["6", "j", "enter", "wait:100"])


def test_failed_job_lineage(snap_compare, jobs_app) -> None:
    assert snap_compare(
        jobs_app(), terminal_size=(80, 24), press=["6", "G", "enter", "t", "wait:100"]
    )


def test_failed_job_timeline(snap_compare, jobs_app) -> None:
    assert snap_compare(
        jobs_app(), terminal_size=(80, 24), press=["6", "j", "enter", "p", "wait:100"]
    )


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_broken_job(snap_compare, size: tuple[int, int]) -> None:
    """Malformed manifest, order violation, cycle, missing file: all said in words."""
    app = app_on(JOBS_FIXTURES / "out", BROKEN_WS)
    press = ["6", "G", "enter", "G"]
    if size[0] < 120:
        press.append("t")
    assert snap_compare(app, terminal_size=size, press=[*press, "wait:100"])


def _hostile(ws: Path) -> None:
    stage = ws / "out" / "job-[b]x[@click=app.quit]\x1b[31m" / "01_[red]st\u202eage"
    stage.mkdir(parents=True)
    manifest = {
        "stage": "a\x1b[2J",
        "status": "failed",
        "started_at": "2025-09-29T01:00:00Z",
        "duration_seconds": 2.0,
        "inputs": [{"path": "input/[link=http://x]in[/link].wav", "type": "audio"}],
        "outputs": [{"path": "01_x/o\x1b]52;c;aGk=\x07.txt", "type": "[red]t", "size_mb": 0.001}],
        "errors": [{"at": "2025-09-29T01:00:02Z", "message": "boom \x1b[31mred\x1b[0m [b]x[/b]"}],
        "resources": {"cpu[bold]": "\x1b]0;title\x07"},
    }
    (stage / "manifest.json").write_text(json.dumps(manifest))


def test_hostile_job(snap_compare) -> None:
    app = app_on(None, HOSTILE_WS, _hostile)
    assert snap_compare(app, terminal_size=(80, 24), press=["6", "enter", "wait:100"])
