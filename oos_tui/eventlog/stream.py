"""Every source of a workspace as one stream of events, merged by time.

:class:`EventStream` is owned by one worker thread. Each :meth:`~EventStream.step`
does a bounded piece of work, in this order of urgency:

1. a quick window of the newest lines of each live file, so the newest events
   are on screen at once even when ``oos.log`` has millions of lines;
2. the full byte-offset index of every file (rotated ones too), 32 MB at a time;
3. once history is indexed: one merge of everything by time, then following —
   each live file's :class:`~oos_tui.sources.tail.Tailer` (which drains a
   rotated file before switching to its successor) and the store's ``events``
   table by rowid, with new records merged into the tail of the order.

After each step the caller gets a :class:`StreamUpdate`: an immutable
:class:`StreamView` for the UI and search, plus the newly arrived events
(parsed once, here) for everything live: the pipeline counters, the latest
errors, the alert engine and open filters.

A record is named by a *ref*: ``src << 40 | index`` where ``src`` is the
file's slot in :attr:`StreamView.files`, or :data:`STORE_SRC` for a row of the
store's events table (``index`` is then its position in the store view).
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oos_tui.config import Settings
from oos_tui.eventlog.chunked import Chunked, Frozen, Growable, Order, Run, distinct
from oos_tui.eventlog.index import FileIndex, FileView
from oos_tui.formats import get_format
from oos_tui.models import Event, ParseError
from oos_tui.sources.discovery import SourceFile, discover, rotations
from oos_tui.sources.records import RecordAssembler
from oos_tui.sources.tail import RawLine, TailBatch, Tailer, TailNote

__all__ = ["REF_SHIFT", "STORE_SRC", "EventStream", "StoreView", "StreamUpdate", "StreamView"]

REF_SHIFT = 40
REF_MASK = (1 << REF_SHIFT) - 1
STORE_SRC = 0xFFFF
_WINDOW_BYTES = 256 * 1024
_WINDOW_MIN_FILE = 8 * 1024 * 1024
_QUIET_FLUSH = 1.0
_MAX_NEW_EVENTS = 20_000
_LATE_NEWS_BYTES = 4 * 1024 * 1024
_HOT_SECONDS = 5.0
"""A live file written this recently is polled at every step, hinted or not."""
_COLD_POLL_MIN = 5.0
_COLD_POLLS_PER_SECOND = 30.0
"""Unhinted quiet files are polled at most this often in all (and each every 5 s at most)."""
_DISCOVERY_COST_FACTOR = 100.0
"""Rediscovery waits at least this many times its own last duration (≤ 1 % of a core)."""
_HINTED_DISCOVERY_SECONDS = 0.5
"""A log file the watcher names but no group follows triggers discovery, this often at most."""


@dataclass(frozen=True)
class StoreView:
    """The rows of the store's ``events`` table known so far: rowid and time of each."""

    path: str
    rowids: Frozen
    ts: Frozen

    @property
    def count(self) -> int:
        """Number of rows."""
        return self.rowids.length


@dataclass(frozen=True)
class StreamView:
    """An immutable view of the whole stream: sources and the merged order."""

    version: int
    files: tuple[FileView | None, ...]
    store: StoreView | None
    order: Order
    ready: bool
    progress: float
    problems: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Events in the merged order."""
        return self.order.length

    def source(self, ref: int) -> FileView | StoreView | None:
        """The file (or the store) a ref points into."""
        src = ref >> REF_SHIFT
        if src == STORE_SRC:
            return self.store
        return self.files[src] if src < len(self.files) else None

    def ts_one(self, ref: int) -> float:
        """The timestamp of one ref (a row being drawn: no arrays built for one value)."""
        view = self.source(ref)
        if view is None:
            return 0.0
        return float(view.ts[ref & REF_MASK])

    def ts_of(self, refs: np.ndarray) -> np.ndarray:
        """Timestamps of many refs at once (0.0 for a ref into a source no longer read)."""
        refs = np.asarray(refs, dtype=np.int64)
        out = np.zeros(refs.shape[0])
        srcs = refs >> REF_SHIFT
        for src in distinct(srcs):
            view = self.source(int(src) << REF_SHIFT)
            if view is not None:
                sel = srcs == src
                out[sel] = view.ts.take(refs[sel] & REF_MASK)
        return out


@dataclass(frozen=True)
class StreamUpdate:
    """One step's result: the new view and what arrived live (with their refs)."""

    view: StreamView
    events: tuple[Event, ...] = ()
    refs: tuple[int, ...] = ()
    errors: tuple[ParseError, ...] = ()
    notes: tuple[TailNote, ...] = ()
    more: bool = False


