"""Finding the records of a stream that do not parse, so the Events list can hide them.

An unreadable line is a record whose format's ``parse`` returns a
:class:`~oos_tui.models.ParseError` (the list's ``???`` rows). Parsing every
line of a 2,000,000-line ``oos.log`` takes about ten seconds, too long to
wait for after a key press, so :class:`UnreadableFinder` works in two passes
per file and keeps its progress between calls:

1. *quick*: each 32 MB chunk is tested with numpy for the shapes broken
   lines usually have (no year at the start, too few ``|``, a line cut
   short, a JSON line not closed by ``}``, a control byte, an empty line);
   only those candidates are parsed to confirm. About 2 s for the
   2,000,000-line benchmark log, finding 10,087 of its 10,091 unreadable
   lines: a line of the right shape can still hold broken JSON;
2. *thorough*: every record is parsed, a slice at a time, for a bounded
   time per call (about 13 s in all for that log), so the answer becomes
   exact after some calls without any one stalling.

Both passes remember how far they got per file (by its identity), so after
new lines arrive only the new records are read. The result is the stream's
merged order with the unreadable records left out: a :class:`GappedOrder`,
which reads like the order itself (a few positions skipped, no copy of the
order's refs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from oos_tui.eventlog.access import _MAX_RECORD, RecordReader
from oos_tui.eventlog.chunked import CHUNK, Order
from oos_tui.eventlog.index import FileView
from oos_tui.eventlog.search import SearchCancelled
from oos_tui.eventlog.stream import REF_SHIFT, StreamView
from oos_tui.formats import get_format
from oos_tui.formats.base import LogFormat
from oos_tui.models import ParseError

__all__ = ["GappedOrder", "UnreadableFinder", "UnreadableResult", "suspect_records"]

_CHUNK_BYTES = 32 * 1024 * 1024
_SLICE = 8192
"""Records parsed by the thorough pass between two looks at the clock and the cancel flag."""
_QUICK_ALONE = 65_536
"""A call whose quick pass read more records than this leaves the thorough pass to the next."""
_LOCATE_MAX = 2048
"""Unreadable refs looked up by time in a new order; more than this: one scan of the order."""
_NO_REFS = np.empty(0, dtype=np.int64)
_NO_REFS.flags.writeable = False


@dataclass(frozen=True, eq=False)
class GappedOrder:
    """A stream order with some positions left out, read like the order itself.

    :class:`~oos_tui.widgets.event_list.EventList` reads its rows through
    ``length``, ``[row]`` and ``slice``; for a 2,000,000-line stream with a
    few thousand unreadable lines this keeps only their positions, not a
    16 MB copy of the order.

    Args:
        order: the merged order (a :class:`~oos_tui.eventlog.chunked.Chunked` or
            :class:`~oos_tui.eventlog.chunked.Run`).
        holes: the positions in ``order`` left out, sorted, distinct.
    """

    order: Order
    holes: np.ndarray
    _before: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        holes = np.ascontiguousarray(self.holes, dtype=np.int64)
        holes.flags.writeable = False
        before = holes - np.arange(holes.shape[0], dtype=np.int64)
        before.flags.writeable = False
        object.__setattr__(self, "holes", holes)
        object.__setattr__(self, "_before", before)  # rows kept before each hole

    @property
    def length(self) -> int:
        """Rows left."""
        return self.order.length - int(self.holes.shape[0])

    def __len__(self) -> int:
        return self.length

    def position(self, row: int) -> int:
        """Where row ``row`` is in the full order."""
        return row + int(np.searchsorted(self._before, row, side="right"))

    def __getitem__(self, row: int) -> int:
        if row < 0:
            row += self.length
        if not 0 <= row < self.length:
            raise IndexError(row)
        return int(self.order[self.position(row)])

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as an array of refs."""
        start, stop = max(0, start), min(self.length, stop)
        if start >= stop:
            return np.empty(0, dtype=np.int64)
        first, last = self.position(start), self.position(stop - 1) + 1
        part = self.order.slice(first, last)
        lo, hi = np.searchsorted(self.holes, [first, last]).tolist()
        if hi > lo:
            part = np.delete(part, self.holes[lo:hi] - first)
        return np.asarray(part, dtype=np.int64)

    def array(self) -> np.ndarray:
        """Every row as one array (a copy: for tests and small streams)."""
        return self.slice(0, self.length)


