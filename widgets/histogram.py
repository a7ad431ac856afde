"""Events over time by severity, above the event list (like lnav's histogram view)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from textual.content import Content
from textual.widgets import Static

from oos_tui.timeutil import format_duration
from oos_tui.widgets.spark import BLOCKS

__all__ = ["Histogram", "HistogramData", "SortedTimes", "bucket"]

_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)


@dataclass(frozen=True)
class HistogramData:
    """Counts per time bucket: all events, warnings, errors (equal-length arrays)."""

    start: float
    step: float
    total: np.ndarray
    warnings: np.ndarray
    errors: np.ndarray
    cursor: int | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HistogramData):
            return NotImplemented
        return (
            self.start == other.start
            and self.step == other.step
            and self.cursor == other.cursor
            and np.array_equal(self.total, other.total)
            and np.array_equal(self.warnings, other.warnings)
            and np.array_equal(self.errors, other.errors)
        )

    __hash__ = None  # type: ignore[assignment]

    def at(self, cursor_ts: float | None) -> HistogramData:
        """The same counts with the cursor on the column holding ``cursor_ts``.

        A cursor move costs this, not a recount of every event.
        """
        cursor = None
        if cursor_ts is not None and cursor_ts == cursor_ts:
            column = int((cursor_ts - self.start) // self.step)
            cursor = column if 0 <= column < self.total.shape[0] else None
        return self if cursor == self.cursor else replace(self, cursor=cursor)


@dataclass(frozen=True)
class SortedTimes:
    """Times in non-decreasing order, read on demand by position.

    The stream's merged order (and every search result, kept in stream order)
    is sorted by time, so the histogram binary-searches the column edges
    instead of reading millions of times on every update.
    """

    size: int
    at: Callable[[np.ndarray], np.ndarray]
    """Times at an array of positions."""

    @classmethod
    def of(cls, ts: np.ndarray) -> SortedTimes:
        """An array already in memory (sorted by the caller)."""
        ts = np.asarray(ts, dtype=np.float64)
        return cls(int(ts.shape[0]), ts.take)


def _first_after(times: SortedTimes, values: np.ndarray, *, strictly: bool) -> np.ndarray:
    """Per value, the first position whose time is ``>= value`` (``> value`` if ``strictly``).

    All values are searched at once: about log2(size) reads of len(values) times.
    """
    lo = np.zeros(values.shape[0], dtype=np.int64)
    hi = np.full(values.shape[0], times.size, dtype=np.int64)
    while True:
        active = np.flatnonzero(lo < hi)
        if active.size == 0:
            return lo
        mid = (lo[active] + hi[active]) // 2
        t = times.at(mid)
        before = t <= values[active] if strictly else t < values[active]
        lo[active] = np.where(before, mid + 1, lo[active])
        hi[active] = np.where(before, hi[active], mid)


def bucket(
    every: SortedTimes,
    warnings: SortedTimes,
    errors: SortedTimes,
    width: int,
    cursor_ts: float | None,
) -> HistogramData | None:
    """Count sorted times into at most ``width`` columns of a round size (1 min, 5 min, 1 h…).

    The bucket is the smallest step from the list that fits the whole range,
    so the columns read as "events per minute" (or per 5 minutes…), and the
    step is said in the header. Times of 0 (records before any readable time)
    are left out; so is whatever falls past ``width`` columns.
    """
    if every.size == 0 or width <= 0:
        return None
    first = int(_first_after(every, np.zeros(1), strictly=True)[0])
    if first >= every.size:
        return None
    lo, hi = (float(t) for t in every.at(np.array([first, every.size - 1])))
    span = max(hi - lo, 1.0)
    step = next((s for s in _STEPS if span / s <= width), _STEPS[-1])
    start = lo - lo % step
    n = min(width, int((hi - start) // step) + 1)
    edges = start + step * np.arange(n + 1, dtype=np.float64)

    def count(times: SortedTimes) -> np.ndarray:
        if times.size == 0:
            return np.zeros(n, dtype=np.int64)
        return np.diff(_first_after(times, edges, strictly=False))

    data = HistogramData(start, float(step), count(every), count(warnings), count(errors))
    return data.at(cursor_ts)


def _bar(values: np.ndarray, top: int) -> str:
    if top <= 0:
        return " " * values.shape[0]
    last = len(BLOCKS) - 1
    return "".join(
        " " if v == 0 else BLOCKS[min(last, max(0, round(v / top * last)))] for v in values
    )


class Histogram(Static):
    """Three rows (all, warnings, errors) of block characters on one time axis."""

    DEFAULT_CSS = """
    Histogram { height: 3; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._data: HistogramData | None = None

    def show(self, data: HistogramData | None) -> None:
        """Draw ``data`` (None: nothing to draw yet); unchanged data is not repainted."""
        if data == self._data and data is not None:
            return
        self._data = data
        if data is None:
            self.update(Content.styled("histogram: no events yet", "$text-muted"))
            return
        top = int(data.total.max()) if data.total.size else 0
        label = f"per {format_duration(data.step)}"
        rows = []
        for name, values, style in (
            ("all ", data.total, "$primary"),
            ("warn", data.warnings, "$sev-warning"),
            ("err ", data.errors, "$sev-error"),
        ):
            bar = _bar(values, top)
            parts = [(name + " ", "$text-muted")]
            if data.cursor is not None:
                c = data.cursor
                parts += [
                    (bar[:c], style),
                    (bar[c : c + 1] or " ", f"reverse {style}"),
                    (bar[c + 1 :], style),
                ]
            else:
                parts.append((bar, style))
            rows.append(Content.assemble(*parts))
        rows[0] = Content.assemble(rows[0], (f" {label}", "$text-muted"))
        self.update(Content("\n").join(rows), layout=False)  # three rows, always