@dataclass
class _Arrivals:
    """What one follow step found: records to merge, and the parsed events among them."""

    merge_refs: list[int] = field(default_factory=list)
    merge_ts: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    refs: list[int] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    notes: list[TailNote] = field(default_factory=list)


@dataclass
class _Group:
    """One live file and the generations it has had (rotations)."""

    source: SourceFile
    index: FileIndex
    tailer: Tailer | None = None
    assembler: RecordAssembler | None = None
    line_delta: int = 0
    last_data: float = 0.0
    last_poll: float = 0.0
    key: str = ""
    """The live path as the file watcher names it (resolved): how a hint finds the group."""
    held: tuple[int, int] | None = None
    """The file the assembler's held record (waiting for its continuation) was read from."""

    def due(self, now: float, hints: frozenset[str], cold_every: float) -> bool:
        """Whether a step given watch ``hints`` polls this file now.

        Hinted and recently written files every step; a file with a record
        held back for its continuation until it is flushed; the rest (cold:
        hundreds of finished job logs) every ``cold_every`` seconds, in case
        the watcher missed a write.
        """
        return (
            self.key in hints
            or now - self.last_data < _HOT_SECONDS
            or (self.assembler is not None and bool(self.assembler.pending))
            or now - self.last_poll >= cold_every
        )