@dataclass(frozen=True, eq=False)
class UnreadableResult:
    """The unreadable records of one stream view, and that view's order without them."""

    view: StreamView
    refs: np.ndarray
    """Refs of the unreadable records found, sorted by ref."""
    rows: GappedOrder
    checked: float
    """Share of the view's file records parsed one by one: 1.0 when ``refs`` is exact."""
    scanned: int
    """Records this call read for the first time (to decide whether to hand memory back)."""

    @property
    def count(self) -> int:
        """Unreadable records found."""
        return int(self.refs.shape[0])

    @property
    def complete(self) -> bool:
        """Every record was parsed: no unreadable record is missing from ``refs``."""
        return self.checked >= 1.0

    @property
    def version(self) -> int:
        """The version of the view the result is for."""
        return self.view.version


@dataclass
class _FileScan:
    """How far the two passes got in one file, and what they found (record indexes)."""

    key: tuple[int, tuple[int, int] | None, int]
    quick: int = 0
    sure: int = 0
    bad: np.ndarray = field(default_factory=lambda: _NO_REFS)

    def add(self, found: np.ndarray) -> None:
        if found.size:
            self.bad = np.union1d(self.bad, found)


def _file_key(view: FileView) -> tuple[int, tuple[int, int] | None, int]:
    """What names one file's records: its slot, its identity, where its index starts.

    A quick tail window and the full index of the same file number their
    records differently (the window starts mid-file), and a reload may put
    another file in the same slot.
    """
    first = int(view.offsets[0]) if view.count else 0
    return (view.src, view.ident, first)


def suspect_records(
    fmt: LogFormat, data: bytes, starts: np.ndarray, stops: np.ndarray
) -> np.ndarray:
    """Which records of a chunk look unreadable from their bytes alone (a cheap first guess).

    ``starts``/``stops`` are each record's span in ``data`` without its
    newline. A record is suspect when it is empty, holds a control byte
    (other than tab, newline and carriage return), or breaks its format's
    shape: for ``oos.log`` no year and dash at the start, fewer than five
    ``|`` or data not ending in ``}``/``]``; for JSON lines not starting with
    ``{`` or not ending with ``}``. Most unreadable lines are suspect, but not
    necessarily all (valid shape, broken JSON): parsing decides.
    """
    n = int(starts.shape[0])
    size = len(data)
    if n == 0 or size == 0:
        return np.ones(n, dtype=bool)
    buf = np.frombuffer(data, dtype=np.uint8)
    top = size - 1

    def at(positions: np.ndarray) -> np.ndarray:
        return buf[np.clip(positions, 0, top)]  # a record too short to have it is suspect anyway

    has_cr = (stops > starts) & (at(stops - 1) == 13)
    ends = stops - has_cr  # the last byte that counts is at ends - 1
    bad = ends <= starts
    low = np.flatnonzero(buf < 32)
    if low.size:
        byte = buf[low]
        low = low[(byte != 9) & (byte != 10) & (byte != 13)]
        owner = np.searchsorted(starts, low, side="right") - 1
        inside = (owner >= 0) & (low < stops[np.maximum(owner, 0)])
        bad[owner[inside]] = True
    if fmt.multiline:
        return bad
    first, final = at(starts), at(ends - 1)
    if any(p.startswith(b"{") for p in fmt.ts_prefixes):
        bad |= (first != ord("{")) | (final != ord("}"))
    elif fmt.name == "pipe":
        # A time starts with a year and a dash (the parser decides the rest).
        for k in range(4):
            digit = at(starts + k)
            bad |= (digit < ord("0")) | (digit > ord("9"))
        bad |= at(starts + 4) != ord("-")
        pipes = np.flatnonzero(buf == ord("|"))  # a wrong separator: too few fields
        bad |= np.searchsorted(pipes, stops) - np.searchsorted(pipes, starts) < 5
        bad |= (final != ord("}")) & (final != ord("]"))  # a line cut short
    return bad


