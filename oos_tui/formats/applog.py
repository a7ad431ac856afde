"""``logs/*.log``: JSON-lines application and container logs (CONTRACT §2.3), read and written."""

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

__all__ = ["APP", "AppFormat", "write_container_line", "write_line"]

_loads = orjson.loads
_intern = sys.intern
_INFO = Severity.INFO
_WARNING = Severity.WARNING
_DEEP_MIN_LEN = 2 * MAX_DEPTH  # fewer bytes cannot hold that many brackets
_KIND = SourceKind.APP.value
_LEVELS = {s.name: s for s in Severity} | {"WARN": Severity.WARNING, "FATAL": Severity.CRITICAL}
_APP_KEYS = frozenset(("timestamp", "level", "source", "message", "context", "metadata"))
_CONTAINER_KEYS = frozenset(("timestamp", "level", "service_name", "content", "stream"))


def _text(value: Any) -> str:
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


class AppFormat(LogFormat):
    """One JSON object per line, as an application log or a collected container line.

    An application line has ``level``, ``source``, ``message``, ``context``
    and ``metadata``; a container line has ``service_name`` and ``content``
    instead, maybe ``stream``, and maybe no ``level`` (then stderr is a
    warning). Its ``event_type`` is ``log`` or ``container`` unless the object
    names one in ``event`` or ``event_type``.
    """

    name = "app"
    kind = _KIND
    ts_prefixes = (b'{"timestamp":"', b'{"timestamp": "')

    def parse(
        self, raw: bytes, file: str, line: int, offset: int | None = None
    ) -> Event | ParseError:
        """Parse one line of an application log; see :meth:`LogFormat.parse`."""
        read = read_json_line(raw, file, line, offset, _KIND)
        if read.__class__ is ParseError:
            return read  # type: ignore[return-value]
        obj, ts, text = read  # type: ignore[misc]

        container = "message" not in obj and ("content" in obj or "service_name" in obj)
        level = obj.get("level")
        if level.__class__ is str and level:
            severity = _LEVELS.get(level) or Severity.parse(level)
        elif container and obj.get("stream") == "stderr":
            severity = _WARNING
        else:
            severity = _INFO
        source = obj.get("source")
        if source.__class__ is not str or not source:
            source = obj.get("service_name")
            if source.__class__ is not str or not source:
                source = "unknown"
        message = obj.get("message")
        if message is None:
            message = obj.get("content")
        event_type = obj.get("event")
        if event_type.__class__ is not str or not event_type:
            event_type = obj.get("event_type")
            if event_type.__class__ is not str or not event_type:
                event_type = "container" if container else "log"

        context = obj.get("context")
        metadata = obj.get("metadata")
        if context.__class__ is not dict:
            context = {}
        correlation_id = (
            as_id(context.get("request_id"))
            or as_id(context.get("correlation_id"))
            or as_id(obj.get("correlation_id"))
        )
        item_id = as_id(metadata.get("item_id")) if metadata.__class__ is dict else None
        if item_id is None:
            item_id = as_id(context.get("item_id")) or as_id(obj.get("item_id"))
        return _new_event(
            ts,
            severity,
            _KIND,
            _intern(source),
            _intern(event_type),
            message if message.__class__ is str else _text(message),
            item_id,
            correlation_id,
            obj,
            file,
            line,
            offset,
            text,
            (),
        )

    def timestamp(self, raw: bytes) -> float | None:
        """The top-level ``"timestamp"``, found without a full parse."""
        return json_timestamp(raw)


APP = AppFormat()


def write_line(
    ts: float,
    level: str,
    source: str,
    message: str,
    context: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    **extra: Any,
) -> bytes:
    """One application log line, newline included, that :data:`APP` reads back.

    The timestamp is written ``YYYY-MM-DDTHH:MM:SS.mmmZ``; a missing
    ``context`` or ``metadata`` is written as ``{}``.

    Raises:
        ValueError: ``extra`` repeats one of the contract's keys.
        TypeError: a value is not JSON-serialisable.
    """
    clash = _APP_KEYS.intersection(extra)
    if clash:
        raise ValueError(f"extra keys clash with application log fields: {sorted(clash)}")
    record: dict[str, Any] = {
        "timestamp": format_ts(ts),
        "level": level,
        "source": source,
        "message": message,
        "context": context if context is not None else {},
        "metadata": metadata if metadata is not None else {},
    }
    record.update(extra)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def write_container_line(
    ts: float,
    level: str | None,
    service_name: str,
    content: str,
    stream: str = "stdout",
    **extra: Any,
) -> bytes:
    """One collected container line, newline included, that :data:`APP` reads back.

    Args:
        ts: UTC epoch seconds.
        level: The level, or None to leave it out as collectors often do
            (the reader then treats ``stream="stderr"`` as a warning).
        service_name: The container's service.
        content: The text the container printed.
        stream: ``stdout`` or ``stderr``.
        **extra: More keys, written after these.

    Raises:
        ValueError: ``extra`` repeats one of these keys.
        TypeError: a value is not JSON-serialisable.
    """
    clash = _CONTAINER_KEYS.intersection(extra)
    if clash:
        raise ValueError(f"extra keys clash with container log fields: {sorted(clash)}")
    record: dict[str, Any] = {"timestamp": format_ts(ts)}
    if level is not None:
        record["level"] = level
    record["service_name"] = service_name
    record["content"] = content
    record["stream"] = stream
    record.update(extra)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
