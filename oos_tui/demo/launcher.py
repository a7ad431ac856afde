"""``oos-tui demo`` with the console: the producer runs as a second process until the console ends.

The producer runs as ``python -m oos_tui.demo`` (a genuine concurrent writer,
and a command line the console's process view recognises) in its own session,
so the terminal's Ctrl-C goes to the console alone. Whatever way the console
ends (quit, exception, Ctrl-C), the producer gets SIGTERM, then SIGKILL if it
has not stopped within the timeout; and should the console die without a word
(SIGKILL), the producer sees its parent gone and stops by itself.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from oos_tui.demo.options import DemoOptions

__all__ = ["DemoError", "producer_command", "run_with_console", "stop_process"]


class DemoError(Exception):
    """The producer could not be started or died early (one line, exit code 1)."""


def producer_command(options: DemoOptions, ready_file: Path | None = None) -> list[str]:
    """The argv that runs the headless producer with these options."""
    cmd = [sys.executable, "-m", "oos_tui.demo", *options.argv()]
    if ready_file is not None:
        cmd += ["--ready-file", str(ready_file), "--parent-pid", str(os.getpid())]
    return cmd


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; returns the exit status."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
    return int(proc.returncode)


def _tail(stream: IO[bytes], limit: int = 2000) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - limit))
    lines = stream.read().decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else "no output"
    for prefix in ("oos-tui: error: ", "oos-tui: "):
        if last.startswith(prefix):
            return last[len(prefix) :]
    return last


def _wait_ready(
    proc: subprocess.Popen[bytes], ready: Path, errors: IO[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        code = proc.poll()
        if code is not None:
            raise DemoError(f"the demo producer exited with status {code}: {_tail(errors)}")
        if time.monotonic() > deadline:
            raise DemoError(f"the demo producer was not ready after {timeout:g}s")
        time.sleep(0.02)


def run_with_console(
    options: DemoOptions,
    console: Callable[[Path], int],
    *,
    ready_timeout: float = 20.0,
    stop_timeout: float = 5.0,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> int:
    """Start the producer, run ``console`` on the workspace once it is ready, then stop it.

    Args:
        options: The producer's options (its workspace is the console's).
        console: Runs the console on the workspace and returns its exit code.
        ready_timeout: How long the producer may take to set the workspace up.
        stop_timeout: How long it may take to stop after SIGTERM before SIGKILL.
        on_start: Called with the producer's process once started (tests use it).

    Returns:
        The console's exit code.

    Raises:
        DemoError: the producer died or never became ready; it is stopped either way.
    """
    with tempfile.TemporaryDirectory(prefix="oos-demo-run-") as tmp:
        ready = Path(tmp) / "ready"
        with open(Path(tmp) / "producer.err", "w+b") as errors:
            proc = subprocess.Popen(
                producer_command(options, ready),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
            ran = False
            try:
                if on_start is not None:
                    on_start(proc)
                _wait_ready(proc, ready, errors, ready_timeout)
                ran = True
                return console(options.workspace)
            finally:
                early = proc.poll()
                stop_process(proc, stop_timeout)
                if ran and early not in (None, 0):
                    sys.stderr.write(
                        f"oos-tui: warning: the demo producer had stopped (status {early}):"
                        f" {_tail(errors)}\n"
                    )
