"""Append-only arrays that can be handed to another thread as immutable values.

The index worker grows offsets, timestamps and the merged order while the UI
thread reads them. A :class:`Chunked` value is a tuple of numpy arrays of
``CHUNK`` entries (the last one shorter) that are never written after the
value is built: appending returns a new value that shares every full chunk
and copies only the short tail, so publishing a snapshot ten times a second
costs kilobytes, not the whole index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

__all__ = ["CHUNK", "Chunked", "Frozen", "Growable", "Order", "Run", "distinct"]

SHIFT = 16
CHUNK = 1 << SHIFT
MASK = CHUNK - 1


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted.

    ``np.unique`` without its first-call cost: it checks for masked arrays,
    which imports ``numpy.ma`` (25 ms, measured) in the middle of drawing the
    console's first screen.
    """
    ordered = np.sort(np.asarray(values).ravel())
    if ordered.shape[0] < 2:
        return ordered
    keep = np.empty(ordered.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _frozen(values: np.ndarray, dtype: type | np.dtype = np.int64) -> np.ndarray:
    """``values`` (contiguous, converted only if need be) made read-only: safe to hand over."""
    values = np.ascontiguousarray(values, dtype=dtype)
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class Chunked:
    """An immutable sequence of numbers stored in fixed-size numpy chunks."""

    dtype: np.dtype
    chunks: tuple[np.ndarray, ...] = ()
    length: int = 0
    _flat: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def empty(cls, dtype: type | np.dtype) -> Chunked:
        """A zero-length array of ``dtype``."""
        return cls(np.dtype(dtype))

    @classmethod
    def of(cls, values: np.ndarray, dtype: type | np.dtype | None = None) -> Chunked:
        """Chunk an array the caller hands over (its chunks are views of it, not copies)."""
        values = _frozen(values, dtype or values.dtype)
        chunks = tuple(values[i : i + CHUNK] for i in range(0, values.shape[0], CHUNK))
        return cls(values.dtype, chunks, int(values.shape[0]), [values])

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> float | int:
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(index)
        return self.chunks[index >> SHIFT][index & MASK].item()

    def append(self, values: np.ndarray) -> Chunked:
        """A new value with ``values`` added at the end (this one is unchanged)."""
        values = np.asarray(values, dtype=self.dtype)
        added = int(values.shape[0])
        if added == 0:
            return self
        chunks = list(self.chunks)
        if chunks and chunks[-1].shape[0] < CHUNK:
            values = np.concatenate([chunks.pop(), values])
        for start in range(0, values.shape[0], CHUNK):
            chunks.append(_frozen(values[start : start + CHUNK].copy(), self.dtype))
        return Chunked(self.dtype, tuple(chunks), self.length + added)

    def truncate(self, length: int) -> Chunked:
        """The first ``length`` entries."""
        if length >= self.length:
            return self
        if length <= 0:
            return Chunked(self.dtype)
        full, rest = length >> SHIFT, length & MASK
        chunks = list(self.chunks[:full])
        if rest:
            chunks.append(_frozen(self.chunks[full][:rest].copy(), self.dtype))
        return Chunked(self.dtype, tuple(chunks), length)

    def replace_tail(self, start: int, values: np.ndarray) -> Chunked:
        """Entries before ``start`` kept, the rest replaced by ``values``."""
        return self.truncate(start).append(values)

    def array(self) -> np.ndarray:
        """All entries as one (read-only) array; computed once per value."""
        if self._flat:
            return self._flat[0]
        if not self.chunks:
            flat = np.empty(0, dtype=self.dtype)
        elif len(self.chunks) == 1:
            flat = self.chunks[0]
        else:
            flat = _frozen(np.concatenate(self.chunks), self.dtype)
        self._flat.append(flat)
        return flat

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Entries ``start:stop`` as an array (copies only across chunk borders)."""
        start, stop = max(0, start), min(self.length, stop)
        if start >= stop:
            return np.empty(0, dtype=self.dtype)
        first, last = start >> SHIFT, (stop - 1) >> SHIFT
        if first == last:
            return self.chunks[first][start & MASK : ((stop - 1) & MASK) + 1]
        parts = [self.chunks[first][start & MASK :]]
        parts.extend(self.chunks[first + 1 : last])
        parts.append(self.chunks[last][: ((stop - 1) & MASK) + 1])
        return np.concatenate(parts)

    def take(self, indexes: np.ndarray) -> np.ndarray:
        """Gather the entries at ``indexes`` (any order)."""
        indexes = np.asarray(indexes, dtype=np.int64)
        if len(self.chunks) == 1:
            return self.chunks[0][indexes]
        out = np.empty(indexes.shape[0], dtype=self.dtype)
        which = indexes >> SHIFT
        for c in distinct(which):
            sel = which == c
            out[sel] = self.chunks[int(c)][indexes[sel] & MASK]
        return out


class Growable:
    """An append-only array whose snapshots are read-only prefixes of one buffer.

    Appending writes past the end of every snapshot taken so far, so a
    snapshot never sees a change; when the buffer is full a larger one is
    allocated and old snapshots keep the old buffer alive. Unlike
    :class:`Chunked`, :meth:`array` is a view, never a copy — the per-file
    offsets and timestamps of a 2,000,000-line log stay at 16 MB each.
    """

    __slots__ = ("_buf", "length")

    def __init__(self, dtype: type | np.dtype, capacity: int = 1024) -> None:
        self._buf = np.empty(max(16, capacity), dtype=dtype)
        self.length = 0

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` entries up front (avoids regrowth for a known size)."""
        if capacity > self._buf.shape[0]:
            new = np.empty(capacity, dtype=self._buf.dtype)
            new[: self.length] = self._buf[: self.length]
            self._buf = new

    def append(self, values: np.ndarray) -> None:
        """Add ``values`` at the end (snapshots already taken are unaffected)."""
        values = np.asarray(values, dtype=self._buf.dtype)
        need = self.length + values.shape[0]
        if need > self._buf.shape[0]:
            self.reserve(max(need, int(self._buf.shape[0] * 1.5)))
        self._buf[self.length : need] = values
        self.length = need

    def snapshot(self) -> Frozen:
        """An immutable view of the entries so far."""
        return Frozen(_frozen(self._buf[: self.length], self._buf.dtype))


@dataclass(frozen=True)
class Frozen:
    """A read-only array with the same reading API as :class:`Chunked`."""

    values: np.ndarray

    @classmethod
    def empty(cls, dtype: type | np.dtype) -> Frozen:
        """A zero-length array of ``dtype``."""
        return cls(np.empty(0, dtype=dtype))

    @property
    def length(self) -> int:
        """Number of entries."""
        return int(self.values.shape[0])

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> float | int:
        return self.values[index].item()

    def array(self) -> np.ndarray:
        """The entries (a view)."""
        return self.values

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Entries ``start:stop`` (a view)."""
        return self.values[max(0, start) : max(0, stop)]

    def take(self, indexes: np.ndarray) -> np.ndarray:
        """Gather the entries at ``indexes``."""
        return self.values[np.asarray(indexes, dtype=np.int64)]


_NO_PATCHES = _frozen(np.empty(0, dtype=np.int64))


@dataclass(frozen=True)
class Run:
    """``start, start + 1, …`` with a few entries patched, read like a :class:`Chunked`.

    A stream with one source (the console opened on one big ``oos.log``)
    has for its merged order its records in file order, but for the few
    lines a writer logged a little out of time order: 16 MB of refs for
    2,000,000 lines that a counter and a handful of patches say as well.
    ``patch_at`` holds the sorted positions whose value is ``patch_val``
    instead of ``start + position``. Past :data:`MAX_PATCHES` (another
    source interleaving, say) appending returns a :class:`Chunked`.
    """

    start: int
    length: int = 0
    patch_at: np.ndarray = field(default_factory=lambda: _NO_PATCHES, repr=False)
    patch_val: np.ndarray = field(default_factory=lambda: _NO_PATCHES, repr=False)
    dtype: np.dtype = field(default=np.dtype(np.int64), repr=False)

    MAX_PATCHES: ClassVar[int] = 1 << 16

    @classmethod
    def of(cls, values: np.ndarray) -> Run | None:
        """``values`` as a run, or None when too many differ from one."""
        values = np.asarray(values, dtype=np.int64)
        if values.shape[0] == 0:
            return None
        start = int(values[0])
        found: list[np.ndarray] = []
        count = 0
        for lo in range(0, values.shape[0], CHUNK):  # in blocks: no arange as big as values
            part = values[lo : lo + CHUNK]
            at = np.flatnonzero(part != np.arange(start + lo, start + lo + part.shape[0]))
            count += at.shape[0]
            if count > cls.MAX_PATCHES:
                return None
            found.append(at + lo)
        at = np.concatenate(found)
        return cls(start, int(values.shape[0]), _frozen(at), _frozen(values[at]))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> int:
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(index)
        if self.patch_at.shape[0]:
            k = int(np.searchsorted(self.patch_at, index))
            if k < self.patch_at.shape[0] and int(self.patch_at[k]) == index:
                return int(self.patch_val[k])
        return self.start + index

    def append(self, values: np.ndarray) -> Run | Chunked:
        """A new value with ``values`` added at the end (this one is unchanged)."""
        values = np.asarray(values, dtype=np.int64)
        added = int(values.shape[0])
        if added == 0:
            return self
        first = self.start + self.length
        at = np.flatnonzero(values != np.arange(first, first + added, dtype=np.int64))
        if not at.shape[0]:
            return Run(self.start, self.length + added, self.patch_at, self.patch_val)
        if self.patch_at.shape[0] + at.shape[0] > self.MAX_PATCHES:
            return Chunked.of(self.array()).append(values)
        return Run(
            self.start,
            self.length + added,
            _frozen(np.concatenate([self.patch_at, at + self.length])),
            _frozen(np.concatenate([self.patch_val, values[at]])),
        )

    def truncate(self, length: int) -> Run:
        """The first ``length`` entries."""
        length = max(0, min(self.length, length))
        k = int(np.searchsorted(self.patch_at, length))
        return Run(self.start, length, self.patch_at[:k], self.patch_val[:k])

    def replace_tail(self, start: int, values: np.ndarray) -> Run | Chunked:
        """Entries before ``start`` kept, the rest replaced by ``values``."""
        return self.truncate(start).append(values)

    def array(self) -> np.ndarray:
        """All entries as an array (built on each call: a caller that keeps it pays for it)."""
        return self.slice(0, self.length)

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Entries ``start:stop`` as an array."""
        start, stop = max(0, start), min(self.length, stop)
        stop = max(start, stop)
        out = np.arange(self.start + start, self.start + stop, dtype=np.int64)
        lo, hi = np.searchsorted(self.patch_at, [start, stop]).tolist()
        if hi > lo:
            out[self.patch_at[lo:hi] - start] = self.patch_val[lo:hi]
        return out

    def take(self, indexes: np.ndarray) -> np.ndarray:
        """The entries at ``indexes`` (any order)."""
        indexes = np.asarray(indexes, dtype=np.int64)
        out = self.start + indexes
        count = self.patch_at.shape[0]
        if count and indexes.shape[0]:
            k = np.minimum(np.searchsorted(self.patch_at, indexes), count - 1)
            hit = self.patch_at[k] == indexes
            out[hit] = self.patch_val[k[hit]]
        return out


Order = Chunked | Run
"""The merged order of a stream: stored refs, or a mostly unbroken run of one source's refs."""
