"""Overview panel: item lifecycle counts, throughput and success rate per source, from oos.log."""

from __future__ import annotations

from textual.content import Content

from oos_tui.pipeline import PipelineStats
from oos_tui.widgets.panel import Panel
from oos_tui.widgets.spark import spark

__all__ = ["PipelineStatus", "render_pipeline_status"]


def render_pipeline_status(
    stats: PipelineStats | None, progress: float | None, width: int
) -> Content:
    """Four counts, completions per minute over the last hour, and the weakest sources."""
    if stats is None:
        return Content("reading oos.log…" if progress is not None else "no oos.log events yet")
    per_min = stats.completed_per_minute
    rate = per_min[-1] if per_min else 0
    lines = [
        Content.assemble(
            ("discovered ", "$text-muted"),
            (f"{stats.discovered:<6}", "bold"),
            ("processing ", "$text-muted"),
            (f"{stats.processing}", "bold"),
        ),
        Content.assemble(
            ("completed  ", "$text-muted"),
            (f"{stats.completed:<6}", "bold"),
            ("failed ", "$text-muted"),
            (f"{stats.failed}", "bold $sev-error" if stats.failed else "bold"),
        ),
        Content.assemble(
            (f"{rate}/min ", "bold"),
            (spark(per_min, max(4, width - 22), combine="sum"), "$primary"),
            (f" {stats.completed_last_hour}/h", "$text-muted"),
        ),
    ]
    ranked = sorted(
        (s for s in stats.by_source if s.success_rate is not None),
        key=lambda s: (s.success_rate, s.source),
    )
    if ranked:
        cells = [f"{s.source} {s.success_rate * 100:.0f}%" for s in ranked]  # type: ignore[operator]
        text = "success " + "  ".join(cells)
        lines.append(Content(text if len(text) <= width else text[: width - 1] + "…"))
    if progress is not None:
        lines.append(Content(f"reading history {progress * 100:.0f}%"))
    return Content("\n").join(lines)


class PipelineStatus(Panel):
    """Pipeline status from oos.log; ``enter`` opens the Events screen."""

    SOURCE = "oos.log: last event per item_id; COMPLETE per minute; success per source"
    TARGET = "events"
