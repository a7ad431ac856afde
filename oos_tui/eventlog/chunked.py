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

import numpy as np

__all__ = ["CHUNK", "Chunked", "Frozen", "Growable"]

SHIFT = 16
CHUNK = 1 << SHIFT
MASK = CHUNK - 1


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
        values = np.ascontiguousarray(values, dtype=dtype or values.dtype)
        values.flags.writeable = False
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
            piece = values[start : start + CHUNK].copy()
            piece.flags.writeable = False
            chunks.append(piece)
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
            piece = self.chunks[full][:rest].copy()
            piece.flags.writeable = False
            chunks.append(piece)
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
            flat = np.concatenate(self.chunks)
            flat.flags.writeable = False
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
        for c in np.unique(which):
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
        view = self._buf[: self.length]
        view.flags.writeable = False
        return Frozen(view)


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
