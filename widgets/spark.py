"""Text sparklines with block characters (no Textual; safe in any terminal font)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BLOCKS", "spark"]

BLOCKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int, *, top: float | None = None) -> str:
    """The last ``width`` values as block characters, scaled to ``top``.

    ``top`` defaults to the largest value; passing a threshold-based top keeps
    the alert line at the same height over time. Missing history is padded
    with spaces on the left so the newest value is always at the right edge.
    """
    if width <= 0:
        return ""
    tail = list(values)[-width:]
    scale = top if top is not None else max(tail, default=0.0)
    if scale <= 0:
        body = BLOCKS[0] * len(tail)
    else:
        last = len(BLOCKS) - 1
        body = "".join(BLOCKS[min(last, max(0, round(v / scale * last)))] for v in tail)
    return body.rjust(width)
