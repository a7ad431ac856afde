"""Follows one log file by byte offsets through growth, truncation, rotation and deletion.

A :class:`Tailer` is polled ("what is new since last time?") and never blocks on
anything but a bounded read. Identity is the file's ``(st_dev, st_ino)``: while the
inode at the path is the one we hold open, the file is the same; when it changes,
the old file is drained to its end through the descriptor we still hold (a writer
may append after the rename), then every file rotated after it, then the new live
file. Holding the old descriptor until the switch also means its inode cannot be
reused under us.

Known limits: copytruncate followed by regrowth past our offset before the next
poll cannot be told from an append unless the byte before our offset stopped
being a newline; a file deleted while we lag behind its rotations loses the
rotated files we had not reached (we cannot tell which are newer).
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from oos_tui.sources.discovery import rotations

__all__ = ["FileRun", "RawLine", "TailBatch", "TailNote", "Tailer"]

_SCAN_ATTEMPTS = 12
_SCAN_PAUSE = 0.001
"""Seconds between directory scans that raced a rotation (growing: 1 ms, 2 ms, …)."""


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line as bytes, with where it came from (decoding is the formats' job)."""

    data: bytes
    offset: int
    number: int
    path: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class TailNote:
    """Something that happened to the file, worth one line in the console."""

    kind: str
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class FileRun:
    """``count`` lines of a batch in a row that were read from one file, named by identity.

    A line's ``path`` is the name its file had when it was read; a writer that
    rotates again may have moved it on by the time the caller looks, and a
    file replaced at the live path has the same name as its successor. The
    identity ``(st_dev, st_ino)`` says which file it was.

    ``end`` is set when the file was read to its end and left for the next one
    (rotated away): the offset just past its last line, one past the file's
    end when that line had no newline, as if it had one. Only the reader knows
    it: a line's length says nothing of a ``\\r`` dropped or a long line cut.
    """

    ident: tuple[int, int]
    count: int
    end: int | None = None


@dataclass(frozen=True, slots=True)
class TailBatch:
    """What one poll found; ``more`` means the read cap was hit and news is waiting.

    ``runs`` say which file the lines came from: the lines are the runs' lines
    one after another (a file left with no new line has a run of 0 lines).
    """

    lines: tuple[RawLine, ...]
    notes: tuple[TailNote, ...]
    more: bool
    runs: tuple[FileRun, ...] = field(default=(), compare=False)


_EMPTY = TailBatch((), (), False)


