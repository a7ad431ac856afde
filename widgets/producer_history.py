"""Resources pane: the producer's ``system_metrics`` history beside the console's live CPU."""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.content import Content

from oos_tui.sources.metrics_history import ProducerHistory
from oos_tui.sources.system import HostSample
from oos_tui.timeutil import format_duration
from oos_tui.widgets.panel import Panel
from oos_tui.widgets.spark import block_chart

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["ProducerHistoryPane", "live_series", "render_producer_history", "time_columns"]

Point = tuple[float, float | None]

_GAP_FACTOR = 5.0


def time_columns(
    points: Sequence[Point], start: float, end: float, width: int
) -> list[float | None]:
    """Bucket ``(ts, value)`` points into ``width`` columns of equal time from ``start`` to ``end``.

    A column holds the largest value that falls in it. An empty column
    between two samples carries the earlier value (samples sparser than
    columns), unless a None point (a gap in the series) lies on either
    side: then it stays blank, so a gap reads as a gap, and so do the times
    before the first sample and after the last.
    """
    if width <= 0:
        return []
    out: list[float | None] = [None] * width
    if not points or end <= start:
        return out
    step = (end - start) / width
    filled = [False] * width
    for ts, value in points:
        col = int((ts - start) / step)
        if col == width and ts <= end:
            col = width - 1
        if col < 0 or col >= width or value is None:
            continue
        current = out[col]
        out[col] = value if current is None else max(current, value)
        filled[col] = True
    times = [ts for ts, _ in points]
    for col in range(width):
        if filled[col]:
            continue
        middle = start + (col + 0.5) * step
        i = bisect.bisect_left(times, middle)
        if i == 0 or i >= len(points):
            continue
        before, after = points[i - 1][1], points[i][1]
        if before is not None and after is not None:
            out[col] = before
    return out


def live_series(samples: Sequence[HostSample]) -> list[Point]:
    """The console's CPU samples as points, a None point inside any pause (a suspended laptop)."""
    points: list[Point] = []
    steps = [b.ts - a.ts for a, b in itertools.pairwise(samples) if b.ts > a.ts]
    median = statistics.median(steps) if steps else None
    prev: float | None = None
    for s in samples:
        if prev is not None and median and s.ts - prev > _GAP_FACTOR * median:
            points.append(((prev + s.ts) / 2.0, None))
        points.append((s.ts, s.cpu_percent))
        prev = s.ts
    return points


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%MZ")


def _latest(points: Sequence[Point]) -> str:
    for _, v in reversed(points):
        if v is not None:
            return f"{v:3.0f}%"
    return "   -"


def _chart(
    label: str, points: Sequence[Point], start: float, end: float, rows: int, style: str,
    label_w: int, chart_w: int,
) -> list[Content]:  # fmt: skip
    values = time_columns(points, start, end, chart_w)
    drawn = block_chart(values, rows, 100.0)
    lines = []
    for i, row in enumerate(drawn):
        head = f"{label} {_latest(points)}" if i == 0 else ""
        mark = " 100%" if i == 0 else ""
        lines.append(
            Content.assemble(
                Content(head).truncate(label_w, pad=True),
                (row, style),
                (mark, "$text-muted"),
            )
        )
    return lines


def _axis(start: float, end: float, label_w: int, chart_w: int) -> Content:
    left = f"{_hhmm(start)} (-{format_duration(end - start)})"
    right = f"{_hhmm(end)} now"
    gap = max(1, chart_w - len(left) - len(right))
    return Content.styled(" " * label_w + left + " " * gap + right, "$text-muted")


