"""Recent error counts per minute, read backwards from the end of every log and the store.

The alert engine's error-spike rule needs "errors per minute over the last
hour" on demand, also from the one-shot CLI, without reading whole logs.
Logs are append-only, hence in time order: each file is read backwards from
its end in blocks, and the reading stops at the first block that begins
before the window (every block further back is older still). Within a
block, only lines that could be errors (a cheap byte pattern per format) get
a :meth:`LogFormat.timestamp` and a :meth:`LogFormat.parse`, so the cost
follows the number of errors in the window, not the size of the file.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oos_tui.formats import get_format
from oos_tui.models import Event, Severity

if TYPE_CHECKING:
    from oos_tui.config import Settings
    from oos_tui.formats.base import LogFormat

__all__ = [
    "BackwardReader",
    "RecentErrors",
    "bucket_counts",
    "recent_error_counts",
    "recent_errors",
]

BLOCK_SIZE = 64 * 1024
MAX_BYTES_PER_FILE = 256 * 1024 * 1024
"""Never read more than this much of one file backwards (a file with no timestamps)."""

_FUTURE_SLACK = 120.0
"""Lines up to this far ahead of ``now`` (a producer clock running fast) count as now."""
_MTIME_SLACK = 600.0
"""A file last written this long before the window began cannot hold lines in it."""
_TS_PROBE_LINES = 64

# Necessary conditions for a line of each format to be an error; parse() decides.
_CANDIDATE: dict[str, re.Pattern[bytes]] = {
    "pipe": re.compile(rb"FAIL"),
    "ai": re.compile(rb"(?i)error"),
    "app": re.compile(rb"(?i)err|crit|fatal"),
    "pylog": re.compile(rb"(?i)err|crit|fatal"),
}
_ANY = re.compile(rb"[^\r\n]")
_STORE_ERROR_WORDS = ("error", "err", "critical", "crit", "fatal")


class BackwardReader:
    """Reads a file's complete lines backwards from its end, one block at a time.

    :meth:`regions` yields byte regions made only of whole lines (each ending
    in ``\\n``), newest region first, each in file order. The unterminated
    last line of a growing file is left out (it is read when its newline
    arrives), and so is any line longer than ``max_line_bytes``, so memory
    stays bounded by the block and the line limits.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        block_size: int = BLOCK_SIZE,
        max_line_bytes: int = 16 * 1024 * 1024,
        max_bytes: int = MAX_BYTES_PER_FILE,
    ) -> None:
        self.path = Path(path)
        self.block_size = block_size
        self.max_line_bytes = max_line_bytes
        self.max_bytes = max_bytes
        self.bytes_read = 0
        self.truncated = False
        """True when :attr:`max_bytes` stopped the reading before the start of the file."""
        self.skipped_long = 0

    def regions(self) -> Iterator[bytes]:
        """Whole-line regions from the end backwards; stop iterating to stop reading.

        Raises:
            OSError: the file cannot be opened (it vanished, or permission).
        """
        fd = os.open(self.path, os.O_RDONLY)
        try:
            yield from self._regions(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)

    def _regions(self, fd: int, size: int) -> Iterator[bytes]:
        pos = size
        # The start of the line that ends where the last region began, newest piece
        # first; kept as pieces so a long line is never copied more than once.
        pending: list[bytes] = []
        pending_len = 0
        discarding = True  # the unterminated last line: skip to the first newline
        while pos > 0:
            if self.bytes_read >= self.max_bytes:
                self.truncated = True
                return
            n = min(self.block_size, pos)
            pos -= n
            chunk = os.pread(fd, n, pos)
            self.bytes_read += len(chunk)
            if len(chunk) < n:
                return  # truncated under us: what is left is not this file any more
            if discarding:
                nl = chunk.rfind(b"\n")
                if nl < 0:
                    continue
                chunk = chunk[: nl + 1]
                discarding = False
            if pos == 0:
                region = chunk + b"".join(reversed(pending))
                if region:
                    yield region
                return
            first = chunk.find(b"\n")
            if first < 0:
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len > self.max_line_bytes:
                    # Longer than any reader keeps: drop it whole.
                    self.skipped_long += 1
                    pending, pending_len = [], 0
                    discarding = True
                continue
            region = chunk[first + 1 :] + b"".join(reversed(pending))
            pending, pending_len = [chunk[: first + 1]], first + 1
            if region:
                yield region


@dataclass(frozen=True, slots=True)
class RecentErrors:
    """Errors per minute over a recent window, and what reading them cost."""

    now: float
    counts: tuple[int, ...]
    """Oldest first; ``counts[-1]`` is the minute ending at ``now``."""
    files: int
    bytes_read: int
    store_rows: int
    notes: tuple[str, ...] = ()

    @property
    def last_minute(self) -> int:
        """Errors in the minute ending now."""
        return self.counts[-1] if self.counts else 0

    @property
    def baseline(self) -> float:
        """Mean errors per minute over the window before the last minute."""
        before = self.counts[:-1]
        return sum(before) / len(before) if before else 0.0


