"""Searching the stream: byte prefilters over whole chunks, exact matching on candidates.

A field filter over a 2,000,000-line ``oos.log`` must finish in about a
second. Parsing every line costs several seconds, so a search reads each file
in 32 MB chunks and asks the query which records *could* match from their
raw bytes (:meth:`Query.prefilter`); only those are parsed and matched
exactly. The time bounds of a query (``since:``/``until:``) first cut each
file to the records in range using the timestamp index.

Results are cached per query and per source extent, so repeating a search
(or refining the view after new lines arrived) only looks at what is new.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.index import FileView
from oos_tui.eventlog.stream import REF_SHIFT, STORE_SRC, StoreView, StreamView
from oos_tui.formats import get_format
from oos_tui.models import ParseError

__all__ = ["SearchCancelled", "SearchResult", "Searcher"]

_CHUNK = 32 * 1024 * 1024
_SLICE = 262_144
"""Records of one file scanned per pass (bounds the temporary arrays)."""


class SearchCancelled(Exception):
    """A newer search replaced this one."""


@dataclass(frozen=True)
class SearchResult:
    """Matching refs in stream order (time, then source order), for one query and view."""

    text: str
    refs: np.ndarray
    scanned: int
    version: int

    @property
    def count(self) -> int:
        """Number of matching records."""
        return int(self.refs.shape[0])


class Searcher:
    """Runs queries over stream views (one per worker thread; not shared).

    Args:
        cache_queries: how many queries keep their per-source results.
    """

    def __init__(self, cache_queries: int = 8) -> None:
        self._reader = RecordReader(cache_size=256)
        self._cache: OrderedDict[str, dict[int, tuple[int, np.ndarray]]] = OrderedDict()
        self._cache_queries = cache_queries
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the reader's files."""
        self._reader.close()

    def search(
        self,
        view: StreamView,
        query: object,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[float], None] | None = None,
    ) -> SearchResult:
        """Every record of ``view`` matching ``query``, in stream order.

        Raises:
            SearchCancelled: ``cancelled()`` became true between chunks.
        """
        with self._lock:  # a cancelled search may still be finishing in its thread
            return self._search(view, query, cancelled, progress)

    def _search(
        self,
        view: StreamView,
        query: object,
        cancelled: Callable[[], bool],
        progress: Callable[[float], None] | None,
    ) -> SearchResult:
        text = getattr(query, "text", str(query))
        per_source = self._cache.get(text, {})
        self._cache.pop(text, None)
        matched: list[np.ndarray] = []
        stamps: list[np.ndarray] = []
        scanned = 0
        sources: list[FileView | StoreView] = [f for f in view.files if f is not None]
        if view.store is not None:
            sources.append(view.store)
        total = sum(s.count for s in sources) or 1
        done = 0
        for source in sources:
            src = STORE_SRC if isinstance(source, StoreView) else source.src
            have_count, have = per_source.get(src, (0, np.empty(0, dtype=np.int64)))
            if have_count > source.count:
                have_count, have = 0, np.empty(0, dtype=np.int64)  # the source shrank
            new = self._search_source(view, source, src, query, have_count, cancelled)
            found = np.concatenate([have, new]) if new.size else have
            per_source[src] = (source.count, found)
            scanned += source.count - have_count
            matched.append((np.int64(src) << REF_SHIFT) + found)
            stamps.append(source.ts.take(found))
            done += source.count
            if progress is not None:
                progress(done / total)
        self._cache[text] = per_source
        while len(self._cache) > self._cache_queries:
            self._cache.popitem(last=False)
        refs = np.concatenate(matched) if matched else np.empty(0, dtype=np.int64)
        if refs.size:
            # Each source's times, read where they lie (no gather over the whole stream).
            refs = refs[np.lexsort((refs, np.concatenate(stamps)))]
        return SearchResult(text, refs, scanned, view.version)

    def _search_source(
        self,
        view: StreamView,
        source: FileView | StoreView,
        src: int,
        query: object,
        first: int,
        cancelled: Callable[[], bool],
    ) -> np.ndarray:
        count = source.count
        if first >= count:
            return np.empty(0, dtype=np.int64)
        candidates = np.arange(first, count, dtype=np.int64)
        since, until = getattr(query, "since", None), getattr(query, "until", None)
        if since is not None or until is not None:
            ts = source.ts.slice(first, count)
            keep = np.ones(ts.shape[0], dtype=bool)
            if since is not None:
                keep &= ts >= since
            if until is not None:
                keep &= ts < until  # until is exclusive (the grammar)
            candidates = candidates[keep]
        if not candidates.size:
            return candidates
        if isinstance(source, StoreView):
            return self._scan_store(source, candidates, query, cancelled)
        # In slices: the per-record arrays of a 2,000,000-line file would
        # otherwise be ~100 MB of temporaries, kept resident by the allocator.
        found = [
            self._scan_file(source, candidates[at : at + _SLICE], query, cancelled)
            for at in range(0, candidates.shape[0], _SLICE)
        ]
        return np.concatenate(found) if len(found) > 1 else found[0]

    def _scan_store(
        self, store: StoreView, candidates: np.ndarray, query: object, cancelled: Callable[[], bool]
    ) -> np.ndarray:
        """Match store rows in rowid ranges (one query per 5,000 rows, not one per row)."""
        from oos_tui.store.rows import select_list, store_event_from_row, store_event_to_event

        conn = self._reader.store_connection(store.path)
        if conn is None:
            return np.empty(0, dtype=np.int64)
        rowids = store.rowids.array()
        wanted = rowids[candidates]
        matches = query.matches  # type: ignore[attr-defined]
        out: list[int] = []
        sql = f"SELECT {select_list('events', rowid=True)} FROM events WHERE rowid BETWEEN ? AND ?"
        for i in range(0, wanted.shape[0], 5000):
            if cancelled():
                raise SearchCancelled
            part = wanted[i : i + 5000]
            try:
                rows = conn.execute(sql, (int(part[0]), int(part[-1]))).fetchall()
            except Exception:
                break
            for row in rows:
                if matches(store_event_to_event(store_event_from_row(row))):
                    pos = int(np.searchsorted(rowids, int(row[0])))
                    if pos < rowids.shape[0] and rowids[pos] == row[0]:
                        out.append(pos)
        found = np.asarray(out, dtype=np.int64)
        return found[np.isin(found, candidates)]

    def _scan_file(
        self, source: FileView, candidates: np.ndarray, query: object, cancelled: Callable[[], bool]
    ) -> np.ndarray:
        """Read the candidates chunk by chunk; prefilter their bytes, parse and match the rest.

        With needles (OR of AND-groups of lower-case byte strings) each chunk is
        searched case-insensitively with numpy (:class:`_ByteFinder`), hits
        mapped to records by binary search; otherwise the query's prefilter callable runs on each
        record's bytes; without either every record is parsed.
        """
        fd = self._reader._fd(source)
        if fd is None:
            return np.empty(0, dtype=np.int64)
        prefilter = query.prefilter(source.kind)  # type: ignore[attr-defined]
        needles_of = getattr(query, "needles", None)
        needles = needles_of(source.kind) if needles_of is not None else None
        matches = query.matches  # type: ignore[attr-defined]
        fmt = get_format(source.format)
        all_offsets = source.offsets.array()
        starts = all_offsets[candidates]
        nxt = candidates + 1
        last = all_offsets.shape[0] - 1
        stops = np.where(nxt <= last, all_offsets[np.minimum(nxt, last)], source.end) - 1
        if source.line_numbers is not None:
            lines = source.line_numbers.array()[candidates]
        else:
            lines = candidates + 1
        out: list[np.ndarray] = []
        n = candidates.shape[0]
        i = 0
        display = source.display
        parse = fmt.parse
        while i < n:
            if cancelled():
                raise SearchCancelled
            chunk_start = int(starts[i])
            j = max(i + 1, int(np.searchsorted(stops, chunk_start + _CHUNK, side="right")))
            data = os.pread(fd, int(stops[j - 1]) - chunk_start, chunk_start)
            rel_a = starts[i:j] - chunk_start
            rel_b = stops[i:j] - chunk_start
            if needles:
                passing = np.flatnonzero(_needle_hits(data, rel_a, rel_b, needles))
            elif prefilter is not None:
                passing = np.asarray(
                    [
                        k
                        for k, (a, b) in enumerate(zip(rel_a.tolist(), rel_b.tolist(), strict=True))
                        if prefilter(data[a:b])
                    ],
                    dtype=np.int64,
                )
            else:
                passing = np.arange(j - i)
            keep = [
                ev.__class__ is not ParseError and matches(ev)
                for ev in (
                    parse(data[a:b], display, line, chunk_start + a)
                    for a, b, line in zip(
                        rel_a[passing].tolist(),
                        rel_b[passing].tolist(),
                        lines[i + passing].tolist(),
                        strict=True,
                    )
                )
            ]
            out.append(candidates[i + passing[np.asarray(keep, dtype=bool)]])
            i = j
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