def render_producer_history(
    history: ProducerHistory | None,
    host: Sequence[HostSample],
    now: float,
    width: int,
    height: int,
    series: tuple[Sequence[Point], Sequence[Point]] | None = None,
) -> Content:
    """Producer CPU and memory from ``ai_events.log`` over their span, and this console's CPU.

    All three share one time axis ending now, so what the producer recorded
    before the console was opened lines up with what the console sees
    itself; gaps in the producer's record are blank columns. ``series``
    (CPU and memory points) may be passed in when already computed.
    """
    label_w = 17
    mark_w = 5
    chart_w = max(8, width - label_w - mark_w)
    samples = history.samples if history is not None else ()
    live = live_series(host)
    lines: list[Content] = []
    if history is None:
        lines.append(Content("reading ai_events.log…"))
    elif not samples:
        lines.append(Content("no system_metrics in ai_events.log yet"))
    else:
        span = samples[-1].ts - samples[0].ts
        gaps = history.gaps
        head = (
            f"producer: {len(samples)} sample{'s' if len(samples) != 1 else ''} "
            f"over {format_duration(span)}, "
            + ("no gaps" if not gaps else f"{gaps} gap{'s' if gaps != 1 else ''} (blank)")
        )
        if history.malformed:
            head += f", {history.malformed} unreadable"
        lines.append(Content(head))
    starts = [samples[0].ts] if samples else []
    if live:
        starts.append(live[0][0])
    if not starts:
        lines.append(Content.styled("no live samples yet", "$text-muted"))
        return Content("\n").join(line.truncate(width, ellipsis=True) for line in lines)
    start = min(starts)
    end = max(now, start + 1.0)
    avail = max(1, height - 2)
    if samples:
        cpu_rows = max(1, round(avail * 0.4))
        live_rows = max(1, round(avail * 0.3))
        mem_rows = max(1, avail - cpu_rows - live_rows)
        if avail < 3:
            cpu_rows, mem_rows, live_rows = 1, 0, 1
        if series is None and history is not None:
            series = (history.series("cpu_percent"), history.series("memory_percent"))
        cpu_points, mem_points = series or ((), ())
        lines += _chart(
            "producer cpu", cpu_points, start, end, cpu_rows, "$primary", label_w, chart_w
        )
        if mem_rows:
            lines += _chart(
                "producer mem", mem_points, start, end, mem_rows, "$secondary", label_w, chart_w
            )
    else:
        live_rows = avail
    lines += _chart("console cpu", live, start, end, live_rows, "$accent", label_w, chart_w)
    lines.append(_axis(start, end, label_w, chart_w))
    return Content("\n").join(line.truncate(width, ellipsis=True) for line in lines[:height])


class ProducerHistoryPane(Panel):
    """What the producer's host did before the console was opened, next to what it sees now."""

    SOURCE = "ai_events.log system_metrics"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Producer history · ai_events.log", id=id)
        self._history: ProducerHistory | None = None
        self._host: Sequence[HostSample] = ()
        self._now = 0.0
        self._drawn: tuple[object, ...] | None = None
        self._drawn_history: ProducerHistory | None = None
        self._series: tuple[Sequence[Point], Sequence[Point]] | None = None

    def source(self, settings: Settings) -> str:
        """The provenance line: which file, which window, beside which live series."""
        name = settings.ai_events_log.name
        return f"{name} system_metrics, last 24 h, read every 30 s; beside psutil, live"

    def show_history(
        self, history: ProducerHistory | None, host: Sequence[HostSample], now: float
    ) -> None:
        """The producer's history (None: not read yet) and the console's samples."""
        self._history, self._host, self._now = history, host, now
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        region = self.content_region
        width, height = region.width or 76, region.height or 6
        # Redrawn per new sample, not per clock tick: the axis ends "now" within one sample.
        last = self._host[-1] if self._host else None
        key = (last, len(self._host), width, height)
        if key == self._drawn and self._history is self._drawn_history:
            return
        if self._history is not self._drawn_history:
            history = self._history
            self._series = (
                None
                if history is None
                else (history.series("cpu_percent"), history.series("memory_percent"))
            )
        self._drawn, self._drawn_history = key, self._history
        self.show(
            render_producer_history(
                self._history, self._host, self._now, width, height, self._series
            )
        )
