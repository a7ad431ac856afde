"""Reading records by ref: bytes on demand from the files, rows from the store, LRU-cached.

Each thread that reads (the UI thread rendering rows, a search worker) has its
own :class:`RecordReader`: its own file descriptors (positioned reads, so no
shared file offset), its own read-only store connection, its own cache.
Nothing here mutates a :class:`~oos_tui.eventlog.stream.StreamView`.
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from pathlib import Path

from oos_tui.eventlog.index import FileView
from oos_tui.eventlog.stream import REF_MASK, REF_SHIFT, STORE_SRC, StoreView, StreamView
from oos_tui.formats import get_format
from oos_tui.models import Event, ParseError

__all__ = ["RecordReader"]

_MAX_RECORD = 16 * 1024 * 1024


class RecordReader:
    """Turns refs of a stream view into records: an :class:`Event` or a :class:`ParseError`."""

    def __init__(self, cache_size: int = 4096, max_record_bytes: int = _MAX_RECORD) -> None:
        self._cache: OrderedDict[tuple[int, int, int], Event | ParseError] = OrderedDict()
        self._cache_size = cache_size
        self._max = max_record_bytes
        self._fds: dict[tuple[int, int], int] = {}
        self._store: sqlite3.Connection | None = None
        self._store_path: str | None = None

    def close(self) -> None:
        """Release file descriptors and the store connection."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- files -------------------------------------------------------------------

    def _fd(self, view: FileView) -> int | None:
        ident = view.ident
        if ident is not None and ident in self._fds:
            return self._fds[ident]
        try:
            fd = os.open(view.path, os.O_RDONLY)
        except OSError:
            return None
        st = os.fstat(fd)
        if ident is not None and (st.st_dev, st.st_ino) != ident:
            os.close(fd)  # the path now names another file (rotated away meanwhile)
            return None
        key = ident or (st.st_dev, st.st_ino)
        self._fds[key] = fd
        return fd

    def raw_bytes(self, view: FileView, index: int) -> bytes | None:
        """The record's bytes (at most ``max_record_bytes``), or None if unreadable."""
        fd = self._fd(view)
        if fd is None:
            return None
        start, stop = view.span(index)
        try:
            data = os.pread(fd, min(stop - start, self._max), start)
        except OSError:
            return None
        return _without_cr(data)

    def range_bytes(self, view: FileView, start: int, stop: int) -> bytes | None:
        """The bytes of records ``start`` to ``stop - 1`` in one read (newline-separated)."""
        if stop <= start:
            return b""
        fd = self._fd(view)
        if fd is None:
            return None
        first = int(view.offsets[start])
        last = int(view.offsets[stop]) if stop < view.count else view.end
        try:
            return os.pread(fd, max(0, last - first), first)
        except OSError:
            return None

    # -- the store -----------------------------------------------------------------

    def store_connection(self, path: str) -> sqlite3.Connection | None:
        """This reader's read-only connection to the store (opened on first use)."""
        from oos_tui.store.connection import open_ro_sync

        if self._store is None or self._store_path != path:
            if self._store is not None:
                self._store.close()
            try:
                self._store = open_ro_sync(Path(path))
            except (sqlite3.Error, OSError):
                self._store = None
                return None
            self._store_path = path
        return self._store

    def _store_row(self, store: StoreView, index: int) -> tuple | None:
        from oos_tui.store.rows import select_list

        conn = self.store_connection(store.path)
        if conn is None:
            return None
        rowid = int(store.rowids[index])
        try:
            return conn.execute(
                f"SELECT {select_list('events', rowid=True)} FROM events WHERE rowid = ?", (rowid,)
            ).fetchone()
        except sqlite3.Error:
            return None

    # -- records -------------------------------------------------------------------

    def record(self, stream: StreamView, ref: int) -> Event | ParseError:
        """The parsed record behind ``ref`` (cached; a vanished line is a ParseError)."""
        src, index = ref >> REF_SHIFT, ref & REF_MASK
        source = stream.source(ref)
        key = (src, index, id(source.ts) if source is not None else 0)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        result = self._load(source, src, index)
        self._remember(key, result)
        return result

    def _remember(self, key: tuple[int, int, int], record: Event | ParseError) -> None:
        self._cache[key] = record
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def prefetch(self, stream: StreamView, refs: list[int]) -> None:
        """Read and cache the file records among ``refs``: one read per run of neighbours.

        The screen needs a page of rows at once. Read one by one, each row is
        a system call that gives up the GIL, and getting it back behind a
        busy worker thread can take a whole switch interval (5 ms): a page of
        50 rows could wait a quarter of a second. Store rows are left to
        :meth:`record`.
        """
        wanted: dict[int, list[int]] = {}
        for ref in refs:
            src = ref >> REF_SHIFT
            if src != STORE_SRC:
                wanted.setdefault(src, []).append(ref & REF_MASK)
        for src, indexes in wanted.items():
            source = stream.source(src << REF_SHIFT)
            if not isinstance(source, FileView):
                continue
            stamp = id(source.ts)
            todo = sorted(i for i in set(indexes) if (src, i, stamp) not in self._cache)
            run: list[int] = []
            for index in todo:
                if run and index != run[-1] + 1:
                    self._read_run(source, src, stamp, run)
                    run = []
                run.append(index)
            if run:
                self._read_run(source, src, stamp, run)

    def _read_run(self, source: FileView, src: int, stamp: int, run: list[int]) -> None:
        first, _ = source.span(run[0])
        _, last = source.span(run[-1])
        fd = self._fd(source)
        if fd is None or last - first > self._max:
            return  # record() reads them one by one (and says what went wrong)
        try:
            data = os.pread(fd, last - first, first)
        except OSError:
            return
        for index in run:
            start, stop = source.span(index)
            raw = _without_cr(data[start - first : stop - first])
            self._remember((src, index, stamp), _parse_record(source, index, raw))

    def _load(
        self, source: FileView | StoreView | None, src: int, index: int
    ) -> Event | ParseError:
        if src == STORE_SRC and isinstance(source, StoreView):
            from oos_tui.store.rows import store_event_from_row, store_event_to_event

            row = self._store_row(source, index)
            if row is None:
                return ParseError(
                    "events", index + 1, "row no longer in the store", "", None, "store"
                )
            return store_event_to_event(store_event_from_row(row))
        if not isinstance(source, FileView):
            return ParseError("?", index + 1, "source no longer available", "", None, "")
        raw = self.raw_bytes(source, index)
        if raw is None:
            line = source.line_of(index) or 0
            return ParseError(
                source.display, line, "file rotated away or unreadable", "", None, source.kind
            )
        return _parse_record(source, index, raw)


def _without_cr(data: bytes) -> bytes:
    """A record's bytes without the ``\\r`` of a CRLF line end."""
    return data[:-1] if data.endswith(b"\r") else data


def _parse_record(source: FileView, index: int, raw: bytes) -> Event | ParseError:
    """Record ``index`` of ``source`` from its bytes (its line and offset from the index)."""
    start, _ = source.span(index)
    return get_format(source.format).parse(raw, source.display, source.line_of(index) or 0, start)
