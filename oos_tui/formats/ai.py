"""``ai_events.log``: JSON-lines system and AI events (CONTRACT §2.2), read and written."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import orjson

from oos_tui.formats.base import (
    MAX_DEPTH,
    LogFormat,
    as_id,
    format_ts,
    json_timestamp,
    read_json_line,
)
from oos_tui.models import Event, ParseError, Severity, SourceKind, _new_event

__all__ = ["AI", "AiFormat", "summarize", "write_line"]

_loads = orjson.loads
_intern = sys.intern
_INFO = Severity.INFO
_SEVERITY = {"error": Severity.ERROR, "pattern": Severity.WARNING}
_DEEP_MIN_LEN = 2 * MAX_DEPTH  # fewer bytes cannot hold that many brackets
_KIND = SourceKind.AI.value
_SUMMARY_MAX = 200
_RESERVED = frozenset(
    (
        "timestamp",
        "event_type",
        "category",
        "source",
        "details",
        "system_metrics",
        "user_interaction",
        "ai_analysis",
    )
)


def summarize(details: Mapping[str, Any], limit: int = _SUMMARY_MAX) -> str:
    """A compact ``k=v k=v`` line for a details object with no message.

    Nested values are shown as compact JSON; the result is cut to ``limit``
    characters (ending in ``…``) so one huge value cannot flood a table row.
    """
    parts: list[str] = []
    size = 0
    for key, value in details.items():
        if value.__class__ is str:
            shown = value
        else:
            try:
                shown = orjson.dumps(value).decode()
            except TypeError:
                shown = repr(value)
        piece = f"{key}={shown[:limit]}"
        parts.append(piece)
        size += len(piece) + 1
        if size > limit:
            break
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AiFormat(LogFormat):
    """One JSON object per line: ``timestamp``, ``event_type``, ``details``…

    ``error`` events are errors and ``pattern`` events warnings. The whole
    object is the event's ``data``, so ``system_metrics`` stays reachable.
    """

    name = "ai"
    kind = _KIND
    ts_prefixes = (b'{"timestamp":"', b'{"timestamp": "')

    def parse(
        self, raw: bytes, file: str, line: int, offset: int | None = None
    ) -> Event | ParseError:
        """Parse one line of ``ai_events.log``; see :meth:`LogFormat.parse`."""
        read = read_json_line(raw, file, line, offset, _KIND)
        if read.__class__ is ParseError:
            return read  # type: ignore[return-value]
        obj, ts, text = read  # type: ignore[misc]
        event_type = obj.get("event_type")
        if event_type.__class__ is not str or not event_type:
            return ParseError(file, line, "missing event_type", text, offset, _KIND)
        source = obj.get("source")
        if source.__class__ is not str or not source:
            source = "unknown"
        category = obj.get("category")
        details = obj.get("details")
        correlation_id = as_id(obj.get("correlation_id"))
        item_id = None
        message = None
        if details.__class__ is dict:
            item_id = as_id(details.get("item_id"))
            if correlation_id is None:
                correlation_id = as_id(details.get("correlation_id"))
            for key in ("message", "action", "description"):
                value = details.get(key)
                if value.__class__ is str and value:
                    message = value
                    break
            else:
                if details:
                    message = summarize(details)
        elif details.__class__ is str and details:
            message = details
        return _new_event(
            ts,
            _SEVERITY.get(event_type.lower(), _INFO),
            _KIND,
            _intern(source),
            _intern(event_type),
            message or event_type,
            item_id,
            correlation_id,
            obj,
            file,
            line,
            offset,
            text,
            (_intern(category),) if category.__class__ is str and category else (),
        )

    def timestamp(self, raw: bytes) -> float | None:
        """The top-level ``"timestamp"``, found without a full parse."""
        return json_timestamp(raw)


AI = AiFormat()


def write_line(
    ts: float,
    event_type: str,
    category: str,
    source: str,
    details: Mapping[str, Any] | None,
    system_metrics: Mapping[str, Any] | None = None,
    user_interaction: Any = None,
    ai_analysis: Any = None,
    **extra: Any,
) -> bytes:
    """One ``ai_events.log`` line, newline included, that :data:`AI` reads back.

    The timestamp is written naive with microseconds, as the producer does
    (``2025-09-28T18:58:29.100950``); naive means UTC. Keys of ``extra``
    follow the contract's keys.

    Raises:
        ValueError: ``extra`` repeats one of the contract's keys.
        TypeError: a value is not JSON-serialisable.
    """
    clash = _RESERVED.intersection(extra)
    if clash:
        raise ValueError(f"extra keys clash with ai_events fields: {sorted(clash)}")
    record: dict[str, Any] = {
        "timestamp": format_ts(ts, digits=6, zulu=False),
        "event_type": event_type,
        "category": category,
        "source": source,
        "details": details,
        "system_metrics": system_metrics,
        "user_interaction": user_interaction,
        "ai_analysis": ai_analysis,
    }
    record.update(extra)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
