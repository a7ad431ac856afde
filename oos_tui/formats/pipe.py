"""``oos.log``: pipe-delimited processing events (CONTRACT §2.1), read and written."""

from __future__ import annotations

import sys
from typing import Any

import orjson

from oos_tui.formats.base import (
    MAX_DEPTH,
    LogFormat,
    format_ts,
    json_error_reason,
    short,
    text_ts,
    too_deep,
)
from oos_tui.models import Event, ParseError, Severity, SourceKind, _new_event

__all__ = ["PIPE", "PipeFormat", "write_line"]

_loads = orjson.loads
_intern = sys.intern
_INFO = Severity.INFO
_SEVERITY = {"FAIL": Severity.ERROR, "RETRY": Severity.WARNING}
_KIND = SourceKind.OOS.value
_TAGS: dict[str, tuple[str, ...]] = {"": ()}
_TAGS_MAX = 10_000
_DEEP_MIN_LEN = 2 * MAX_DEPTH  # fewer characters cannot hold that many brackets


class PipeFormat(LogFormat):
    """``timestamp|event_type|content_type|source|item_id|data_json``.

    Split on the first five ``|`` only, so the JSON may contain ``|``.
    FAIL is an error and RETRY a warning; the message is a FAIL's
    ``"error"``, else the data's ``message``, ``title`` or ``url``.
    """

    name = "pipe"
    kind = _KIND
    ts_prefixes = (b"",)

    def parse(
        self, raw: bytes, file: str, line: int, offset: int | None = None
    ) -> Event | ParseError:
        """Parse one line of ``oos.log``; see :meth:`LogFormat.parse`."""
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        text = raw.decode("utf-8", "replace")
        parts = text.split("|", 5)
        if len(parts) != 6:
            reason = (
                "empty line"
                if not text.strip()
                else f"expected 6 |-separated fields, got {len(parts)}"
            )
            return ParseError(file, line, reason, text, offset, _KIND)
        ts_text, event_type, content_type, source, item_id, data_json = parts
        ts = text_ts(ts_text) if ts_text else None
        if ts is None:
            reason = f"bad timestamp {short(ts_text)}" if ts_text.strip() else "missing timestamp"
            return ParseError(file, line, reason, text, offset, _KIND)
        try:
            data = _loads(data_json)
        except ValueError as exc:
            reason = (
                f"data_json: {json_error_reason(exc)}" if data_json.strip() else "empty data_json"
            )
            return ParseError(file, line, reason, text, offset, _KIND)
        if (
            len(data_json) > _DEEP_MIN_LEN
            and data_json.count("[") + data_json.count("{") > MAX_DEPTH
            and too_deep(data)
        ):
            reason = f"data_json: nested deeper than {MAX_DEPTH} levels"
            return ParseError(file, line, reason, text, offset, _KIND)
        message = ""
        correlation_id = None
        if data.__class__ is dict:
            if event_type == "FAIL":
                value = data.get("error")
                if value.__class__ is str:
                    message = value
            if not message:
                for key in ("message", "title", "url"):
                    value = data.get(key)
                    if value.__class__ is str and value:
                        message = value
                        break
            value = data.get("correlation_id")
            if value.__class__ is str:
                correlation_id = value or None
            elif value is not None and value.__class__ in (int, float):
                correlation_id = str(value)
        tags = _TAGS.get(content_type)
        if tags is None:
            if len(_TAGS) > _TAGS_MAX:
                _TAGS.clear()
                _TAGS[""] = ()
            tags = _TAGS[content_type] = (_intern(content_type),)
        return _new_event(
            ts,
            _SEVERITY.get(event_type, _INFO),
            _KIND,
            _intern(source),
            _intern(event_type),
            message,
            item_id or None,
            correlation_id,
            data,
            file,
            line,
            offset,
            text,
            tags,
        )

    def timestamp(self, raw: bytes) -> float | None:
        """The text before the first ``|``, as epoch seconds."""
        end = raw.find(b"|")
        if end <= 0:
            return None
        return text_ts(raw[:end].decode("utf-8", "replace"))


PIPE = PipeFormat()


def write_line(
    ts: float,
    event_type: str,
    content_type: str,
    source: str,
    item_id: str | None,
    data: Any,
) -> bytes:
    """One ``oos.log`` line, newline included, that :data:`PIPE` reads back.

    Args:
        ts: UTC epoch seconds, written as ``YYYY-MM-DDTHH:MM:SS.mmmZ``.
        event_type: DISCOVER, PROCESS, COMPLETE, FAIL, RETRY, SKIP or other.
        content_type: e.g. ``podcast``; may be empty.
        source: The producer, e.g. a feed name.
        item_id: Joins an item's events; None or empty when there is none.
        data: Any JSON-serialisable value; a FAIL's should carry ``"error"``.

    Raises:
        ValueError: a text field contains ``|`` or a line break, which would
            shift the fields or split the line.
        TypeError: ``data`` is not JSON-serialisable.
    """
    fields = (event_type, content_type, source, item_id or "")
    for value in fields:
        if "|" in value or "\n" in value or "\r" in value:
            raise ValueError(f"oos.log fields may not contain '|' or a line break: {value!r}")
    head = f"{format_ts(ts)}|{event_type}|{content_type}|{source}|{fields[3]}|"
    return head.encode() + orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
