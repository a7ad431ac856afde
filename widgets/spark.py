"""Text sparklines with block characters (no Textual; safe in any terminal font)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BLOCKS", "fit", "spark"]

BLOCKS = "▁▂▃▄▅▆▇█"


def fit(values: Sequence[float], width: int, *, combine: str = "max") -> list[float]:
    """Resample ``values`` to at most ``width`` buckets (``max`` or ``sum`` per bucket).

    A sparkline narrower than its history must still cover all of it (an hour
    of throughput in 14 cells), rather than silently showing the last 14.
    """
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
