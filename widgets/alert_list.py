"""Overview panel: alerts that are firing now."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from oos_tui.widgets.panel import Panel

__all__ = ["AlertList", "render_alert_list"]


def render_alert_list(alerts: Sequence[object], width: int, engine_ready: bool = True) -> Content:
    """One line per firing alert: symbol, severity word and summary."""
    if not engine_ready:
        return Content("alert engine: not built yet")
    if not alerts:
        return Content.assemble(("✓ ", "$success"), ("no alerts firing", ""))
    lines = []
    for a in alerts:
        sev = getattr(a, "severity", "warning")
        style = "bold $alert-critical" if sev == "critical" else "bold $alert-warning"
        word = "CRIT" if sev == "critical" else "WARN"
        text = f"{getattr(a, 'summary', str(a))}"
        lines.append(Content.assemble((f"▲ {word} ", style), (text[: max(0, width - 7)], "")))
    return Content("\n").join(lines)


class AlertList(Panel):
    """Firing alerts; ``enter`` jumps to the screen that explains the first one."""

    SOURCE = "the alert engine: rules and thresholds from oos-tui.toml [alerts]"
    TARGET = "alerts"