class UnreadableFinder:
    """Finds the unreadable records of stream views, a bounded amount of work per call.

    One per screen, called from one worker thread at a time (a cancelled call
    may still be finishing: calls are serialised). Store rows are events
    already, never unreadable; only files are read.

    Args:
        thorough_seconds: how long one call may spend on the thorough pass
            (it always parses one slice of 8,192 records when any is left).
        max_record_bytes: read at most this much of a record, as the list's
            reader does (a longer line is judged on what the list shows).
        clock: monotonic seconds (tests may pass a fake one).
    """

    def __init__(
        self,
        *,
        thorough_seconds: float = 0.25,
        max_record_bytes: int = _MAX_RECORD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = RecordReader(cache_size=16, max_record_bytes=max_record_bytes)
        self._max = max_record_bytes
        self._thorough_seconds = thorough_seconds
        self._clock = clock
        self._files: dict[int, _FileScan] = {}
        self._last: tuple[Order, np.ndarray, np.ndarray] | None = None
        """The last order composed: (order, hole positions, the refs at them)."""
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the reader's files."""
        self._reader.close()

    def find(
        self, view: StreamView, *, cancelled: Callable[[], bool] = lambda: False
    ) -> UnreadableResult:
        """The unreadable records of ``view`` found so far, and its order without them.

        Finishes the quick pass over every record not seen before, then spends
        up to ``thorough_seconds`` on the thorough pass; call again (with the
        same or a newer view) until the result is ``complete``.

        Raises:
            SearchCancelled: ``cancelled()`` became true between chunks.
        """
        with self._lock:
            return self._find(view, cancelled)

    def _find(self, view: StreamView, cancelled: Callable[[], bool]) -> UnreadableResult:
        sources = [f for f in view.files if f is not None]
        scans: list[tuple[FileView, _FileScan]] = []
        for source in sources:
            key = _file_key(source)
            scan = self._files.get(source.src)
            if scan is None or scan.key != key or scan.quick > source.count:
                scan = self._files[source.src] = _FileScan(key)
            scans.append((source, scan))
        live = {source.src for source in sources}
        for src in [s for s in self._files if s not in live]:
            del self._files[src]
        scanned = 0
        for source, scan in scans:
            scanned += self._quick(source, scan, cancelled)
        # A long quick pass (the first over a big file) is reported before any
        # thorough work: the call after it, with little new to see, goes on.
        if scanned <= _QUICK_ALONE:
            self._check(scans, cancelled)
        total = sum(source.count for source in sources)
        sure = sum(min(scan.sure, source.count) for source, scan in scans)
        parts = [(np.int64(source.src) << REF_SHIFT) + scan.bad for source, scan in scans]
        refs = np.sort(np.concatenate(parts)) if parts else _NO_REFS
        rows = GappedOrder(view.order, self._holes(view, refs))
        checked = 1.0 if sure >= total else sure / total
        return UnreadableResult(view, refs, rows, checked, scanned)

    # -- the two passes ------------------------------------------------------------

    def _spans(
        self, source: FileView, first: int, stop: int, offsets: np.ndarray
    ) -> tuple[bytes, np.ndarray, np.ndarray] | None:
        """Records ``first:stop`` read in one go: the bytes and each record's span in them.

        None when the file cannot be read (deleted, or another file at its
        path): the list shows each of its records as unreadable then.
        """
        data = self._reader.range_bytes(source, first, stop)
        if data is None:
            return None
        base = int(offsets[first])
        starts = offsets[first:stop] - base
        nexts = np.empty(stop - first, dtype=np.int64)
        nexts[:-1] = offsets[first + 1 : stop] - base
        nexts[-1] = (int(offsets[stop]) if stop < source.count else source.end) - base
        stops = np.maximum(starts, np.minimum(nexts - 1, len(data)))
        return data, starts, stops

    def _parse_bad(
        self, source: FileView, data: bytes, starts: np.ndarray, stops: np.ndarray
    ) -> np.ndarray:
        """Which of the given records ``parse`` rejects (indexes into ``starts``)."""
        parse = get_format(source.format).parse
        display, limit = source.display, self._max
        return np.flatnonzero(
            np.fromiter(
                (
                    parse(data[a : min(b, a + limit)], display, 0, None).__class__ is ParseError
                    for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
                ),
                dtype=bool,
                count=int(starts.shape[0]),
            )
        )

    def _quick(self, source: FileView, scan: _FileScan, cancelled: Callable[[], bool]) -> int:
        """Suspect records of ``[scan.quick, count)`` chunk by chunk, parsed to confirm."""
        count = source.count
        if scan.quick >= count:
            return 0
        fmt = get_format(source.format)
        offsets = source.offsets.array()
        done = scan.quick
        while scan.quick < count:
            if cancelled():
                raise SearchCancelled
            first = scan.quick
            limit = int(offsets[first]) + _CHUNK_BYTES
            within = int(np.searchsorted(offsets, limit, side="right"))  # records starting by then
            stop = within if within >= count and source.end <= limit else within - 1
            stop = min(count, max(first + 1, stop))
            spans = self._spans(source, first, stop, offsets)
            if spans is None:
                self._gone(scan, count)
                break
            data, starts, stops = spans
            suspect = np.flatnonzero(suspect_records(fmt, data, starts, stops))
            bad = suspect[self._parse_bad(source, data, starts[suspect], stops[suspect])]
            scan.add(bad + first)
            scan.quick = stop
        return count - done

    def _check(
        self, scans: list[tuple[FileView, _FileScan]], cancelled: Callable[[], bool]
    ) -> None:
        """The thorough pass for ``thorough_seconds``: at least one slice, so every call gains."""
        deadline = self._clock() + self._thorough_seconds
        for source, scan in scans:
            while scan.sure < scan.quick:
                self._thorough(source, scan, cancelled)
                if self._clock() >= deadline:
                    return

    def _thorough(self, source: FileView, scan: _FileScan, cancelled: Callable[[], bool]) -> None:
        """Parse the next slice of records the quick pass has seen."""
        if cancelled():
            raise SearchCancelled
        first = scan.sure
        stop = min(scan.quick, first + _SLICE)
        spans = self._spans(source, first, stop, offsets=source.offsets.array())
        if spans is None:
            self._gone(scan, source.count)
            return
        data, starts, stops = spans
        scan.add(self._parse_bad(source, data, starts, stops) + first)
        scan.sure = stop

    @staticmethod
    def _gone(scan: _FileScan, count: int) -> None:
        """A file that can no longer be read: its records not yet checked are unreadable."""
        scan.add(np.arange(scan.sure, count, dtype=np.int64))
        scan.quick = scan.sure = count

    # -- where they are in the order -------------------------------------------------

    def _holes(self, view: StreamView, refs: np.ndarray) -> np.ndarray:
        """Positions of ``refs`` in ``view.order`` (refs not in the order are skipped).

        After new lines arrived the order is mostly the old one with a longer
        tail: the old positions are checked in one gather, and only the refs
        that moved or are new are looked up by time (the order is sorted by
        time). Many of those, or a ref not found where its time says, and the
        order is scanned once instead.
        """
        order = view.order
        n = order.length
        if not refs.size or not n:
            self._last = (order, _NO_REFS, _NO_REFS)
            return _NO_REFS
        known_at, known_refs = _NO_REFS, _NO_REFS
        if self._last is not None:
            _old, at, at_refs = self._last
            inside = at < n
            at, at_refs = at[inside], at_refs[inside]
            if at.size:
                same = order.take(at) == at_refs
                keep = same & np.isin(at_refs, refs, assume_unique=True)
                known_at, known_refs = at[keep], at_refs[keep]
        todo = np.setdiff1d(refs, known_refs, assume_unique=True)
        found = _locate(view, todo) if todo.size <= _LOCATE_MAX else None
        holes = _scan_order(order, refs) if found is None else np.union1d(known_at, found)
        self._last = (order, holes, order.take(holes) if holes.size else _NO_REFS)
        return holes


def _scan_order(order: Order, refs: np.ndarray) -> np.ndarray:
    """Positions in ``order`` holding one of ``refs`` (sorted), read chunk by chunk."""
    found: list[np.ndarray] = []
    last = refs.shape[0] - 1
    for lo in range(0, order.length, CHUNK):
        part = order.slice(lo, lo + CHUNK)
        k = np.minimum(np.searchsorted(refs, part), last)
        found.append(np.flatnonzero(refs[k] == part) + lo)
    return np.concatenate(found) if found else _NO_REFS


def _locate(view: StreamView, refs: np.ndarray) -> np.ndarray | None:
    """Positions of ``refs`` in the time-sorted order, by binary search on time.

    None when one is not where its time says (not in the order yet, or the
    order not sorted as expected): the caller scans the order instead.
    """
    if not refs.size:
        return _NO_REFS
    order = view.order
    n = order.length
    target = view.ts_of(refs)
    lo = np.zeros(refs.shape[0], dtype=np.int64)
    hi = np.full(refs.shape[0], n, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        probe = np.minimum(mid, n - 1)
        before = (view.ts_of(order.take(probe)) < target) & active
        lo = np.where(before, mid + 1, lo)
        hi = np.where(active & ~before, mid, hi)
    out = np.empty(refs.shape[0], dtype=np.int64)
    for k, (ref, start, ts) in enumerate(
        zip(refs.tolist(), lo.tolist(), target.tolist(), strict=True)
    ):
        at = start
        while at < n:
            part = order.slice(at, at + 256)
            hit = np.flatnonzero(part == ref)
            if hit.size:
                out[k] = at + int(hit[0])
                break
            if view.ts_one(int(part[-1])) > ts:
                return None
            at += 256
        else:
            return None
    return np.sort(out)
