"""Shared fixtures: the real binary, clean environments, workspaces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BIN_DIR = Path(sys.executable).parent


def oos_tui_binary() -> str:
    """The installed ``oos-tui`` next to this interpreter (not whatever PATH finds)."""
    exe = BIN_DIR / "oos-tui"
    if exe.exists():
        return str(exe)
    found = shutil.which("oos-tui")
    if found is None:
        pytest.fail("oos-tui is not installed in this environment (pip install '.[test]')")
    return found


@pytest.fixture(autouse=True)
def _default_sanitizer():
    """The shared sanitizer is configured per console; no test leaks its settings."""
    from oos_tui import sanitize

    saved = list(sanitize._CONFIGURED)
    yield
    sanitize._CONFIGURED[:] = saved


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The consoles a test starts keep their user cache (the parsed CSS) in the session's tmp.

    In ``os.environ`` itself, so the real binaries started in tmux inherit it.
    """
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # NO_COLOR and TEXTUAL_THEME change rendering; the workspace must come from the test.
    for var in ("NO_COLOR", "TEXTUAL_THEME", "OOS_WORKSPACE", "LOG_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``oos-tui`` binary; returns the completed process (text mode)."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            k: v for k, v in os.environ.items() if k not in ("OOS_WORKSPACE", "LOG_DIR", "NO_COLOR")
        }
        full_env.update(env or {})
        return subprocess.run(
            [oos_tui_binary(), *args],
            capture_output=True,
            text=True,
            input=input,
            env=full_env,
            cwd=tmp_path,
            timeout=timeout,
        )

    return run
