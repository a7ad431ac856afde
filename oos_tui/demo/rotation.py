"""Append-only log files that count their lines and rotate as the OOS loggers do.

Two rotation styles (CONTRACT §1): ``numbered`` shifts ``NAME.1`` → ``NAME.2``…
and renames the live file to ``NAME.1``, as Python's RotatingFileHandler does
(``ai_events.log``); ``stamped`` renames the live file to
``STEM.<timestamp>.log`` (the application logs). Every write is one
``os.write`` on an ``O_APPEND`` descriptor: a reader never waits on a buffer,
and a line is never split between two files.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

__all__ = ["LogFile", "stamp_name"]


def stamp_name(live: Path, ts: float) -> Path:
    """``STEM.<yyyymmddTHHMMSSmmm>Z.log``-style name for a rotation at ``ts``.

    Milliseconds are kept in the digits (the discovery sorts rotations by
    them) so two rotations within a second still sort in order.
    """
    whole = int(ts)
    ms = round((ts - whole) * 1000)
    if ms == 1000:
        whole, ms = whole + 1, 0
    text = time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole)) + f"{ms:03d}Z"
    return live.with_name(f"{live.stem}.{text}{live.suffix}")


class LogFile:
    """One live log file; :meth:`write` appends whole lines and rotates by size.

    Args:
        path: The live file.
        max_bytes: Rotate before a write would take the file past this size;
            None never rotates.
        keep: Rotated files kept; older ones are deleted.
        style: ``numbered`` or ``stamped``.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int | None = None,
        keep: int = 5,
        style: str = "numbered",
    ) -> None:
        if style not in ("numbered", "stamped"):
            raise ValueError(f"unknown rotation style {style!r}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self.style = style
        self.lines = 0
        """Lines written through this object, across every rotation."""
        self.rotations = 0
        self._fd = -1
        self._size = 0
        self._last_stamp: Path | None = None
        self._open()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size

    def write(self, data: bytes, ts: float) -> None:
        """Append ``data`` (whole lines), rotating first if it would overflow.

        Args:
            data: Bytes ending in a newline.
            ts: Simulated time, used to name a stamped rotation.
        """
        if self._fd < 0:
            raise ValueError(f"{self.path} is closed")
        if self.max_bytes is not None and self._size and self._size + len(data) > self.max_bytes:
            self.rotate(ts)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)
        self.lines += data.count(b"\n")

    def rotate(self, ts: float) -> None:
        """Close the live file, move it aside, start a fresh one, drop the oldest rotations."""
        os.close(self._fd)
        self._fd = -1
        if self.style == "numbered":
            self._shift()
        else:
            self._stamp(ts)
        self.rotations += 1
        self._open()

    def _shift(self) -> None:
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        with contextlib.suppress(FileNotFoundError):
            oldest.unlink()
        for n in range(self.keep - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{n}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(src, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def _stamp(self, ts: float) -> None:
        target = stamp_name(self.path, ts)
        while target.exists() or (self._last_stamp is not None and target <= self._last_stamp):
            ts += 0.001
            target = stamp_name(self.path, ts)
        os.replace(self.path, target)
        self._last_stamp = target
        prefix, suffix = f"{self.path.stem}.", self.path.suffix
        mine = sorted(
            p
            for p in self.path.parent.iterdir()
            if p.name.startswith(prefix)
            and p.name.endswith(suffix)
            and p.name[len(prefix) : -len(suffix)][:8].isdigit()
        )
        for old in mine[: max(0, len(mine) - self.keep)]:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()

    def close(self) -> None:
        """Close the file (writes are unbuffered: nothing is left to flush)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
