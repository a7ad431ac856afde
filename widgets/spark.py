"""Text sparklines with block characters (no Textual; safe in any terminal font)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BLOCKS", "EIGHTHS", "block_chart", "fit", "spark"]

BLOCKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▁▂▃▄▅▆▇█"
"""Block characters by eighths filled: index 0 is blank, 8 a full cell."""


def fit(values: Sequence[float | None], width: int, *, combine: str = "max") -> list:
    """Resample ``values`` to at most ``width`` buckets (``max`` or ``sum`` per bucket).

    A sparkline narrower than its history must still cover all of it (an hour
    of throughput in 14 cells), rather than silently showing the last 14.
    Missing values (None: a gap in a history) stay missing where a whole
    bucket is missing; figures are never negative, so -1 carries "missing"
    through the max.
    """
    if any(v is None for v in values):
        marked = [-1.0 if v is None else v for v in values]
        return [None if v < 0 else v for v in fit(marked, width, combine=combine)]
    data = list(values)
    if len(data) <= width or width <= 0:
        return data
    out = []
    for i in range(width):
        lo = i * len(data) // width
        hi = max(lo + 1, (i + 1) * len(data) // width)
        chunk = data[lo:hi]
        out.append(sum(chunk) if combine == "sum" else max(chunk))
    return out


def spark(
    values: Sequence[float], width: int, *, top: float | None = None, combine: str | None = None
) -> str:
    """The values as block characters, scaled to ``top``, newest at the right edge.

    With ``combine`` ("max" or "sum") a long history is resampled to fit the
    width; without it only the last ``width`` values are drawn (live series
    where the newest points matter most). ``top`` defaults to the largest
    value. Missing history is padded with spaces on the left.
    """
    if width <= 0:
        return ""
    tail = fit(values, width, combine=combine) if combine else list(values)[-width:]
    scale = top if top is not None else max(tail, default=0.0)
    if scale <= 0:
        body = BLOCKS[0] * len(tail)
    else:
        last = len(BLOCKS) - 1
        body = "".join(BLOCKS[min(last, max(0, round(v / scale * last)))] for v in tail)
    return body.rjust(width)


def block_chart(values: Sequence[float | None], rows: int, top: float) -> list[str]:
    """Values as a chart ``rows`` cells tall, top row first, one column per value.

    Each row resolves 8 levels, so a 3-row chart shows 24 steps where a
    sparkline shows 8: small changes stay visible. A value that is present
    is at least one eighth tall (zero still reads as "sampled"); None is a
    blank column, for gaps and for time before the first sample.
    """
    rows = max(1, rows)
    levels = rows * 8
    heights: list[int | None] = []
    for v in values:
        if v is None or v != v:
            heights.append(None)
        elif top <= 0:
            heights.append(1)
        else:
            heights.append(max(1, min(levels, round(v / top * levels))))
    out = []
    for r in range(rows - 1, -1, -1):
        base = r * 8
        out.append(
            "".join(" " if h is None else EIGHTHS[max(0, min(8, h - base))] for h in heights)
        )
    return out
