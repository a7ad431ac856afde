"""The whole record of the selected event: fields, pretty-printed data, file and line, raw text."""

from __future__ import annotations

import orjson
from textual.content import Content

from oos_tui.models import Event, ParseError, iso
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.content_pane import ContentPane

__all__ = ["EventDetail", "render_detail"]


def render_detail(rec: Event | ParseError | None, ts: float | None = None) -> Content:
    """Every field of ``rec`` (made safe: escapes shown, secrets masked, never markup)."""
    if rec is None:
        return Content("no event selected")
    clean = default_sanitizer().clean
    parts: list[Content] = []

    def field(name: str, value: object) -> None:
        if value in (None, "", ()):
            return
        text = clean(str(value), multiline=True)
        parts.append(Content.assemble((f"{name:<12}", "bold $text-muted"), (text, "")))

    if isinstance(rec, ParseError):
        parts.append(Content.styled("UNREADABLE LINE", "bold $sev-warning"))
        field("time", iso(ts) if ts is not None else None)
        field(
            "file",
            f"{rec.file}:{rec.line}" + (f" @ byte {rec.offset}" if rec.offset is not None else ""),
        )
        field("reason", rec.reason)
        parts.append(Content.styled("\nraw", "bold $text-muted"))
        parts.append(Content(clean(rec.raw, multiline=True)))
        return Content("\n").join(parts)
    field("time", iso(rec.ts))
    field("severity", rec.severity.word)
    field("kind", rec.kind)
    field("source", rec.source)
    field("type", rec.event_type)
    field("item", rec.item_id)
    field("correlation", rec.correlation_id)
    field("tags", ", ".join(rec.tags))
    where = f"{rec.file}:{rec.line}" if rec.line is not None else rec.file
    if rec.offset is not None and rec.kind != "store":
        where = f"{where} @ byte {rec.offset}"
    field("file", where)
    field("message", rec.message)
    if rec.data is not None:
        try:
            pretty = orjson.dumps(rec.data, option=orjson.OPT_INDENT_2, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            pretty = repr(rec.data)
        parts.append(Content.styled("\ndata", "bold $text-muted"))
        parts.append(
            Content(default_sanitizer().clean(default_sanitizer().redact(pretty), multiline=True))
        )
    parts.append(Content.styled("\nraw", "bold $text-muted"))
    parts.append(Content(clean(rec.raw, multiline=True)))
    return Content("\n").join(parts)


class EventDetail(ContentPane):
    """A scrollable detail pane; the screen calls :meth:`show` when the cursor moves."""

    def show(self, rec: Event | ParseError | None, ts: float | None = None) -> None:
        """Display ``rec``."""
        self.show_content(render_detail(rec, ts))