class _ByteFinder:
    """Case-insensitive substring search over one chunk, vectorised with numpy.

    Finds exactly what ``data.lower().find(needle)`` finds for a lower-case
    needle (``bytes.lower`` folds only ASCII A-Z), without lowering the chunk
    or calling ``find`` once per hit: the rarest byte of the needle is
    located in one pass over the chunk, the others are checked at those
    positions only. Lowering and ``find`` cost ~110 ms per 32 MB chunk for a
    word and its two escape hatches; this costs about a third, and numpy
    releases the GIL while it runs, so the screen stays responsive.
    """

    _SAMPLE = 1 << 20

    def __init__(self, data: bytes) -> None:
        self._raw = np.frombuffer(data, dtype=np.uint8)
        self._folded: np.ndarray | None = None
        self._freq: np.ndarray | None = None

    def _column(self, byte: int) -> np.ndarray:
        if 97 <= byte <= 122:  # a-z: compare with ASCII letters folded to lower case
            if self._folded is None:
                self._folded = self._raw | np.uint8(0x20)
            return self._folded
        return self._raw

    def _rarity(self, byte: int) -> int:
        if self._freq is None:
            self._freq = np.bincount(self._raw[: self._SAMPLE], minlength=256)
        count = int(self._freq[byte])
        if 97 <= byte <= 122:
            count += int(self._freq[byte - 32])
        return count

    def positions(self, needle: bytes) -> np.ndarray:
        """Start offsets of every (possibly overlapping) occurrence of ``needle``."""
        size = len(needle)
        room = self._raw.shape[0] - size + 1
        if size == 0 or room <= 0 or needle.lower() != needle:
            return np.empty(0, dtype=np.int64)  # an upper-case letter never is in lowered text
        order = sorted(range(size), key=lambda i: (self._rarity(needle[i]), i))
        first = order[0]
        column = self._column(needle[first])
        pos = np.flatnonzero(column[first : first + room] == needle[first])
        for i in order[1:]:
            if not pos.size:
                break
            pos = pos[self._column(needle[i])[pos + i] == needle[i]]
        return pos


def _needle_hits(
    data: bytes, starts: np.ndarray, stops: np.ndarray, needles: list[tuple[bytes, ...]]
) -> np.ndarray:
    """Which records (given by relative spans) contain every needle of some group."""
    finder = _ByteFinder(data)
    hit = np.zeros(starts.shape[0], dtype=bool)
    for group in needles:
        in_group = np.ones(starts.shape[0], dtype=bool)
        for needle in sorted(group, key=len, reverse=True):
            pos = finder.positions(needle)
            owner = np.searchsorted(starts, pos, side="right") - 1
            valid = (owner >= 0) & (pos + len(needle) <= stops[np.maximum(owner, 0)])
            has = np.zeros(starts.shape[0], dtype=bool)
            has[owner[valid]] = True
            in_group &= has
            if not in_group.any():
                break
        hit |= in_group
    return hit
