"""Resources pane: host CPU (total, per core), load, memory, disk and disk I/O over 15 minutes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from textual.content import Content

from oos_tui.sources.system import HostSample
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes, format_rate
from oos_tui.widgets.panel import Panel
from oos_tui.widgets.spark import block_chart, fit

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = [
    "HostGraphs",
    "HostLimits",
    "render_host_graphs",
    "styled_row",
]


SPAN_SECONDS = 900.0
"""The graphs cover the last 15 minutes of samples."""

_SPAN_SAMPLES = 450
"""15 minutes at the default 2 s: the fallback window when sample times look wrong."""

_WIDE = 110
"""From this many columns of content the charts are laid out in two columns."""


def styled_row(row: str, hot: Sequence[bool] | None, style: str, hot_style: str) -> Content:
    """One chart row as Content: columns flagged in ``hot`` (over a limit) in ``hot_style``."""
    if not hot or not any(hot):
        return Content.styled(row, style) if style else Content(row)
    parts: list[tuple[str, str]] = []
    start = 0
    for i in range(1, len(row) + 1):
        if i == len(row) or hot[i] != hot[start]:
            parts.append((row[start:i], hot_style if hot[start] else style))
            start = i
    return Content.assemble(*parts)


@dataclass(frozen=True)
class HostLimits:
    """The alert thresholds the graphs are drawn against (``[alerts]``)."""

    load1: float = 4.0
    disk_percent: float = 80.0
    mem_available_percent: float = 10.0


@dataclass
class _Figure:
    """One chart: labels on the left, block rows in the middle, scale marks on the right."""

    labels: list[Content]
    values: Sequence[float | None]
    top: float
    rows: int
    style: str = "$primary"
    hot: list[bool] | None = None
    marks: dict[int, str] = field(default_factory=dict)
    """Scale marks by row (0 = top row)."""


def _window(samples: Sequence[HostSample], now: float) -> list[HostSample]:
    recent = [s for s in samples if s.ts > now - SPAN_SECONDS]
    return recent or list(samples[-_SPAN_SAMPLES:])


def _span_label(window: Sequence[HostSample]) -> str:
    if len(window) < 2:
        return "1 sample"
    span = window[-1].ts - window[0].ts
    step = span / (len(window) - 1)
    covered = span + step
    return "last 15m" if covered >= SPAN_SECONDS - step else f"last {format_duration(covered)}"


def _draw(fig: _Figure, label_w: int, chart_w: int, mark_w: int) -> list[Content]:
    values = fit(fig.values, chart_w) if chart_w > 0 else []
    hot = None
    if fig.hot is not None:
        flags = fit([1.0 if h else 0.0 for h in fig.hot], chart_w, combine="max")
        hot = [f > 0 for f in flags]
    pad = chart_w - len(values)
    rows = block_chart(values, fig.rows, fig.top)
    lines = []
    for i, row in enumerate(rows):
        label = fig.labels[i] if i < len(fig.labels) else Content("")
        if i and label.cell_length:
            label = Content.assemble("  ", label)
        body = styled_row(row, hot, fig.style, "bold $alert-warning")
        mark = fig.marks.get(i, "")
        lines.append(
            Content.assemble(
                label.truncate(label_w, ellipsis=True, pad=True),
                " " * pad,
                body,
                Content.styled(f" {mark}", "$text-muted").truncate(mark_w, pad=True),
            )
        )
    return lines


def _warn(flag: bool) -> str:
    return "bold $alert-warning" if flag else ""


def _cpu(window: list[HostSample], rows: int, *, compact_cores: bool = False) -> _Figure:
    s = window[-1]
    cores = len(s.per_cpu)
    labels = [
        Content.assemble(("cpu ", "bold"), f"{s.cpu_percent:5.1f}%"),
        Content.styled(f"{cores} core{'s' if cores != 1 else ''}", "$text-muted"),
        Content.styled(f"peak {max(x.cpu_percent for x in window):.0f}%", "$text-muted"),
    ]
    if compact_cores:
        labels[1] = _compact_cores(s)
    return _Figure(labels, [x.cpu_percent for x in window], 100.0, rows, marks={0: "100%"})


def _load(window: list[HostSample], rows: int, limit: float) -> _Figure:
    s = window[-1]
    over = s.load1 > limit
    values = [x.load1 for x in window]
    top = max(limit, max(values))
    # One row: the limit is the figure to read against. Taller: the scale's top,
    # and "limit" on the row the threshold crosses.
    marks = {0: f"limit {limit:g}" if top <= limit else f"{top:.1f} lim {limit:g}"}
    if rows > 1 and top > limit:
        row = min(rows - 1, int((1 - limit / top) * rows))
        marks = {0: f"{top:.1f}"}
        marks[row] = f"{top:.1f} lim {limit:g}" if row == 0 else f"limit {limit:g}"
    labels = [
        Content.assemble(
            ("load ", "bold"),
            (f"{s.load1:.2f} {s.load5:.2f} {s.load15:.2f}", _warn(over)),
            (" ▲" if over else "", _warn(True)),
        ),
        Content.styled(
            f"over {limit:g}" if over else f"limit {limit:g}", _warn(over) or "$text-muted"
        ),
    ]
    return _Figure(labels, values, top, rows, hot=[v > limit for v in values], marks=marks)


def _mem(window: list[HostSample], rows: int, floor: float) -> _Figure:
    s = window[-1]
    low = s.mem_available_percent < floor
    labels = [
        Content.assemble(
            ("mem ", "bold"),
            (f"{s.mem_percent:5.1f}% used", _warn(low)),
            (" ▲" if low else "", _warn(True)),
            (f" swap {s.swap_percent:.0f}%", "$text-muted"),
        ),
        Content.styled(
            f"{s.mem_available_percent:.0f}% avail"
            + (" ▲ low" if low else f" (alert <{floor:g}%)"),
            _warn(low) or "$text-muted",
        ),
    ]
    return _Figure(labels, [x.mem_percent for x in window], 100.0, rows, marks={0: "100%"})


def _io(window: list[HostSample], rows: int, which: str) -> _Figure:
    attr = "disk_read_bps" if which == "read" else "disk_write_bps"
    values: list[float | None] = [getattr(x, attr) for x in window]
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    labels = [
        Content.assemble((f"{which:<5} ", "bold"), format_rate(values[-1] if values else None))
    ]
    return _Figure(
        labels, values, top or 1.0, rows, style="$secondary", marks={0: format_rate(top)}
    )


def _io_both(window: list[HostSample], rows: int) -> _Figure:
    s = window[-1]
    values: list[float | None] = []
    for x in window:
        r, w = x.disk_read_bps, x.disk_write_bps
        values.append(None if r is None and w is None else (r or 0.0) + (w or 0.0))
    top = max((v for v in values if v is not None), default=0.0)
    labels = [
        Content.assemble(
            ("io ", "bold"), f"r {format_rate(s.disk_read_bps)} w {format_rate(s.disk_write_bps)}"
        )
    ]
    return _Figure(
        labels, values, top or 1.0, rows, style="$secondary", marks={0: format_rate(top)}
    )


def _disk_gauge(s: HostSample, width: int, limit: float) -> Content:
    """``disk ████████░░░░░░ 45% of 250 GB``: the bar marks the alert limit with ``│``."""
    over = s.disk_percent > limit
    text = Content.assemble(
        (f" {s.disk_percent:.0f}% of {format_bytes(s.disk_total)}", _warn(over)),
        (" ▲ over" if over else f" (alert {limit:g}%)", _warn(over) or "$text-muted"),
    )
    bar_w = max(10, min(40, width - 5 - text.cell_length))
    filled = round(bar_w * min(100.0, s.disk_percent) / 100.0)
    mark = min(bar_w - 1, round(bar_w * limit / 100.0))
    cells = ["█" if i < filled else "░" for i in range(bar_w)]
    if mark >= filled:
        cells[mark] = "│"
    line = Content.assemble(
        ("disk ", "bold"),
        ("".join(cells), "bold $alert-warning" if over else "$primary"),
        text,
    )
    return line.truncate(width, ellipsis=True)


def _core_lines(s: HostSample, window: list[HostSample], width: int, lines: int) -> list[Content]:
    """One short line per core (several per line when there are more cores than lines)."""
    n = len(s.per_cpu)
    if not n or lines <= 0:
        return []
    columns = -(-n // lines)
    cell_w = max(12, (width - (columns - 1)) // columns)
    label_w = 9
    rows: list[list[Content]] = [[] for _ in range(-(-n // columns))]
    for i, pct in enumerate(s.per_cpu):
        hist = [x.per_cpu[i] if i < len(x.per_cpu) else None for x in window]
        chart_w = max(1, cell_w - label_w)
        chart = block_chart(fit(hist, chart_w), 1, 100.0)[0].rjust(chart_w)
        cell = Content.assemble((f"cpu{i:<2}", "$text-muted"), f"{pct:3.0f}% ", (chart, "$primary"))
        rows[i // columns].append(cell.truncate(cell_w, pad=True))
    return [Content(" ").join(r).truncate(width) for r in rows]


def _compact_cores(s: HostSample) -> Content:
    text = " ".join(f"{c:.0f}" for c in s.per_cpu)
    return Content.assemble(("cores ", "$text-muted"), f"{text} %")


def _side_by_side(left: list[Content], right: list[Content], left_w: int) -> list[Content]:
    out = []
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else Content("")
        b = right[i] if i < len(right) else Content("")
        out.append(Content.assemble(a.truncate(left_w, pad=True), "   ", b))
    return out


def render_host_graphs(
    samples: Sequence[HostSample],
    width: int,
    height: int,
    now: float,
    limits: HostLimits,
) -> Content:
    """The host pane's text for a content area ``width`` wide, ``height`` tall.

    Narrow: one column (CPU, cores, load, memory, disk with I/O), extra
    height going to the CPU chart first. Wide: CPU and one line per core
    on the left; memory, load against its alert limit, read and write
    rates and a disk gauge on the right, each chart several rows tall.
    """
    if not samples:
        return Content("sampling the host… (first figures within one sampling interval)")
    window = _window(samples, now)
    width = max(20, width)
    height = max(1, height)
    if width >= _WIDE and height >= 8:
        return Content("\n").join(_wide(window, width, height, limits))
    return Content("\n").join(_narrow(window, width, height, limits))


def _narrow(window: list[HostSample], width: int, height: int, limits: HostLimits) -> list[Content]:
    s = window[-1]
    label_w = 26
    mark_w = 10
    chart_w = max(4, width - label_w - mark_w)
    spare = max(0, height - 5)
    cpu_rows = 1 + min(3, spare)
    spare -= cpu_rows - 1
    mem_rows = 1 + min(1, spare)
    spare -= mem_rows - 1
    load_rows = 1 + min(1, spare)
    cpu = _cpu(window, cpu_rows, compact_cores=True)
    if cpu_rows == 1:
        cpu.labels[0] = Content.assemble(cpu.labels[0], "  ", cpu.labels[1])
    io = _io_both(window, 1)
    lines: list[Content] = []
    lines += _draw(cpu, label_w, chart_w, mark_w)
    lines += _draw(_load(window, load_rows, limits.load1), label_w, chart_w, mark_w)
    lines += _draw(_mem(window, mem_rows, limits.mem_available_percent), label_w, chart_w, mark_w)
    lines += _draw(io, label_w, chart_w, mark_w)
    lines.append(_disk_gauge(s, width, limits.disk_percent))
    return lines[:height]


def _stacked(fig: _Figure, width: int, mark_w: int) -> list[Content]:
    """A heading line (all of the figure's labels), then the chart across the full width."""
    head = Content("  ").join(fig.labels)
    body = replace(fig, labels=[])
    return [head.truncate(width, ellipsis=True), *_draw(body, 0, width - mark_w, mark_w)]


def _io_stacked(window: list[HostSample], rows: int, width: int, mark_w: int) -> list[Content]:
    s = window[-1]
    head = Content.assemble(
        ("disk I/O ", "bold"),
        f"read {format_rate(s.disk_read_bps)}  write {format_rate(s.disk_write_bps)}",
    )
    lines = [head.truncate(width, ellipsis=True)]
    for which in ("read", "write"):
        fig = _io(window, rows, which)
        fig.labels = [Content.styled(which, "$text-muted")]
        lines += _draw(fig, 6, width - 6 - mark_w, mark_w)
    return lines


def _wide(window: list[HostSample], width: int, height: int, limits: HostLimits) -> list[Content]:
    s = window[-1]
    col_w = (width - 3) // 2
    mark_w = 11
    cores = len(s.per_cpu)
    core_lines = min(cores, max(1, height - 5))
    cpu_rows = max(1, min(10, height - core_lines - 2))
    left = _stacked(_cpu(window, cpu_rows), col_w, mark_w)
    left.append(Content(""))
    left += _core_lines(s, window, col_w, core_lines)
    avail = max(3, height - 4)
    io_rows = max(1, avail // 5)
    mem_rows = max(1, (avail - 2 * io_rows) // 2)
    load_rows = max(1, avail - 2 * io_rows - mem_rows)
    right = _stacked(_mem(window, mem_rows, limits.mem_available_percent), col_w, mark_w)
    right += _stacked(_load(window, load_rows, limits.load1), col_w, mark_w)
    right += _io_stacked(window, io_rows, col_w, mark_w)
    right = right[: height - 1]
    right.append(_disk_gauge(s, col_w, limits.disk_percent))
    return _side_by_side(left[:height], right, col_w)[:height]


class HostGraphs(Panel):
    """The host over the last 15 minutes; focus it and the provenance line names psutil."""

    DEFAULT_CSS = """
    HostGraphs {
        height: 1fr;
        overflow: hidden;
    }
    """

    SOURCE = "psutil on this host"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Host", id=id)
        self._samples: Sequence[HostSample] = ()
        self._now = 0.0
        self._limits = HostLimits()
        self._drawn: tuple[object, ...] | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Panel's enter opens the detailed screen: this pane is already on it.
        return action != "open"

    def source(self, settings: Settings) -> str:
        """The provenance line: which psutil calls, and how often."""
        every = f"{settings.refresh.metrics_seconds:g} s"
        return f"psutil every {every}: cpu total and per core, load, memory, swap, disk, disk I/O"

    def show_samples(self, samples: Sequence[HostSample], now: float, limits: HostLimits) -> None:
        """New samples (oldest first) as of ``now``; redrawn only when something changed."""
        self._samples, self._now, self._limits = samples, now, limits
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        region = self.content_region
        width, height = region.width or 76, region.height or 6
        last = self._samples[-1] if self._samples else None
        key = (last, len(self._samples), width, height, self._limits)
        if key == self._drawn:
            return
        self._drawn = key
        window = _window(self._samples, self._now) if self._samples else []
        self.border_title = f"Host · {_span_label(window)}" if window else "Host"
        self.show(render_host_graphs(self._samples, width, height, self._now, self._limits))
