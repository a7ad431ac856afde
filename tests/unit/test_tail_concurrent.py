"""Tailer against a real second process that writes and rotates while we poll."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from oos_tui.sources.tail import RawLine, Tailer

WRITER = Path(__file__).parents[1] / "helpers" / "rotating_writer.py"
COUNT = 20_000
EVERY = 700
DEADLINE_SECONDS = 120


def load_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rotating_writer", WRITER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def follow_writer(log: Path, style: str, read_bytes: int) -> list[RawLine]:
    tailer = Tailer(log, read_bytes=read_bytes)
    proc = subprocess.Popen([sys.executable, str(WRITER), str(log), str(COUNT), str(EVERY), style])
    got: list[RawLine] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    quiet_after_exit = 0
    try:
        while quiet_after_exit < 2:
            assert time.monotonic() < deadline, f"only {len(got)} lines arrived"
            exited = proc.poll() is not None
            batch = tailer.poll()
            got.extend(batch.lines)
            if batch.lines or batch.more:
                quiet_after_exit = 0
                continue
            if exited:
                quiet_after_exit += 1
            else:
                time.sleep(0.0005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        tailer.close()
    assert proc.returncode == 0
    return got


# A small read cap makes the reader lag several rotations behind the writer.
@pytest.mark.parametrize("read_bytes", [4 * 1024 * 1024, 64 * 1024], ids=["4MiB", "64KiB"])
@pytest.mark.parametrize("style", ["numbered", "timestamp"])
def test_every_line_arrives_once_in_order_while_a_writer_rotates(
    tmp_path: Path, style: str, read_bytes: int
) -> None:
    writer = load_writer()
    log = tmp_path / "oos.log"
    got = follow_writer(log, style, read_bytes)

    numbers = [int(line.data[:6]) for line in got]
    assert len(numbers) == COUNT
    assert numbers == list(range(1, COUNT + 1))
    mismatched = [
        n for n, line in zip(numbers, got, strict=True) if line.data != writer.line_for(n)
    ]
    assert mismatched == []
    assert not any(line.truncated for line in got)
    assert any(len(line.data) >= writer.LONG_BYTES for line in got)
    assert any(b"\xff" in line.data for line in got)

    rotated = sorted(p.name for p in tmp_path.iterdir() if p.name != "oos.log")
    assert len(rotated) == (COUNT - 1) // EVERY
    assert {Path(line.path).name for line in got} <= {"oos.log", *rotated}
    # Line numbers count within each file: 1, 2, 3... restarting once per rotation.
    restarts = 0
    for prev, line in itertools.pairwise(got):
        if line.number == 1:
            restarts += 1
        else:
            assert line.number == prev.number + 1, line
    assert got[0].number == 1
    assert restarts == len(rotated)
