"""The interface every log format implements, and the helpers they share."""

from __future__ import annotations

import abc
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from oos_tui.models import Event, ParseError
from oos_tui.timeutil import parse_ts

__all__ = [
    "MAX_DEPTH",
    "LogFormat",
    "as_id",
    "decode",
    "format_ts",
    "json_error_reason",
    "json_timestamp",
    "loads_replaced",
    "short",
    "text_ts",
    "too_deep",
]

MAX_DEPTH = 200
"""Deepest JSON nesting a parsed ``data`` may have.

orjson reads up to 1024 levels but writes only 254, so deeper data would
break every ``--json`` output downstream; such lines are parse errors.
"""

_fromisoformat = datetime.fromisoformat
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


class LogFormat(abc.ABC):
    """One log format of CONTRACT §2: turns a line's bytes into an Event.

    Instances are stateless singletons (see :data:`oos_tui.formats.FORMATS`),
    safe to share between threads. ``parse`` never raises: anything it cannot
    read comes back as a :class:`~oos_tui.models.ParseError` carrying the
    file, line and offset it was given. Callers usually skip blank lines
    themselves; ``parse`` still reports one as ``ParseError("empty line")``
    so that nothing is ever dropped silently.
    """

    name: ClassVar[str]
    """Registry key: ``pipe``, ``ai``, ``app`` or ``pylog``."""
    kind: ClassVar[str]
    """The :class:`~oos_tui.models.SourceKind` value of its events."""
    multiline: ClassVar[bool] = False
    """True when a record may span lines (see :meth:`starts_record`)."""
    ts_prefixes: ClassVar[tuple[bytes, ...]] = ()
    """Byte prefixes after which a line's ISO timestamp usually starts.

    Lets the event index read millions of timestamps with numpy
    (:mod:`oos_tui.eventlog.vts`); a line matching none of them, or whose
    time has another shape, falls back to :meth:`timestamp`.
    """

    @abc.abstractmethod
    def parse(
        self, raw: bytes, file: str, line: int, offset: int | None = None
    ) -> Event | ParseError:
        """Parse one record.

        Args:
            raw: One physical line without its newline (a trailing ``\\r`` is
                ignored); for a multi-line format, the whole record with its
                lines joined by ``b"\\n"``.
            file: The path it came from, copied into the result.
            line: Its 1-based line number in ``file``, copied into the result.
            offset: Its byte offset in ``file``, if the caller knows it.
        """

    def starts_record(self, line: bytes) -> bool:
        """Whether ``line`` begins a new record rather than continuing one."""
        return True

    @abc.abstractmethod
    def timestamp(self, raw: bytes) -> float | None:
        """The record's time, read far more cheaply than :meth:`parse`.

        Meant for time indexes over millions of lines: it may accept a line
        that ``parse`` rejects, and returns None when it finds no time.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def decode(raw: bytes) -> str:
    """Decode a line as UTF-8, replacing invalid bytes, without a trailing ``\\r``."""
    if raw[-1:] == b"\r":
        raw = raw[:-1]
    return raw.decode("utf-8", "replace")


text_ts = parse_ts
"""UTC epoch seconds for an ISO-8601 timestamp, or None (an alias kept for the formats)."""


def json_error_reason(exc: ValueError) -> str:
    """orjson's message without its position suffix (``unexpected end of data``)."""
    message = str(exc) or type(exc).__name__
    cut = message.find(": line ")
    return message[:cut] if cut > 0 else message


_SECONDS_CACHE: dict[tuple[int, str], str] = {}


def format_ts(
    ts: float, *, sep: str = "T", digits: int = 3, frac: str = ".", zulu: bool = True
) -> str:
    """Format epoch seconds as ISO-8601 UTC text for the writers.

    Args:
        ts: UTC epoch seconds.
        sep: Between date and time (``"T"``, or ``" "`` for Python logging).
        digits: Digits of fraction: 3 (milliseconds) or 6 (microseconds).
        frac: The decimal mark (``","`` for Python logging).
        zulu: Append ``Z``; without it the text is naive (still UTC).
    """
    scale = 10**digits
    whole, part = divmod(round(ts * scale), scale)
    key = (whole, sep)
    head = _SECONDS_CACHE.get(key)
    if head is None:
        if len(_SECONDS_CACHE) > 4096:
            _SECONDS_CACHE.clear()
        head = time.strftime(f"%Y-%m-%d{sep}%H:%M:%S", time.gmtime(whole))
        _SECONDS_CACHE[key] = head
    return f"{head}{frac}{part:0{digits}d}{'Z' if zulu else ''}"


