"""Joins the continuation lines of plain-text Python logs (tracebacks) to their record."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from oos_tui.sources.tail import RawLine

__all__ = ["RecordAssembler"]


class RecordAssembler:
    """Joins continuation lines to the record they belong to (plain-text Python logs).

    A record is a line for which ``starts_record`` is true, plus the lines after it
    for which it is false. It is complete only when the next record starts, so the
    last record waits in the assembler: the caller calls :meth:`flush` when the file
    rotates or has been quiet for a while. A line that is not a record start and
    arrives with nothing pending starts a record of its own (the parser calls it an
    orphan continuation), and continuation lines after it join it, so the tail of a
    traceback read from its middle stays in one piece. A change of file (another
    path, or a line number that is not past the last one) also ends the pending record,
    so records never straddle a rotation even if the caller flushes late.

    Args:
        starts_record: whether a line begins a new record.
        max_record_bytes: the largest joined record kept; the rest is dropped.
        max_record_lines: the most lines in one record; later continuation lines
            are dropped. Either bound marks the record ``truncated``.
    """

    def __init__(
        self,
        starts_record: Callable[[bytes], bool],
        *,
        max_record_bytes: int = 16 * 1024 * 1024,
        max_record_lines: int = 10_000,
    ) -> None:
        if max_record_bytes < 1 or max_record_lines < 1:
            raise ValueError("max_record_bytes and max_record_lines must be positive")
        self._starts = starts_record
        self._max_bytes = max_record_bytes
        self._max_lines = max_record_lines
        self._first: RawLine | None = None
        self._last_number = 0
        self._parts: list[bytes] = []
        self._size = 0
        self._full = False
        self._truncated = False

    @property
    def pending(self) -> bool:
        """Whether a record is waiting for its end (the next start, or a flush)."""
        return self._first is not None

    def feed(self, lines: Iterable[RawLine]) -> list[RawLine]:
        """Add lines in file order; returns the records they completed.

        Each record's ``data`` is its lines joined by ``b"\\n"``; its offset,
        number and path are those of its first line.
        """
        out: list[RawLine] = []
        for line in lines:
            first = self._first
            if first is not None and (
                line.path != first.path
                or line.number <= self._last_number
                or self._starts(line.data)
            ):
                out.append(self._take(first))
                first = None
            if first is None:
                self._begin(line)
            else:
                self._add(line)
            self._last_number = line.number
        return out

    def flush(self) -> list[RawLine]:
        """Emit the pending record, if any (the file rotated, or has been quiet)."""
        return [self._take(self._first)] if self._first is not None else []

    def _begin(self, line: RawLine) -> None:
        self._first = line
        self._truncated = line.truncated
        data = line.data
        if len(data) > self._max_bytes:
            data = data[: self._max_bytes]
            self._truncated = self._full = True
        else:
            self._full = False
        self._parts = [data]
        self._size = len(data)

    def _add(self, line: RawLine) -> None:
        if self._full or len(self._parts) >= self._max_lines:
            self._truncated = self._full = True
            return
        room = self._max_bytes - self._size - 1
        if len(line.data) > room:
            if room > 0:
                self._parts.append(line.data[:room])
                self._size += 1 + room
            self._truncated = self._full = True
            return
        self._parts.append(line.data)
        self._size += 1 + len(line.data)
        self._truncated = self._truncated or line.truncated

    def _take(self, first: RawLine) -> RawLine:
        if len(self._parts) == 1 and self._parts[0] is first.data and not self._full:
            record = first
        else:
            record = RawLine(
                b"\n".join(self._parts), first.offset, first.number, first.path, self._truncated
            )
        self._first = None
        self._parts = []
        self._size = 0
        self._full = self._truncated = False
        return record