def _last_line_end(path: Path) -> tuple[int, tuple[int, int] | None]:
    """Offset just after the last newline, and the file identity (dev, inode)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            pos = st.st_size
            while pos > 0:
                step = min(pos, 1 << 16)
                chunk = os.pread(fh.fileno(), step, pos - step)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    return pos - step + cut + 1, (st.st_dev, st.st_ino)
                pos -= step
            return 0, (st.st_dev, st.st_ino)
    except OSError:
        return 0, None


def _window_start(path: Path, end: int) -> int:
    """A line start about ``_WINDOW_BYTES`` before ``end``."""
    start = max(0, end - _WINDOW_BYTES)
    if start == 0:
        return 0
    with open(path, "rb") as fh:
        chunk = os.pread(fh.fileno(), min(end - start, 1 << 16), start)
    cut = chunk.find(b"\n")
    return start + cut + 1 if cut >= 0 else end


class EventStream:
    """The merged, followed, searchable stream of one workspace (one worker thread only).

    Args:
        settings: the workspace.
        include_store: also merge the store's ``events`` table.
        rediscover_seconds: how often to look for new log files.
        follow: False for a one-shot reader (the CLI): history only.
        clock: monotonic seconds (a test's fake clock ages files without sleeping).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        include_store: bool = True,
        rediscover_seconds: float = 2.0,
        follow: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._include_store = include_store
        self._rediscover = rediscover_seconds
        self._follow = follow
        self._files: list[FileIndex | None] = []
        self._groups: dict[str, _Group] = {}
        self._known: set[tuple[int, int]] = set()
        self._recent: dict[str, _Group] = {}
        self._by_key: dict[str, _Group] = {}
        """Groups written in the last ``_HOT_SECONDS`` or holding back a record."""
        self._next_cold = -math.inf
        """No quiet group is due for its safety-net poll before this (monotonic s)."""
        self._by_ident: dict[tuple[int, int], FileIndex] = {}
        """Each file by identity: a rotation renames it, the index follows the name."""
        self._windows: list[FileIndex] = []
        self._order = Chunked.empty(np.int64)
        self._order_ts_last = -math.inf
        self._merged = False
        self._version = 0
        self._last_discovery = -math.inf
        self._discovery_cost = 0.0
        self._group_keys: set[str] = set()
        self._store_rowids = Growable(np.int64)
        self._store_ts = Growable(np.float64)
        self._store_last = 0
        self._store_conn: sqlite3.Connection | None = None
        self._store_ident: tuple[int, int] | None = None
        self._problems: dict[str, str] = {}
        self._view: StreamView | None = None
        self._started = False
        self._in_order: set[int] = set()

    # -- names -------------------------------------------------------------------

    def _display(self, path: Path | str) -> str:
        p = Path(path)
        try:
            return p.relative_to(self._settings.workspace).as_posix()
        except ValueError:
            return str(p)

    # -- discovery -----------------------------------------------------------------

    def _discovery_due(self, now: float, hints: frozenset[str] | None) -> bool:
        """Whether to look for new files now.

        Without a watcher: every ``rediscover_seconds``. With one (``hints``),
        a new log file is named by the watcher, so the periodic scan may wait
        longer when it is slow (hundreds of job directories), and a hinted log
        no group follows is looked for soon.
        """
        since = now - self._last_discovery
        if hints is None:
            return since >= self._rediscover
        if since >= max(self._rediscover, _DISCOVERY_COST_FACTOR * self._discovery_cost):
            return True
        if since < _HINTED_DISCOVERY_SECONDS:
            return False
        # A rotated name (oos.log.1, app.log.2025-09-29) is a log too.
        return any(".log" in os.path.basename(h) and h not in self._group_keys for h in hints)

    def _discover(self) -> bool:
        """Register new files; True when something new was found."""
        started = self._last_discovery = self._clock()
        try:
            return self._discover_now()
        finally:
            self._discovery_cost = self._clock() - started
            self._group_keys = {g.key for g in self._groups.values()}
            self._by_key = {g.key: g for g in self._groups.values()}

    def _discover_now(self) -> bool:
        found = False
        # The first look skips the job logs (a workspace may hold thousands): the
        # quick windows of the main logs go on screen first, and the next step,
        # still before the merge, finds the job logs.
        first = not self._started and self._follow
        sources = discover(self._settings, jobs=not first)
        ahead = self._ahead_of_followers(sources)
        for src in sources:
            if src.live and src.group in self._groups:
                continue
            end, ident = _last_line_end(src.path) if src.live else (None, None)
            if ident is None:
                try:
                    st = src.path.stat()
                    ident = (st.st_dev, st.st_ino)
                except OSError:
                    continue
            if ident in self._known:
                self._renamed(ident, src.path)  # rotated on (oos.log.1 -> oos.log.2)
                continue
            if ident in ahead:
                continue
            self._known.add(ident)
            fmt = get_format(src.format)
            index = FileIndex(
                len(self._files),
                src.path,
                self._display(src.path),
                fmt,
                live=src.live,
                stop_at=end,
                ident=ident,
            )
            self._files.append(index)
            self._by_ident[ident] = index
            found = True
            if src.live and self._follow:
                now = self._clock()
                # Spread the cold polls of files found together over the interval.
                group = _Group(
                    src,
                    index,
                    last_data=now,
                    last_poll=now - random.random() * _COLD_POLL_MIN,
                    key=os.path.realpath(src.path),
                )
                group.tailer = Tailer(
                    src.path,
                    start_offset=end or 0,
                    max_line_bytes=self._settings.events.max_line_bytes,
                )
                if fmt.multiline:
                    group.assembler = RecordAssembler(fmt.starts_record)
                self._groups[src.group] = group
                self._recent[src.group] = group  # found now: polled at every step for a while
                self._next_cold = -math.inf
                if self._started and self._merged:
                    continue
                if not self._started and end and end >= _WINDOW_MIN_FILE:
                    start = _window_start(src.path, end)
                    window = FileIndex(
                        index.src,
                        src.path,
                        index.display,
                        fmt,
                        live=True,
                        stop_at=end,
                        start_at=start,
                        ident=ident,
                    )
                    self._windows.append(window)
        self._started = True
        if first:
            if self._windows:  # published by this step; the job logs at the next
                self._last_discovery = -math.inf
            else:  # nothing to show early: look for the job logs now
                found |= self._discover_now()
        return found

    def _ahead_of_followers(self, sources: list[SourceFile]) -> set[tuple[int, int]]:
        """Rotated files that a follower lagging behind its writer has yet to read.

        A follower reads every file rotated after the one it is on, each as a
        new generation: indexed as history too, their lines would be listed
        twice. They are the group's rotated files after the follower's own
        (``discover`` lists a group oldest first, the live file last). Only the
        groups with rotated files are looked at, a stat a file, so the
        hundreds of job logs cost nothing here.
        """
        families: dict[str, list[SourceFile]] = {}
        for src in sources:
            if src.group in self._groups:
                families.setdefault(src.group, []).append(src)
        ahead: set[tuple[int, int]] = set()
        for name, members in families.items():
            tailer = self._groups[name].tailer
            if tailer is None or tailer.inode is None or all(m.live for m in members):
                continue
            idents: list[tuple[int, int] | None] = []
            for member in members:
                try:
                    st = os.stat(member.path)
                except OSError:
                    idents.append(None)
                    continue
                idents.append((st.st_dev, st.st_ino))
            at = next(
                (i for i, ident in enumerate(idents) if ident and ident[1] == tailer.inode), None
            )
            if at is not None:
                ahead.update(
                    ident
                    for member, ident in zip(members[at + 1 :], idents[at + 1 :], strict=True)
                    if ident is not None and not member.live
                )
        return ahead

    # -- the store's events table --------------------------------------------------

    def _store_rows(self, after: int, limit: int) -> list[tuple]:
        from oos_tui.store.rows import select_list

        path = self._settings.store_path
        try:
            st = path.stat()
        except OSError:
            self._close_store()
            return []
        ident = (st.st_dev, st.st_ino)
        if self._store_conn is None or ident != self._store_ident:
            self._close_store()
            from oos_tui.store.connection import open_ro_sync

            self._store_conn = open_ro_sync(path)
            self._store_ident = ident
            if after:
                # A replaced store (restore) starts over.
                self._store_rowids = Growable(np.int64)
                self._store_ts = Growable(np.float64)
                self._store_last = after = 0
                self._merged = False
        sql = (
            f"SELECT {select_list('events', rowid=True)} FROM events "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        return self._store_conn.execute(sql, (after, limit)).fetchall()

    def _close_store(self) -> None:
        if self._store_conn is not None:
            self._store_conn.close()
            self._store_conn = None

    def _poll_store(self, limit: int = 50_000) -> tuple[list[Event], list[int]]:
        if not self._include_store:
            return [], []
        from oos_tui.store.rows import store_event_from_row, store_event_to_event

        try:
            rows = self._store_rows(self._store_last, limit)
        except sqlite3.Error as exc:
            self._problems["store events"] = str(exc).splitlines()[0]
            self._close_store()
            return [], []
        self._problems.pop("store events", None)
        if not rows:
            return [], []
        events = [store_event_to_event(store_event_from_row(r)) for r in rows]
        base = self._store_rowids.length
        self._store_rowids.append(np.array([r[0] for r in rows], dtype=np.int64))
        ts = np.array([e.ts for e in events], dtype=np.float64)
        ts[np.isnan(ts)] = 0.0
        self._store_ts.append(ts)
        self._store_last = int(rows[-1][0])
        refs = [(STORE_SRC << REF_SHIFT) | (base + i) for i in range(len(rows))]
        return events, refs

    # -- merging -------------------------------------------------------------------

    def _merge_all(self) -> None:
        refs, stamps = [], []
        for index in self._files:
            if index is None:
                continue
            view = index.view()
            if view.count:
                refs.append((view.src << REF_SHIFT) + np.arange(view.count, dtype=np.int64))
                stamps.append(view.ts.array())
        if self._store_rowids.length:
            n = self._store_rowids.length
            refs.append((STORE_SRC << REF_SHIFT) + np.arange(n, dtype=np.int64))
            stamps.append(self._store_ts.snapshot().array())
        if refs:
            all_refs = np.concatenate(refs)
            all_ts = np.concatenate(stamps)
            order = np.argsort(all_ts, kind="stable")
            merged = all_refs[order]
            # One source is mostly its own order: a run with a few patches, not 8 bytes a line.
            run = Run.of(merged)
            self._order = run if run is not None else Chunked.of(merged, np.int64)
            self._order_ts_last = float(all_ts[order[-1]])
        else:
            self._order = Chunked.empty(np.int64)
        self._merged = True
        self._in_order = {f.src for f in self._files if f is not None}
        self._windows.clear()

    def _merge_new(self, refs: list[int], ts: list[float]) -> None:
        if not refs:
            return
        new_refs = np.asarray(refs, dtype=np.int64)
        new_ts = np.asarray(ts, dtype=np.float64)
        order = np.argsort(new_ts, kind="stable")
        new_refs, new_ts = new_refs[order], new_ts[order]
        lowest = float(new_ts[0])
        if lowest >= self._order_ts_last:
            self._order = self._order.append(new_refs)
        else:
            # Late arrivals: re-sort only the tail of the order newer than them.
            view = self._make_view()
            start = self._order.length
            step = 1024
            while start > 0:
                lo = max(0, start - step)
                tail_ts = view.ts_of(self._order.slice(lo, start))
                if tail_ts.size and float(tail_ts.min()) <= lowest:
                    start = lo + int(np.searchsorted(tail_ts, lowest, side="right"))
                    break
                start = lo
                step *= 2
            tail = self._order.slice(start, self._order.length)
            both = np.concatenate([tail, new_refs])
            both_ts = np.concatenate([view.ts_of(tail), new_ts])
            resort = np.argsort(both_ts, kind="stable")
            self._order = self._order.replace_tail(start, both[resort])
        self._order_ts_last = max(self._order_ts_last, float(new_ts[-1]))

    def _merge_late_files(self, out: _Arrivals) -> None:
        """Files found after the first merge join the order; a new live file's lines are news."""
        for index in self._files:
            if index is None or index.src in self._in_order or not index.complete:
                continue
            self._in_order.add(index.src)
            view = index.view()
            refs = (view.src << REF_SHIFT) + np.arange(view.count, dtype=np.int64)
            out.merge_refs.extend(refs.tolist())
            out.merge_ts.extend(view.ts.array().tolist())
            if view.live and view.end <= _LATE_NEWS_BYTES:
                self._parse_all(view, refs, out)

    def _parse_all(self, view: FileView, refs: np.ndarray, out: _Arrivals) -> None:
        fmt = get_format(view.format)
        try:
            data = Path(view.path).read_bytes()[: view.end]
        except OSError:
            return
        for i, ref in enumerate(refs.tolist()):
            start, stop = view.span(i)
            raw = data[start:stop]
            if not raw.strip():
                continue
            parsed = fmt.parse(raw, view.display, view.line_of(i) or i + 1, start)
            if isinstance(parsed, ParseError):
                out.errors.append(parsed)
            else:
                out.events.append(parsed)
                out.refs.append(ref)

    # -- following -----------------------------------------------------------------

    def _new_generation(self, group: _Group, path: str, ident: tuple[int, int] | None) -> FileIndex:
        """A generation for a file the follower reached (a rotation, a truncation).

        ``ident`` is the file the lines came from; ``path`` the name it had then
        (:meth:`_relocate` moves it on if it has changed since).
        """
        fmt = group.index.fmt
        live = path == str(group.source.path)
        index = FileIndex(
            len(self._files),
            Path(path),
            self._display(path),
            fmt,
            live=live,
            stop_at=0,
            ident=ident,
        )
        try:
            index.build()
        except OSError:
            # Renamed again since the follower read it: nothing to index anyway,
            # and its records, already read, must not be lost with the step.
            index.skip()
        if index.ident is None:
            try:
                st = os.stat(path)
                index.ident = (st.st_dev, st.st_ino)
            except OSError:
                pass
        if index.ident is not None:
            self._known.add(index.ident)
            self._by_ident[index.ident] = index
        self._files.append(index)
        self._in_order.add(index.src)  # its records join the order as they are followed
        return index

    def _follow_group(self, group: _Group, out: _Arrivals) -> bool:
        """Poll one live file's follower; new records go to the index and to ``out``.

        Records go to the generation of the file they were read from, known by
        identity: the follower says which lines came from which file, and a
        line's path is only the name its file had when read (a writer rotating
        again, while the follower lags, may have moved it on since). A file
        the follower reaches after the one it was reading is a new generation.
        """
        assert group.tailer is not None
        batch = group.tailer.poll()
        out.notes.extend(batch.notes)
        now = self._clock()
        if batch.lines:
            group.last_data = now
        if any(n.kind == "truncated" for n in batch.notes):
            self._truncated(group, out)
        for ident, records in self._records_by_file(group, batch, now):
            self._add_records(group, ident, records, out)
        for run in batch.runs:
            if run.end is not None:
                # A generation left behind gets no follower offset: without the
                # end the follower read, its last record would span no bytes.
                index = self._by_ident.get(run.ident)
                if index is not None and self._files[index.src] is index:
                    index.set_end(run.end)
        ident = group.index.ident
        if ident is None or ident[1] == group.tailer.inode:
            group.index.set_end(group.tailer.offset)
        moved = [n.path for n in batch.notes if n.kind in ("rotated", "appeared")]
        if moved:
            # The follower left a file for the next one: its generations have new
            # names now (oos.log -> .1 -> .2 ...), even when no line says so.
            self._relocate(group.source.path, moved)
        return batch.more

    def _truncated(self, group: _Group, out: _Arrivals) -> None:
        """Copytruncate: the old bytes are gone from the file being followed.

        Discovery finds the copy, if one was made; the generation of the old
        bytes can no longer be read and leaves the stream. A record held for
        its continuation was of the old bytes: it is let go first, as news.
        """
        ident = group.index.ident
        if ident is not None and ident[1] != group.tailer.inode:
            return  # the follower had moved on to a file with no record yet
        if group.assembler is not None and group.assembler.pending:
            self._add_records(group, ident, group.assembler.flush(), out)
        self._files[group.index.src] = None
        self._merged = False
        group.index = self._new_generation(group, str(group.source.path), ident)
        group.line_delta = 0

    def _records_by_file(
        self, group: _Group, batch: TailBatch, now: float
    ) -> list[tuple[tuple[int, int] | None, list[RawLine]]]:
        """The batch's records cut where the file changes, each part with its file's identity.

        Plain-text logs join continuation lines to their record here: a record
        held for its continuation is let go when its file is left, deleted or
        quiet, and never takes lines from another file.
        """
        asm = group.assembler
        parts: list[tuple[tuple[int, int] | None, list[RawLine]]] = []
        start = 0
        for run in batch.runs:
            lines = batch.lines[start : start + run.count]
            start += run.count
            if asm is None:
                if lines:
                    parts.append((run.ident, list(lines)))
                continue
            if asm.pending and group.held != run.ident:
                parts.append((group.held, asm.flush()))
            records = asm.feed(lines)
            if lines:
                group.held = run.ident
            if run.end is not None and asm.pending:
                records.extend(asm.flush())
            if records:
                parts.append((run.ident, records))
        if asm is not None and asm.pending:
            deleted = any(n.kind == "deleted" for n in batch.notes)
            quiet = not batch.lines and now - group.last_data >= _QUIET_FLUSH
            if deleted or quiet:
                parts.append((group.held, asm.flush()))
        return parts

    def _add_records(
        self,
        group: _Group,
        ident: tuple[int, int] | None,
        records: list[RawLine],
        out: _Arrivals,
    ) -> None:
        """Give ``records``, read from the file ``ident``, to that file's generation.

        The follower never goes back to a file it left, so a file other than
        the group's newest generation is a new one: even when its identity is
        known, it is a deleted file's inode given to a new file.
        """
        if not records:
            return
        index = group.index
        if ident != index.ident:
            index = group.index = self._new_generation(group, records[0].path, ident)
            group.line_delta = 0
        elif records[-1].path != str(index.path):
            # Drained under the name it was rotated to: read there from now on.
            self._renamed(index.ident, Path(records[-1].path))
        delta = group.line_delta
        pending = [(rec, rec.number + delta) for rec in records if rec.data.strip()]
        self._flush(index, pending, out)

    def _candidates(self, now: float, hints: frozenset[str] | None) -> list[_Group]:
        """The groups a step looks at: all of them, or only those that can be due.

        With a watcher, most steps poll only hinted and recent files; going
        through every group to ask (2,400 job logs on the benchmark workspace,
        twice a second) was most of an idle console's stream thread. All are
        looked at once a quiet group's safety-net poll may be due.
        """
        if hints is None or now >= self._next_cold:
            return list(self._groups.values())
        picked = dict(self._recent)
        for hint in hints:
            group = self._by_key.get(hint)
            if group is not None:
                picked[group.source.group] = group
        return list(picked.values())

    def _renamed(self, ident: tuple[int, int], path: Path) -> None:
        """The file known by ``ident`` is now at ``path``: its index reads it there.

        Search, trace and the record reader open files by path and check the
        identity; an index left at the old name read nothing after a rotation.
        A file shorter than what was indexed of it is another file that got a
        freed inode (the oldest rotation deleted), not this one renamed (the
        index's end is one past the file's when its last line has no newline).
        """
        index = self._by_ident.get(ident)
        if index is None or index.path == path or self._files[index.src] is not index:
            return
        try:
            st = os.stat(path)
        except OSError:
            return
        if (st.st_dev, st.st_ino) == ident and st.st_size >= index.view().end - 1:
            index.rename(path, self._display(path))
            self._view = None
            self._version += 1

    def _relocate(self, live: Path, also: list[str]) -> None:
        """Give every known file of ``live``'s family the name its inode has now.

        Run when the follower leaves a file, which is when a writer rotates:
        the file it left and every older one moved up a name at once (``.1`` to
        ``.2`` ...), and discovery, which would find them too, is paced. ``also``
        are the names the follower found its file under (any name, not only
        the rotated names discovery knows). The live name is left alone: the
        file there is the follower's, or one it has not reached yet.
        """
        for path in dict.fromkeys([*rotations(live), *map(Path, also)]):
            if path == live:
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            self._renamed((st.st_dev, st.st_ino), path)

    def _flush(self, index: FileIndex, pending: list[tuple[RawLine, int]], out: _Arrivals) -> None:
        if not pending:
            return
        base = index.view().count
        stamps = index.add_records(pending)
        for k, ((rec, number), ts) in enumerate(zip(pending, stamps, strict=True)):
            ref = (index.src << REF_SHIFT) | (base + k)
            out.merge_refs.append(ref)
            out.merge_ts.append(float(ts))
            parsed = index.fmt.parse(rec.data, index.display, number, rec.offset)
            if isinstance(parsed, ParseError):
                out.errors.append(parsed)
            else:
                out.events.append(parsed)
                out.refs.append(ref)
        pending.clear()

    # -- the step ------------------------------------------------------------------

    def step(
        self, budget: int = 32 * 1024 * 1024, hints: frozenset[str] | None = None
    ) -> StreamUpdate:
        """Do one bounded piece of work and report the result.

        Args:
            budget: bytes of history to index in this step.
            hints: resolved paths a file watcher saw change since the last step;
                then only those, recently written and cold-due files are polled.
                None (no watcher, the CLI, tests): every live file is polled.
        """
        out = _Arrivals()
        more = False
        changed = False
        if self._discovery_due(self._clock(), hints) and self._discover():
            changed = True
        windows_now = False
        for window in self._windows:
            if not window.complete:
                window.build(budget)
                changed = windows_now = True
        # The step that builds the quick windows publishes them at once: the
        # newest events go on screen before any of the full index is built.
        pending = (
            [] if windows_now else [f for f in self._files if f is not None and not f.complete]
        )
        if pending:
            changed = True
            # Spend the whole byte budget: a workspace of hundreds of small job logs
            # is indexed in one step, a 400 MB log in bounded slices.
            left = budget
            for index in pending:
                if left <= 0:
                    break
                before = index.progress[0]
                try:
                    index.build(left)
                    self._problems.pop(index.display, None)
                except OSError as exc:
                    self._problems[index.display] = f"{index.display}: {exc.strerror or exc}"
                    index.skip()
                left -= max(1, index.progress[0] - before)
            more = any(f is not None and not f.complete for f in self._files)
        if windows_now:
            more = True
        elif not more and not self._merged:
            changed = True
            self._poll_store(limit=10_000_000)
            for group in self._groups.values():
                group.line_delta = group.index.lines_indexed
            self._merge_all()
        elif not more and self._follow:
            self._merge_late_files(out)
            now = self._clock()
            cold_every = max(_COLD_POLL_MIN, len(self._groups) / _COLD_POLLS_PER_SECOND)
            for group in self._candidates(now, hints):
                if hints is not None and not group.due(now, hints, cold_every):
                    continue
                group.last_poll = now
                try:
                    more |= self._follow_group(group, out)
                except OSError as exc:
                    self._problems[group.source.group] = f"{group.source.group}: {exc}"
                name = group.source.group
                if now - group.last_data < _HOT_SECONDS or (
                    group.assembler is not None and group.assembler.pending
                ):
                    self._recent[name] = group
                else:
                    self._recent.pop(name, None)
            if hints is not None and now >= self._next_cold and self._groups:
                self._next_cold = min(g.last_poll for g in self._groups.values()) + cold_every
            store_events, store_refs = self._poll_store()
            out.events.extend(store_events)
            out.refs.extend(store_refs)
            out.merge_refs.extend(store_refs)
            out.merge_ts.extend(e.ts if e.ts == e.ts else 0.0 for e in store_events)
            if not self._merged:
                self._merge_all()
            else:
                self._merge_new(out.merge_refs, out.merge_ts)
        if changed or out.merge_refs or out.notes:
            self._version += 1
            self._view = None
        view = self._make_view()
        events, refs = out.events, out.refs
        if len(events) > _MAX_NEW_EVENTS:
            events, refs = events[-_MAX_NEW_EVENTS:], refs[-_MAX_NEW_EVENTS:]
        return StreamUpdate(
            view, tuple(events), tuple(refs), tuple(out.errors), tuple(out.notes), more
        )

    def _make_view(self) -> StreamView:
        if self._view is not None:
            return self._view
        if self._merged or not self._windows:
            files = tuple(f.view() if f is not None else None for f in self._files)
            order = self._order
        else:
            # Still indexing: show the quick windows of the newest lines.
            slots: list[FileView | None] = [None] * len(self._files)
            refs, stamps = [], []
            for window in self._windows:
                v = window.view()
                slots[v.src] = v
                refs.append((v.src << REF_SHIFT) + np.arange(v.count, dtype=np.int64))
                stamps.append(v.ts.array())
            files = tuple(slots)
            if refs:
                all_refs, all_ts = np.concatenate(refs), np.concatenate(stamps)
                order = Chunked.of(all_refs[np.argsort(all_ts, kind="stable")], np.int64)
            else:
                order = Chunked.empty(np.int64)
        done, total = 0, 0
        for f in self._files:
            if f is not None:
                d, t = f.progress
                done, total = done + d, total + t
        store = None
        if self._store_rowids.length or self._include_store:
            store = StoreView(
                str(self._settings.store_path),
                self._store_rowids.snapshot(),
                self._store_ts.snapshot(),
            )
        self._view = StreamView(
            version=self._version,
            files=files,
            store=store,
            order=order,
            ready=self._merged,
            progress=1.0 if not total else done / total,
            problems=tuple(self._problems.values()),
        )
        return self._view

    def run_until_ready(self, *, progress: Callable[[float], None] | None = None) -> StreamView:
        """Index everything now (the CLI's one-shot path)."""
        while True:
            update = self.step()
            if progress is not None:
                progress(update.view.progress)
            if update.view.ready and not update.more:
                return update.view

    def close(self) -> None:
        """Close followers and the store connection."""
        for group in self._groups.values():
            if group.tailer is not None:
                group.tailer.close()
        self._close_store()
