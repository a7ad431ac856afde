"""Support for the Queues and Audit tests (no tests here): an app on a private fixture copy."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from oos_tui.app import OosApp, make_app
from oos_tui.clock import FrozenClock
from oos_tui.config import load_settings

__all__ = ["build_on_copy", "copy_workspace", "query", "wait_for"]


def copy_workspace(fixture_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the shared fixture workspace: actions may change its store."""
    ws = tmp_path / "ws"
    shutil.copytree(fixture_workspace, ws)
    (ws / "oos-tui.toml").unlink(missing_ok=True)
    return ws


def build_on_copy(ws: Path, *, read_only: bool = False) -> OosApp:
    """The console on ``ws`` as ``fixture_app`` builds it: frozen clock, state preloaded."""
    from fixtures.state import load_state
    from fixtures.workspace import FIXTURE_NOW

    settings = load_settings(ws, env={}, read_only=read_only)
    clock = FrozenClock(FIXTURE_NOW)
    app = make_app(settings, clock=clock, feeds=False, initial_state=load_state(settings, clock))
    app.animation_level = "none"
    return app


def query(ws: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the copy's store directly, as a second process would."""
    con = sqlite3.connect(ws / "data" / "oos.db")
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


async def wait_for(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``predicate()`` holds (workers finish, screens switch)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")
