"""Dead-letter detail pane: every field, the whole error and the pretty-printed payload."""

from __future__ import annotations

from typing import Any

import orjson
from textual.content import Content

from oos_tui.models import Breaker, DeadLetter, iso
from oos_tui.sanitize import Sanitizer, default_sanitizer
from oos_tui.store.rows import parse_json
from oos_tui.triage import Group, error_signature
from oos_tui.widgets.content_pane import ContentPane

__all__ = ["DeadLetterDetail", "pretty_json", "render_dead_letter"]

_IDS_SHOWN = 20


def pretty_json(value: Any, sanitizer: Sanitizer) -> str:
    """``value`` as indented JSON, secrets masked (also under secret key names), controls escaped.

    A string that is not JSON is shown as it is (made safe): the operator
    still sees what the producer wrote.
    """
    parsed = parse_json(value) if isinstance(value, str | bytes) else value
    if isinstance(parsed, str):
        return sanitizer.clean(parsed, multiline=True)
    redacted = orjson.loads(sanitizer.json_bytes(parsed, newline=False))
    text = orjson.dumps(redacted, option=orjson.OPT_INDENT_2).decode()
    return sanitizer.clean(text, multiline=True)


def _breaker_words(breaker: Breaker | None) -> str:
    if breaker is None:
        return "no breaker found for this worker"
    words = {"open": "OPEN", "half_open": "half-open", "closed": "closed"}
    text = f"breaker {breaker.name} {words.get(breaker.state, breaker.state)}"
    if breaker.state == "open" and breaker.retry_at is not None:
        text += f", retry at {iso(breaker.retry_at)}"
    return text


def render_dead_letter(
    row: DeadLetter | None,
    breaker: Breaker | None = None,
    group: Group | None = None,
    sanitizer: Sanitizer | None = None,
) -> Content:
    """Every field of ``row`` (and the group it stands for), safe to show: never markup."""
    san = sanitizer or default_sanitizer()
    clean = san.clean
    if row is None:
        return Content("no dead letter selected")
    parts: list[Content] = []

    def field(name: str, value: str, style: str = "") -> None:
        parts.append(Content.assemble((f"{name:<11}", "bold $text-muted"), (value, style)))

    if group is not None:
        ids = ", ".join(str(i) for i in group.ids[:_IDS_SHOWN])
        more = len(group.ids) - _IDS_SHOWN
        parts.append(
            Content.styled(
                f"error group: {group.count} dead letter{'s' if group.count != 1 else ''}",
                "bold",
            )
        )
        field("queues", clean(", ".join(group.queues)))
        field("task types", clean(", ".join(group.task_types)))
        field("ids", ids + (f" … (+{more})" if more > 0 else ""))
        parts.append(Content.styled("\nnewest of the group", "bold $text-muted"))
    parts.append(
        Content.styled(
            clean(
                f"dead letter {row.id} · task {row.task_id} · {row.queue} / {row.task_type}"
                f" · {row.attempts} attempts"
            ),
            "bold",
        )
    )
    worker = clean(row.worker_id or "-")
    open_ = breaker is not None and breaker.state == "open"
    field("worker", f"{worker} · {clean(_breaker_words(breaker))}", "$state-open" if open_ else "")
    field("failed at", iso(row.failed_at))
    parts.append(Content.styled("\nerror", "bold $text-muted"))
    parts.append(Content.styled(clean(row.error, multiline=True), "$sev-error"))
    parts.append(Content(""))
    field("signature", clean(error_signature(row.error)))
    parts.append(Content.styled("\npayload", "bold $text-muted"))
    parts.append(Content(pretty_json(row.payload, san)))
    return Content("\n").join(parts)


class DeadLetterDetail(ContentPane):
    """A scrollable pane; the screen calls :meth:`show` when the selection changes."""

    DEFAULT_CSS = """
    DeadLetterDetail { scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None, sanitizer: Sanitizer | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Detail · enter hides"
        self._sanitizer = sanitizer

    def show(
        self, row: DeadLetter | None, breaker: Breaker | None = None, group: Group | None = None
    ) -> None:
        """Display ``row`` (with its group in the grouped view); the same content is not redrawn."""
        self.show_content(render_dead_letter(row, breaker, group, self._sanitizer))
