"""The demo's rotating logs: numbered and stamped rotation, retention, and no line lost."""

from __future__ import annotations

from pathlib import Path

from oos_tui.demo.rotation import LogFile, stamp_name
from oos_tui.sources.discovery import rotation_key, rotations
from oos_tui.sources.tail import Tailer

T0 = 1_735_689_600.0


def _line(n: int) -> bytes:
    return b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * 40)


def test_numbered_rotation_shifts_and_keeps_the_newest(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "ai_events.log", max_bytes=1024, keep=3)
    for n in range(200):
        log.write(_line(n), T0 + n)
    log.close()
    assert log.lines == 200
    assert log.rotations > 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ai_events.log", "ai_events.log.1", "ai_events.log.2", "ai_events.log.3"]
    # Newest first: .1 holds the lines just before the live file's.
    live_first = (tmp_path / "ai_events.log").read_bytes().splitlines()[0]
    one_last = (tmp_path / "ai_events.log.1").read_bytes().splitlines()[-1]
    assert int(one_last.split(b",")[0][6:]) + 1 == int(live_first.split(b",")[0][6:])
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert data.endswith(b"\n") and len(data) <= 1024


def test_stamped_rotation_names_are_rotations_the_console_recognises(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "worker.log", max_bytes=1024, keep=5, style="stamped")
    for n in range(300):
        log.write(_line(n), T0)  # every rotation within one millisecond
    log.close()
    rotated = rotations(tmp_path / "worker.log")
    assert len(rotated) == 5
    for path in rotated:
        assert rotation_key("worker.log", path.name) is not None
    # rotations() lists newest first; the stamps must agree with the write order.
    firsts = [int(p.read_bytes().split(b",")[0][6:]) for p in rotated]
    assert firsts == sorted(firsts, reverse=True)
    assert stamp_name(tmp_path / "api.log", T0 + 0.25).name == "api.20250101T000000250Z.log"


def test_tailer_follows_every_rotation_without_losing_a_line(tmp_path: Path) -> None:
    path = tmp_path / "ai_events.log"
    log = LogFile(path, max_bytes=2048, keep=5)
    tailer = Tailer(path, start_offset=0)
    got: list[bytes] = []
    for n in range(3000):
        log.write(_line(n), T0 + n)
        if n % 37 == 0:  # several rotations between some polls, fewer than `keep`
            got += [line.data for line in tailer.poll().lines]
    log.close()
    while batch := tailer.poll().lines:
        got += [line.data for line in batch]
    tailer.close()
    assert len(got) == log.lines == 3000
    assert got == [_line(n).rstrip(b"\n") for n in range(3000)]