def loads_replaced(raw: bytes, exc: ValueError) -> Any:
    """Retry a failed ``orjson.loads(raw)`` with invalid UTF-8 replaced.

    The JSON formats parse the line's bytes directly (no copy); orjson
    rejects invalid UTF-8 there, but the contract says such bytes are
    replaced, never fatal. Re-raises ``exc`` when the bytes were valid UTF-8.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return orjson.loads(raw.decode("utf-8", "replace"))
    raise exc


def short(value: object, limit: int = 40) -> str:
    """``repr`` of a value cut to ``limit`` characters, for parse-error reasons."""
    if isinstance(value, str | bytes) and len(value) > limit:
        value = value[:limit]  # never repr a megabyte only to cut it
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TS_KEY = b'"timestamp"'


def json_timestamp(raw: bytes) -> float | None:
    """The top-level ``"timestamp"`` of a JSON-lines record, found without parsing it.

    Finds the key with ``bytes.find``; when it is absent, nested, spaced
    unusually, escaped, not a string or not readable, falls back to a full
    parse. Never raises.
    """
    pos = raw.find(_TS_KEY)
    if pos == 1 or (pos > 1 and raw.find(b"{", 1, pos) == -1 and raw.find(b"[", 0, pos) == -1):
        start = pos + 13
        if raw[start - 2 : start] != b':"':
            start += 1
            if raw[start - 3 : start] != b': "':
                start = -1
        if start > 0:
            close = raw.find(b'"', start)
            if close > 0:
                ts = text_ts(raw[start:close].decode("latin-1"))
                if ts is not None:
                    return ts
    try:
        obj = orjson.loads(raw)
    except ValueError:
        return None
    if obj.__class__ is dict:
        value = obj.get("timestamp")
        if value.__class__ is str:
            return text_ts(value)
    return None


def as_id(value: Any) -> str | None:
    """An identifier as text: strings as they are (empty is None), numbers via ``str``.

    Producers write ids as strings or integers; anything else (objects,
    lists, booleans) is not an id and gives None.
    """
    if value.__class__ is str:
        return value or None  # type: ignore[no-any-return]
    if value.__class__ is int or value.__class__ is float:
        return str(value)
    return None


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests dicts and lists deeper than ``limit`` levels.

    Walks every container, so callers first count the brackets in the
    line: a line with no more than ``limit`` of them cannot be that deep.
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if node.__class__ is dict:
            node = node.values()
        elif node.__class__ is not list:
            continue
        stack.extend((child, depth + 1) for child in node if child.__class__ in _NESTED)
    return False


_NESTED = (dict, list)


_DEEP_MIN_LEN = 2 * MAX_DEPTH  # fewer bytes cannot hold that many brackets
_orjson_loads = orjson.loads


def read_json_line(
    raw: bytes, file: str, line: int, offset: int | None, kind: str
) -> tuple[dict[str, Any], float, str] | ParseError:
    """The shared first half of the JSON-lines formats: ``(object, timestamp, text)``.

    Decodes the line (``\\r`` dropped, invalid UTF-8 replaced), loads it
    (retrying with replaced bytes), insists on an object no deeper than
    :data:`MAX_DEPTH` and on a readable ``timestamp``; anything else is the
    :class:`ParseError` that says why. ``ai_events.log`` and the application
    logs differ only in what they read from the object afterwards.
    """
    if raw[-1:] == b"\r":
        raw = raw[:-1]
    text = raw.decode("utf-8", "replace")
    try:
        obj = _orjson_loads(raw)
    except ValueError as exc:
        try:
            obj = loads_replaced(raw, exc)
        except ValueError as final:
            reason = json_error_reason(final) if text.strip() else "empty line"
            return ParseError(file, line, reason, text, offset, kind)
    if obj.__class__ is not dict:
        return ParseError(file, line, "not a JSON object", text, offset, kind)
    if len(raw) > _DEEP_MIN_LEN and raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and too_deep(obj):
        return ParseError(file, line, f"nested deeper than {MAX_DEPTH} levels", text, offset, kind)
    stamp = obj.get("timestamp")
    if stamp is None:
        return ParseError(file, line, "missing timestamp", text, offset, kind)
    ts = text_ts(stamp) if stamp.__class__ is str else None
    if ts is None:
        return ParseError(file, line, f"bad timestamp {short(stamp)}", text, offset, kind)
    return obj, ts, text
