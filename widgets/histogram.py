"""Events over time by severity, above the event list (like lnav's histogram view)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from textual.content import Content
from textual.widgets import Static

from oos_tui.timeutil import format_duration
from oos_tui.widgets.spark import BLOCKS

__all__ = ["Histogram", "HistogramData", "bucket"]

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


def bucket(
    ts: np.ndarray, warn_ts: np.ndarray, err_ts: np.ndarray, width: int, cursor_ts: float | None
) -> HistogramData | None:
    """Bucket timestamps into at most ``width`` columns of a round size (1 min, 5 min, 1 h…).

    The bucket is the smallest step from the list that fits the whole range,
    so the columns read as "events per minute" (or per 5 minutes…), and the
    step is said in the header.
    """
    ts = ts[np.isfinite(ts) & (ts > 0)]
    if ts.size == 0 or width <= 0:
        return None
    lo, hi = float(ts.min()), float(ts.max())
    span = max(hi - lo, 1.0)
    step = next((s for s in _STEPS if span / s <= width), _STEPS[-1])
    start = lo - lo % step
    n = min(width, int((hi - start) // step) + 1)
    edges = start + step * np.arange(n + 1)

    def count(values: np.ndarray) -> np.ndarray:
        values = values[np.isfinite(values)]
        return np.histogram(values, bins=edges)[0] if values.size else np.zeros(n, dtype=np.int64)

    cursor = None
    if cursor_ts is not None and cursor_ts == cursor_ts:
        cursor = int((cursor_ts - start) // step)
        cursor = cursor if 0 <= cursor < n else None
    return HistogramData(start, float(step), count(ts), count(warn_ts), count(err_ts), cursor)


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
        self.update(Content("\n").join(rows))