def _ident(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _open(path: Path) -> tuple[int, os.stat_result]:
    # O_NONBLOCK: opening a FIFO that someone put at the path must not hang the poll.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class _Handle:
    """One open file being read: identity, read position and the line in progress."""

    __slots__ = (
        "count_until",
        "detached",
        "dev",
        "emitted",
        "emitted_at_detach",
        "fd",
        "gone",
        "ino",
        "label",
        "line_no",
        "line_start",
        "partial",
        "partial_len",
        "pos",
        "skipping",
    )

    def __init__(self, fd: int, st: os.stat_result, label: str) -> None:
        self.fd = fd
        self.dev, self.ino = _ident(st)
        self.label = label
        self.pos = 0
        self.line_start = 0
        self.line_no = 1
        self.partial: list[bytes] = []
        self.partial_len = 0
        self.skipping = False
        self.count_until: int | None = None
        self.detached = False
        self.gone = ""
        self.emitted = 0
        self.emitted_at_detach = 0

    @property
    def ident(self) -> tuple[int, int]:
        return self.dev, self.ino

    def restart(self) -> None:
        self.pos = self.line_start = 0
        self.line_no = 1
        self.partial = []
        self.partial_len = 0
        self.skipping = False
        self.count_until = None

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1


class Tailer:
    """Follows one file; call :meth:`poll` for what is new since the last call.

    Lines come out whole and in order, each exactly once, across rotation by rename
    (``NAME.1``, ``NAME.<timestamp>.log``...), truncation in place and deletion. A
    line still being written is held back until its newline arrives, but never more
    than ``max_line_bytes`` of it: a longer line comes out once, truncated, and the
    rest of it is skipped. Each poll reads at most ``read_bytes``, so one poll of a
    huge file stays short; ``TailBatch.more`` says to call again.

    Args:
        path: the live file; it may not exist yet.
        start_offset: where to begin in the file as it is now: an offset at a line
            start (the caller has indexed the file up to there, ``start_line`` being
            the number of the line at that offset), or None to skip what the file
            holds now and follow only lines completed from here on (the existing
            lines are counted, within the read cap, so numbers stay true). If the
            file does not exist yet, it is read from the start when it appears.
        start_line: the 1-based number of the line at ``start_offset``.
        max_line_bytes: the longest line kept whole.
        read_bytes: the most bytes one poll reads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start_offset: int | None = 0,
        start_line: int = 1,
        max_line_bytes: int = 16 * 1024 * 1024,
        read_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        if max_line_bytes < 1 or read_bytes < 1:
            raise ValueError("max_line_bytes and read_bytes must be positive")
        if start_offset is not None and start_offset < 0:
            raise ValueError("start_offset must not be negative")
        self.path = Path(path)
        self._name = self.path.name
        self._max = max_line_bytes
        self._read_bytes = read_bytes
        self._cur: _Handle | None = None
        self._queue: deque[_Handle] = deque()
        self._start: tuple[int | None, int] | None = (start_offset, max(start_line, 1))
        self._missing = False
        self._last_error: str | None = None
        self._notes: list[TailNote] = []
        self._runs: list[FileRun] = []
        self._run_start = 0
        self._closed = False
        self._resume = (0, 1)
        try:
            self._cur = self._open_live(self._notes)
        except OSError as exc:
            self._error(exc, self._notes)

    def _position(self) -> tuple[int, int]:
        cur = self._cur
        if cur is None:
            return self._resume
        return cur.line_start, cur.line_no - 1 if cur.skipping else cur.line_no

    @property
    def offset(self) -> int:
        """The byte offset in the current file up to which every line has been returned.

        It stays readable after :meth:`close`, to be passed back as ``start_offset``.
        """
        return self._position()[0]

    @property
    def line(self) -> int:
        """The number of the line at :attr:`offset` (pass it back as ``start_line``)."""
        return self._position()[1]

    @property
    def inode(self) -> int | None:
        """The inode of the file being read, None while there is none."""
        return self._cur.ino if self._cur is not None else None

    def close(self) -> None:
        """Release the open files (a deleted file's space is freed only then)."""
        self._resume = self._position()
        self._closed = True
        for handle in (self._cur, *self._queue):
            if handle is not None:
                handle.close()
        self._cur = None
        self._queue.clear()

    def __enter__(self) -> Tailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll(self) -> TailBatch:
        """Read what is new, up to the read cap.

        Never raises for I/O problems: they come back as a ``TailNote`` of kind
        ``"error"`` (once per distinct problem) and the next poll tries again.

        Returns:
            The completed lines in file order, notes on what happened to the file,
            and whether the read cap was hit.
        """
        if self._closed:
            return _EMPTY
        lines: list[RawLine] = []
        notes, self._notes = self._notes, []
        self._runs, self._run_start = [], 0
        try:
            more = self._advance(lines, notes)
        except OSError as exc:
            self._error(exc, notes)
            more = False
        else:
            self._last_error = None
        runs = self._runs
        if self._cur is not None and len(lines) > self._run_start:
            runs.append(FileRun(self._cur.ident, len(lines) - self._run_start))
        if not lines and not notes and not more and not runs:
            return _EMPTY
        return TailBatch(tuple(lines), tuple(notes), more, tuple(runs))

    def _error(self, exc: OSError, notes: list[TailNote]) -> None:
        message = f"{self._name}: {exc.strerror or exc}"
        if message != self._last_error:
            notes.append(TailNote("error", str(self.path), message))
        self._last_error = message

    def _open_live(self, notes: list[TailNote]) -> _Handle | None:
        try:
            fd, st = _open(self.path)
        except (FileNotFoundError, NotADirectoryError):
            self._missing = True
            self._start = None
            return None
        handle = _Handle(fd, st, str(self.path))
        if self._start is not None:
            offset, line = self._start
            if offset is None:
                if st.st_size > 0:
                    handle.count_until = st.st_size
            else:
                handle.pos = handle.line_start = offset
                handle.line_no = line
            self._start = None
        if self._missing:
            notes.append(TailNote("appeared", str(self.path), f"{self._name} appeared"))
            self._missing = False
        return handle

    def _advance(self, lines: list[RawLine], notes: list[TailNote]) -> bool:
        budget = self._read_bytes
        while True:
            cur = self._cur
            if cur is None:
                cur = self._cur = self._open_live(notes)
                if cur is None:
                    return False
            if self._queue:
                budget, eof = self._read(cur, budget, lines)
                if not eof:
                    return True
                self._finish(cur, lines)
                self._cur = self._queue.popleft()
                continue

            st = _stat(self.path)
            if st is not None and _ident(st) == cur.ident:
                if cur.detached:
                    cur.detached, cur.gone, cur.label = False, "", str(self.path)
                if self._replaced_in_place(cur, st):
                    cur.restart()
                    notes.append(
                        TailNote("truncated", cur.label, f"{self._name} truncated, reading from 0")
                    )
                budget, eof = self._read(cur, budget, lines)
                return not eof

            if not cur.detached:
                self._detach(cur, st is None, notes)
            budget, eof = self._read(cur, budget, lines)
            if not eof:
                return True
            if st is None:
                return False
            successors = self._successors(cur)
            if not successors:
                return False
            self._finish(cur, lines)
            notes.append(self._switch_note(cur, len(successors)))
            self._queue.extend(successors)
            self._cur = self._queue.popleft()

    def _detach(self, cur: _Handle, path_missing: bool, notes: list[TailNote]) -> None:
        """The path no longer names our file: find where it went, keep reading it."""
        cur.detached = True
        cur.emitted_at_detach = cur.emitted
        found = self._find_by_inode(cur)
        if found is not None:
            cur.label = str(found)
            cur.gone = "rotated"
        else:
            cur.gone = "deleted" if path_missing else "replaced"
            if path_missing:
                notes.append(
                    TailNote(
                        "deleted",
                        str(self.path),
                        f"{self._name} deleted (reading what is left of the open file)",
                    )
                )

    def _switch_note(self, old: _Handle, successors: int) -> TailNote:
        drained = old.emitted - old.emitted_at_detach
        if old.gone == "deleted":
            return TailNote("appeared", str(self.path), f"{self._name} appeared again")
        if old.gone == "replaced":
            what = f"{self._name} replaced by a new file"
        else:
            what = f"{self._name} rotated to {Path(old.label).name}"
        extra = f", then {successors - 1} newer rotated file(s)" if successors > 1 else ""
        return TailNote("rotated", old.label, f"{what} (old file drained: {drained} lines{extra})")

    def _family(self) -> list[tuple[Path, tuple[int, int] | None]]:
        """The rotated files oldest first, then the live file, each with its identity."""
        out: list[tuple[Path, tuple[int, int] | None]] = []
        for name in [*reversed(rotations(self.path)), self.path]:
            st = _stat(name)
            out.append((name, _ident(st) if st is not None else None))
        return out

    def _find_by_inode(self, cur: _Handle) -> Path | None:
        # Twice: a directory read racing a rename may miss the renamed entry once.
        for _ in range(2):
            for name, ident in self._family():
                if ident == cur.ident:
                    return name
            try:
                with os.scandir(self.path.parent) as it:
                    for entry in it:
                        if entry.inode() != cur.ino:
                            continue
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        if _ident(st) == cur.ident:
                            return Path(entry.path)
            except OSError:
                return None
        return None

    def _successors(self, cur: _Handle) -> list[_Handle]:
        """Open every file rotated after ``cur``, oldest first, then the live file.

        Opening pins each file's inode. The directory is read again afterwards and
        the whole step retried if a rotation moved names in between, so that files
        rotated several times between two polls are neither skipped nor read twice.
        """
        handles: list[_Handle] = []
        for attempt in range(_SCAN_ATTEMPTS):
            before = self._family()
            position = next((i for i, (_, ident) in enumerate(before) if ident == cur.ident), None)
            if position is not None:
                cur.label = str(before[position][0])
                newer = before[position + 1 :]
            else:
                # Our file is not among the names: deleted, or caught mid-shift of
                # a numbered rotation (.3 → .4 …). Only the last attempt may
                # give up on the generations in between and go to the live file.
                newer = before[-1:]
            wanted = [(n, ident) for n, ident in newer if ident not in (None, cur.ident)]
            handles = []
            consistent = position is not None
            try:
                for name, ident in wanted:
                    try:
                        fd, st = _open(name)
                    except (FileNotFoundError, NotADirectoryError):
                        consistent = False
                        continue
                    if _ident(st) != ident or any(h.ident == ident for h in handles):
                        os.close(fd)
                        consistent = False
                        continue
                    handles.append(_Handle(fd, st, str(name)))
                consistent = consistent and self._family() == before
            except BaseException:
                for h in handles:
                    h.close()
                raise
            if consistent or attempt == _SCAN_ATTEMPTS - 1:
                return handles
            for h in handles:
                h.close()
            time.sleep(_SCAN_PAUSE * (attempt + 1))  # let the writer finish its renames
        return handles

    def _replaced_in_place(self, cur: _Handle, st: os.stat_result) -> bool:
        if st.st_size < cur.pos:
            return True
        if cur.count_until is not None and st.st_size < cur.count_until:
            return True
        if st.st_size > cur.pos and cur.line_start > 0:
            # After copytruncate and regrowth the byte before our line start is
            # usually no longer the newline we saw there.
            return os.pread(cur.fd, 1, cur.line_start - 1) != b"\n"
        return False

    def _read(self, cur: _Handle, budget: int, lines: list[RawLine]) -> tuple[int, bool]:
        """Read from ``cur`` until its end or the budget; returns (budget left, at end)."""
        while True:
            size = os.fstat(cur.fd).st_size
            if cur.pos >= size:
                return budget, True
            if budget <= 0:
                return budget, False
            want = min(budget, size - cur.pos)
            if cur.count_until is not None:
                want = min(want, cur.count_until - cur.pos)
            data = os.pread(cur.fd, want, cur.pos)
            if not data:
                return budget, True
            budget -= len(data)
            if cur.count_until is not None:
                self._count(cur, data)
            else:
                self._split(cur, data, lines)

    @staticmethod
    def _count(cur: _Handle, data: bytes) -> None:
        newlines = data.count(b"\n")
        if newlines:
            cur.line_no += newlines
            cur.line_start = cur.pos + data.rfind(b"\n") + 1
        cur.pos += len(data)
        if cur.count_until is not None and cur.pos >= cur.count_until:
            cur.count_until = None
            cur.pos = cur.line_start

    def _split(self, cur: _Handle, data: bytes, lines: list[RawLine]) -> None:
        pieces = data.split(b"\n")
        rest = pieces.pop()
        if pieces:
            first, start = pieces[0], cur.line_start
            if cur.skipping:
                cur.skipping = False
            else:
                if cur.partial:
                    cur.partial.append(first)
                    first = b"".join(cur.partial)
                    cur.partial = []
                    cur.partial_len = 0
                self._emit(cur, first, start, lines)
            cur.line_start = cur.pos + len(pieces[0]) + 1
            self._emit_many(cur, pieces, lines)
        cur.pos += len(data)
        if cur.skipping or not rest:
            return
        cur.partial.append(rest)
        cur.partial_len += len(rest)
        # One byte of slack: a line of exactly max bytes may still end in "\r\n".
        if cur.partial_len > self._max + 1:
            head = b"".join(cur.partial)[: self._max]
            cur.partial = []
            cur.partial_len = 0
            cur.skipping = True
            lines.append(RawLine(head, cur.line_start, cur.line_no, cur.label, True))
            cur.line_no += 1
            cur.emitted += 1

    def _emit_many(self, cur: _Handle, pieces: list[bytes], lines: list[RawLine]) -> None:
        """Emit ``pieces[1:]``: whole lines, the hot path of a big read."""
        limit, label, append = self._max, cur.label, lines.append
        start, number = cur.line_start, cur.line_no
        for piece in itertools.islice(pieces, 1, None):
            end = start + len(piece) + 1
            if piece[-1:] == b"\r":
                piece = piece[:-1]
            if len(piece) > limit:
                append(RawLine(piece[:limit], start, number, label, True))
            else:
                append(RawLine(piece, start, number, label))
            start = end
            number += 1
        cur.emitted += number - cur.line_no
        cur.line_start, cur.line_no = start, number

    def _emit(self, cur: _Handle, data: bytes, start: int, lines: list[RawLine]) -> None:
        if data.endswith(b"\r"):
            data = data[:-1]
        truncated = len(data) > self._max
        if truncated:
            data = data[: self._max]
        lines.append(RawLine(data, start, cur.line_no, cur.label, truncated))
        cur.line_no += 1
        cur.emitted += 1

    def _finish(self, cur: _Handle, lines: list[RawLine]) -> None:
        """A rotated file is complete: its unterminated last line is a line."""
        end = cur.line_start
        if cur.partial and not cur.skipping:
            self._emit(cur, b"".join(cur.partial), cur.line_start, lines)
            cur.partial = []
            cur.partial_len = 0
            end = cur.pos + 1
        elif cur.skipping:
            end = cur.pos + 1  # a cut line that never ended: its bytes run to the end
        self._runs.append(FileRun(cur.ident, len(lines) - self._run_start, end))
        self._run_start = len(lines)
        cur.close()
