"""End-to-end fixtures: a demo workspace made by the real producer, a tmux terminal."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import oos_tui_binary  # tests/conftest.py (tests/ is on sys.path)
from e2e.tmux import Tmux


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deterministic demo workspace (fixed seed, fixed time, fixed number of ticks)."""
    ws = tmp_path_factory.mktemp("e2e") / "ws"
    subprocess.run(
        [
            oos_tui_binary(),
            "demo",
            "--headless",
            "-w",
            str(ws),
            "--seed",
            "11",
            "--fixed-time",
            "2025-09-29T01:00:00Z",
            "--ticks",
            "3000",
            "--speed",
            "10",
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return ws


@pytest.fixture
def term() -> Iterator[Tmux]:
    """A tmux terminal at 80x24, killed afterwards."""
    t = Tmux(80, 24)
    yield t
    t.close()
