"""A log producer for tests: numbered lines, written in pieces, rotated by rename.

Run as ``python rotating_writer.py PATH COUNT EVERY STYLE``. STYLE is ``numbered``
(``NAME.1`` shifted to ``NAME.2``... as Python's RotatingFileHandler does) or
``timestamp`` (``STEM.<timestamp>.log``). Each rotation also writes two lines to the
old file after its rename (a writer that reopens late), and every other rotation
leaves the old file's last line without its newline. Tests load this module by path
to call :func:`line_for`, so what is written and what is expected agree.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

LONG_EVERY = 997
LONG_BYTES = 1_000_000
INVALID_EVERY = 13
LATE_LINES = 2


def line_for(n: int) -> bytes:
    """The content of line ``n`` (without its newline)."""
    head = b"%06d " % n
    if n % LONG_EVERY == 0:
        pattern = b"%d-" % n
        return head + (pattern * (LONG_BYTES // len(pattern) + 1))[:LONG_BYTES]
    if n % INVALID_EVERY == 0:
        return head + b"bad bytes \xff\xfe\xc3( end"
    return head + b"line %d of the rotating writer" % n


class Writer:
    """Writes lines to PATH, rotating every EVERY lines."""

    def __init__(self, path: Path, style: str) -> None:
        self.path = path
        self.style = style
        self.fd = self._create()
        self.rotations = 0
        self.last_stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def _create(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)

    def write(self, n: int, *, newline: bool = True) -> None:
        data = line_for(n) + (b"\n" if newline else b"")
        # Split each line in up to three writes so readers see partial lines.
        cuts = sorted({len(data) * (n % 3) // 4, len(data) * (n % 5) // 6})
        start = 0
        for cut in [*cuts, len(data)]:
            if cut > start:
                os.write(self.fd, data[start:cut])
                start = cut

    def _rotated_name(self) -> Path:
        if self.style == "numbered":
            siblings = []
            for p in self.path.parent.iterdir():
                suffix = p.name[len(self.path.name) + 1 :]
                if p.name.startswith(self.path.name + ".") and suffix.isdigit():
                    siblings.append(int(suffix))
            for k in sorted(siblings, reverse=True):
                os.rename(f"{self.path}.{k}", f"{self.path}.{k + 1}")
            return Path(f"{self.path}.1")
        stamp = max(dt.datetime.now(dt.UTC), self.last_stamp + dt.timedelta(microseconds=1))
        self.last_stamp = stamp
        return self.path.with_name(
            f"{self.path.stem}.{stamp.strftime('%Y-%m-%dT%H-%M-%S_%f')}Z{self.path.suffix}"
        )

    def rotate(self, late: list[int]) -> None:
        os.rename(self.path, self._rotated_name())
        self.rotations += 1
        for i, n in enumerate(late):
            last = i == len(late) - 1
            self.write(n, newline=not (last and self.rotations % 2 == 0))
        os.close(self.fd)
        self.fd = self._create()


def main(argv: list[str]) -> int:
    path, count, every, style = Path(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    writer = Writer(path, style)
    n = 1
    while n <= count:
        if n > 1 and (n - 1) % every == 0 and n + LATE_LINES <= count:
            late = list(range(n, n + LATE_LINES))
            writer.rotate(late)
            n += LATE_LINES
            continue
        writer.write(n)
        n += 1
    os.close(writer.fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