def bucket_counts(timestamps: Iterable[float], now: float, minutes: int = 60) -> tuple[int, ...]:
    """Count timestamps into one-minute buckets ending at ``now`` (oldest first).

    Pure, so the console can also fold events it already tails into the same
    shape. Times slightly ahead of ``now`` (a fast producer clock) count in
    the last minute; older or far-future ones are ignored.
    """
    counts = [0] * minutes
    start = now - minutes * 60.0
    for ts in timestamps:
        if ts > now:
            if ts - now > _FUTURE_SLACK:
                continue
            ts = now - 1e-6
        if ts < start or math.isnan(ts):
            continue
        counts[min(minutes - 1, int((ts - start) // 60.0))] += 1
    return tuple(counts)


def _oldest_ts(fmt: LogFormat, region: bytes) -> float | None:
    """The timestamp of the first line in ``region`` that has one (a few lines in at most)."""
    start = 0
    for _ in range(_TS_PROBE_LINES):
        end = region.find(b"\n", start)
        if end < 0:
            return None
        ts = fmt.timestamp(region[start:end])
        if ts is not None:
            return ts
        start = end + 1
    return None


def _error_times(
    fmt: LogFormat, region: bytes, cutoff: float, horizon: float, file: str
) -> Iterator[float]:
    pattern = _CANDIDATE.get(fmt.name, _ANY)
    pos = 0
    search = pattern.search
    while True:
        m = search(region, pos)
        if m is None:
            return
        start = region.rfind(b"\n", 0, m.start()) + 1
        end = region.find(b"\n", m.end())
        if end < 0:
            end = len(region)
        pos = end + 1
        line = region[start:end]
        ts = fmt.timestamp(line)
        if ts is None or ts < cutoff or ts > horizon:
            continue
        event = fmt.parse(line, file, 0, None)
        if isinstance(event, Event) and event.severity >= Severity.ERROR:
            yield event.ts


class _FileScan:
    """Reads one file backwards, collecting error times until the window is passed."""

    def __init__(self, fmt: LogFormat, cutoff: float, horizon: float, settings: Settings) -> None:
        self.fmt = fmt
        self.cutoff = cutoff
        self.horizon = horizon
        self.max_line_bytes = settings.events.max_line_bytes
        self.times: list[float] = []
        self.bytes_read = 0

    def read(self, path: Path) -> bool:
        """Scan ``path``; True when its start is still inside the window (read older files).

        Raises:
            OSError: the file cannot be opened.
        """
        reader = BackwardReader(path, max_line_bytes=self.max_line_bytes)
        crossed = False
        try:
            for region in reader.regions():
                self.times.extend(
                    _error_times(self.fmt, region, self.cutoff, self.horizon, str(path))
                )
                # Lines are in time order: once a region starts before the window,
                # everything further back is older still.
                oldest = _oldest_ts(self.fmt, region)
                if oldest is not None and oldest < self.cutoff:
                    crossed = True
                    break
        finally:
            self.bytes_read += reader.bytes_read
        return not crossed and not reader.truncated


def _store_error_times(
    store: Path, cutoff: float, horizon: float
) -> tuple[list[float], str | None]:
    from oos_tui.store.connection import describe_error, open_ro_sync
    from oos_tui.store.reader import iso_day_floor, julian_day
    from oos_tui.store.rows import to_ts

    if not store.is_file():
        return [], None
    marks = ", ".join("?" * len(_STORE_ERROR_WORDS))
    try:
        conn = open_ro_sync(store)
        try:
            rows = conn.execute(
                "SELECT timestamp FROM events WHERE timestamp >= ?"
                " AND julianday(timestamp) BETWEEN ? AND ?"
                f" AND lower(severity) IN ({marks})",
                [
                    iso_day_floor(cutoff),
                    julian_day(cutoff),
                    julian_day(horizon),
                    *_STORE_ERROR_WORDS,
                ],
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if "no such table" in str(exc):
            return [], None
        return [], f"store events: {describe_error(exc)}"
    times = [ts for (value,) in rows if (ts := to_ts(value)) is not None]
    return times, None


def recent_errors(
    settings: Settings,
    now: float,
    minutes: int = 60,
    *,
    include_store: bool = True,
) -> RecentErrors:
    """Errors (severity error or critical) per minute over the last ``minutes``.

    Every discovered log group is read from its live file backwards, then its
    rotations newest first while the window reaches back into them (so a
    rotation within the last hour loses nothing). Files last modified well
    before the window are not opened at all. Blocking: run it in a thread
    worker.
    """
    from oos_tui.sources.discovery import discover

    cutoff = now - minutes * 60.0
    horizon = now + _FUTURE_SLACK
    groups: dict[str, list[tuple[int, Path, str]]] = {}
    for src in discover(settings):
        # Live first (rank 0), then rotations newest (rank 1) to oldest.
        groups.setdefault(src.group, []).append((src.rotation_rank, src.path, src.format))
    times: list[float] = []
    notes: list[str] = []
    files = 0
    bytes_read = 0
    for members in groups.values():
        for _, path, fmt_name in sorted(members, key=lambda m: m[0]):
            try:
                if path.stat().st_mtime < cutoff - _MTIME_SLACK:
                    break
            except OSError:
                continue
            scan = _FileScan(get_format(fmt_name), cutoff, horizon, settings)
            files += 1
            try:
                go_on = scan.read(path)
            except OSError as exc:
                notes.append(f"{path}: {exc.strerror or exc}")
                continue
            finally:
                times.extend(scan.times)
                bytes_read += scan.bytes_read
            if not go_on:
                break
    store_times: list[float] = []
    if include_store:
        store_times, note = _store_error_times(settings.store_path, cutoff, horizon)
        if note:
            notes.append(note)
    counts = bucket_counts([*times, *store_times], now, minutes)
    return RecentErrors(now, counts, files, bytes_read, len(store_times), tuple(notes))


def recent_error_counts(settings: Settings, now: float, minutes: int = 60) -> tuple[int, ...]:
    """Errors per minute over the last ``minutes``, oldest first (see :func:`recent_errors`)."""
    return recent_errors(settings, now, minutes).counts
