"""UI test helpers: every app is built through make_app (STYLE §9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oos_tui.app import OosApp, make_app
from oos_tui.clock import FrozenClock
from oos_tui.config import load_settings

FROZEN = 1_759_111_200.0  # 2025-09-29T02:00:00Z


@pytest.fixture
def build_app(tmp_path: Path) -> Callable[..., OosApp]:
    """An app on an empty (or given) workspace, feeds off, clock frozen."""

    def build(workspace: Path | None = None, *, config: str | None = None, **kw) -> OosApp:
        ws = workspace or tmp_path / "ws"
        ws.mkdir(parents=True, exist_ok=True)
        if config is not None:
            (ws / "oos-tui.toml").write_text(config)
        settings = load_settings(ws, env={})
        kw.setdefault("feeds", False)
        kw.setdefault("clock", FrozenClock(FROZEN))
        return make_app(settings, **kw)

    return build


@pytest.fixture
def live_app(build_app: Callable[..., OosApp], workspace: Path) -> Callable[..., OosApp]:
    """The console on the test module's ``workspace``, on Events, feeds on, real clock.

    For tests that write to real files and watch them followed (each module
    that uses it defines its own ``workspace`` fixture).
    """
    from oos_tui.clock import SystemClock

    def build(**kw: Any) -> OosApp:
        app = build_app(workspace, start_screen="events", feeds=True, clock=SystemClock(), **kw)
        app.animation_level = "none"
        return app

    return build


@pytest.fixture(scope="session")
def fixture_workspace() -> Path:
    """The fixed fixture workspace (tests/fixtures/workspace.py), built once per session.

    It lives at a fixed path because the status bar shows the workspace path,
    and a per-run temporary name would make every snapshot differ.
    """
    import fcntl
    import hashlib
    import shutil
    import tempfile

    import fixtures.workspace as fixture_module

    root = Path(tempfile.gettempdir()) / "oos-tui-fixture"
    root.mkdir(exist_ok=True)
    ws = root / "ws"
    # Rebuilt only when the builder changed, under a lock: concurrent test
    # sessions share the fixed path and must not delete it under each other.
    # A test that changed a file by mistake also forces a rebuild (the tree's
    # sizes and modification times are part of the marker).
    version = hashlib.sha256(Path(fixture_module.__file__).read_bytes()).hexdigest()
    marker = root / "version"

    def tree() -> str:
        parts = sorted(
            f"{p.relative_to(ws)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
            for p in ws.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm")) and ".oos-tui" not in p.parts
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        expected = f"{version} {tree()}" if ws.is_dir() else ""
        if not (marker.is_file() and marker.read_text() == expected):
            shutil.rmtree(ws, ignore_errors=True)
            fixture_module.build_workspace(ws)
            marker.write_text(f"{version} {tree()}")
    return ws


@pytest.fixture
def fixture_app(fixture_workspace: Path) -> Callable[..., OosApp]:
    """The console on the fixture workspace with its state preloaded (feeds off)."""
    from fixtures.state import load_state
    from fixtures.workspace import FIXTURE_NOW

    def build(*, theme: str | None = None, config: str | None = None, **kw) -> OosApp:
        if config is not None:
            (fixture_workspace / "oos-tui.toml").write_text(config)
        settings = load_settings(fixture_workspace, env={}, theme=theme)
        clock = FrozenClock(FIXTURE_NOW)
        state = load_state(settings, clock)
        kw.setdefault("feeds", False)
        app = make_app(settings, clock=clock, initial_state=state, **kw)
        app.animation_level = "none"
        return app

    yield build
    (fixture_workspace / "oos-tui.toml").unlink(missing_ok=True)
