"""Audit detail pane: one operator action whole, its JSON detail pretty-printed and made safe."""

from __future__ import annotations

from textual.content import Content

from oos_tui.models import AuditEntry, iso
from oos_tui.sanitize import Sanitizer, default_sanitizer
from oos_tui.widgets.audit_table import OUTCOME_WORDS, result_message
from oos_tui.widgets.content_pane import ContentPane
from oos_tui.widgets.dead_letter_detail import pretty_json

__all__ = ["AuditDetail", "render_audit_entry"]

_OUTCOME_STYLES = {"ok": "bold $success", "refused": "bold $warning", "error": "bold $sev-error"}


def render_audit_entry(entry: AuditEntry | None, sanitizer: Sanitizer | None = None) -> Content:
    """Every field of ``entry``; the detail (rows as they were, the result) as indented JSON."""
    if entry is None:
        return Content("no action selected")
    san = sanitizer or default_sanitizer()
    clean = san.clean
    parts: list[Content] = [Content.styled(f"operator action {entry.id}", "bold")]

    def field(name: str, value: str, style: str = "") -> None:
        parts.append(Content.assemble((f"{name:<10}", "bold $text-muted"), (value, style)))

    field("at", iso(entry.at))
    field("operator", clean(entry.operator))
    field("action", clean(entry.action))
    field("target", clean(entry.target))
    field(
        "outcome",
        OUTCOME_WORDS.get(entry.outcome, clean(entry.outcome)),
        _OUTCOME_STYLES.get(entry.outcome, "bold"),
    )
    field("result", clean(result_message(entry.detail)))
    parts.append(Content.styled("\ndetail", "bold $text-muted"))
    parts.append(Content(pretty_json(entry.detail, san)))
    return Content("\n").join(parts)


class AuditDetail(ContentPane):
    """A scrollable pane; the screen calls :meth:`show` when the selection changes."""

    DEFAULT_CSS = """
    AuditDetail { scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Detail · enter hides"
        self._sanitizer = sanitizer

    def show(self, entry: AuditEntry | None) -> None:
        """Display ``entry``; the same content is not redrawn."""
        self.show_content(render_audit_entry(entry, self._sanitizer))
