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
        room = max(0, width - 7)
        text = text if len(text) <= room else text[: max(0, room - 1)] + "…"
        lines.append(Content.assemble((f"▲ {word} ", style), (text, "")))
    return Content("\n").join(lines)


class AlertList(Panel):
    """Firing alerts; ``enter`` jumps to the screen that explains the first one."""

    SOURCE = "the alert engine: rules and thresholds from oos-tui.toml [alerts]"
    TARGET = None

    first_alert: object | None = None
    """The alert ``enter`` explains (set by the screen with each update)."""

    def action_open(self) -> None:
        """Go to the screen that explains the most urgent alert."""
        alert = self.first_alert
        if alert is None:
            self.notify("no alert is firing", timeout=3)
            return
        target = getattr(alert, "target", "overview")
        self.post_message(self.Opened(self, target, getattr(alert, "target_arg", "") or ""))
