"""A real terminal for end-to-end tests: the real oos-tui binary in tmux, keys in, text out."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable

import pytest

__all__ = ["Tmux", "require_tmux"]


def require_tmux() -> str:
    """The tmux binary; the suite requires it (.ci/run installs it)."""
    path = shutil.which("tmux")
    if path is None:
        pytest.fail("tmux is required for the end-to-end tests (apt-get install -y tmux)")
    return path


class Tmux:
    """One detached tmux server and session running one command at a fixed size."""

    def __init__(self, width: int = 80, height: int = 24) -> None:
        self.tmux = require_tmux()
        self.socket = f"oos-e2e-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Start ``argv`` in a new session (TERM=xterm-256color, no NO_COLOR)."""
        full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEXTUAL_THEME")}
        full.update({"TERM": "xterm-256color", **(env or {})})
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in full.items() if k.isidentifier())
        command = f"env -i {exports} {shlex.join(argv)}; echo '[exited]' $?; sleep 30"
        self._run(
            "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height), command
        )

    def send(self, *keys: str, literal: bool = False) -> None:
        """Send keys (tmux key names, or text with ``literal=True``)."""
        args = ["send-keys", "-t", "t"]
        if literal:
            args.append("-l")
        self._run(*args, *keys)

    def type(self, text: str) -> None:
        """Type text one character at a time (as a person would)."""
        for ch in text:
            self.send(ch, literal=True)
            time.sleep(0.02)

    def capture(self) -> str:
        """The visible screen as text."""
        return self._run("capture-pane", "-p", "-t", "t", check=False).stdout

    def wait_until(
        self, check: Callable[[str], bool], what: str = "condition", timeout: float = 15.0
    ) -> str:
        """Wait until ``check(screen)`` holds; returns the screen (fails with it otherwise)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} not met after {timeout}s:\n{screen}")

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """Wait until ``text`` is on screen; returns the screen (fails with it otherwise)."""
        return self.wait_until(lambda screen: text in screen, repr(text) + " on screen", timeout)

    def wait_gone(self, text: str, timeout: float = 15.0) -> str:
        """Wait until ``text`` is no longer on screen; returns the screen (fails otherwise)."""
        return self.wait_until(lambda screen: text not in screen, repr(text) + " gone", timeout)

    def close(self) -> None:
        """Kill the server."""
        self._run("kill-server", check=False)
