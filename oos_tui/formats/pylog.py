"""Plain-text Python logging records of job and stage logs (CONTRACT §2.4), read and written."""

from __future__ import annotations

import os
import re
import sys

from oos_tui.formats.base import LogFormat, format_ts, short, text_ts
from oos_tui.models import Event, ParseError, Severity, SourceKind, _new_event

__all__ = ["PYLOG", "PyLogFormat", "source_for_path", "write_record"]

_intern = sys.intern
_KIND = SourceKind.JOB.value
_TS = rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_START = re.compile(_TS + rb"(?=[ \r]|$)")
_START_TEXT = re.compile(_TS.decode() + r"(?= |$)", re.ASCII)
_LEVELS = {s.name: s for s in Severity} | {"WARN": Severity.WARNING, "FATAL": Severity.CRITICAL}
_SOURCES: dict[str, str] = {}
_SOURCES_MAX = 4096


def source_for_path(file: str) -> str | None:
    """The job-relative source a log file stands for, or None for other files.

    ``.../out/<job>/<NN_stage>/stage.log`` is ``<job>/<NN_stage>`` and
    ``.../out/<job>/logs/<name>.log`` is ``<job>/pipeline``, so a stage's
    lines can be filtered by ``source:`` whatever the workspace's path.
    """
    parts = file.replace("\\", "/").split("/")
    if len(parts) < 3:
        return None
    name, parent, job = parts[-1], parts[-2], parts[-3]
    if name == "stage.log":
        prefix, sep, rest = parent.partition("_")
        if sep and rest and prefix.isdigit():
            return f"{job}/{parent}"
    elif parent == "logs" and ((len(parts) >= 4 and parts[-4] == "out") or name[:2].isdigit()):
        return f"{job}/pipeline"
    return None


def _source(file: str, logger: str | None) -> str:
    found = _SOURCES.get(file)
    if found is None:
        found = source_for_path(file) or ""
        if len(_SOURCES) >= _SOURCES_MAX:
            _SOURCES.clear()
        _SOURCES[file] = found
    if found:
        return found
    if logger:
        return logger
    return os.path.splitext(os.path.basename(file))[0] or "unknown"


class PyLogFormat(LogFormat):
    """``2025-11-27 14:09:15,123 - LEVEL - message``, or with ``- logger -`` before the level.

    A line that does not start with a timestamp continues the record above
    it (a traceback, a multi-line message): readers group lines with
    :meth:`starts_record` and pass the whole record to :meth:`parse`.
    """

    name = "pylog"
    kind = _KIND
    ts_prefixes = (b"",)
    multiline = True

    def parse(
        self, raw: bytes, file: str, line: int, offset: int | None = None
    ) -> Event | ParseError:
        """Parse one record (its lines joined by ``b"\\n"``); see :meth:`LogFormat.parse`."""
        if b"\r" in raw:
            raw = raw.replace(b"\r\n", b"\n")
            if raw[-1:] == b"\r":
                raw = raw[:-1]
        text = raw.decode("utf-8", "replace")
        first, newline, rest = text.partition("\n")
        match = _START_TEXT.match(first)
        if match is None:
            reason = "empty line" if not text.strip() else "continuation line without a record"
            return ParseError(file, line, reason, text, offset, _KIND)
        ts = text_ts(match.group())
        if ts is None:
            reason = f"bad timestamp {short(match.group())}"
            return ParseError(file, line, reason, text, offset, _KIND)
        body = first[match.end() :]
        body = body[3:] if body.startswith(" - ") else body.lstrip()
        logger = None
        severity = None
        head, sep, tail = body.partition(" - ")
        severity = _LEVELS.get(head.upper())
        if severity is not None:
            message = tail
        elif sep:
            level, _, tail2 = tail.partition(" - ")
            severity = _LEVELS.get(level.upper())
            if severity is not None:
                logger = head
                message = tail2
        if severity is None:
            word, _, remainder = body.partition(" ")
            severity = _LEVELS.get(word.strip("[]:").upper())
            if severity is not None:
                message = remainder
            else:
                severity = Severity.INFO
                message = body
        if newline:
            message = f"{message}\n{rest}"
        return _new_event(
            ts,
            severity,
            _KIND,
            _intern(_source(file, logger)),
            "log",
            message,
            None,
            None,
            {"logger": logger} if logger else None,
            file,
            line,
            offset,
            text,
            (),
        )

    def starts_record(self, line: bytes) -> bool:
        """True when ``line`` starts with a readable timestamp followed by a space."""
        match = _START.match(line)
        return match is not None and text_ts(match.group().decode()) is not None

    def timestamp(self, raw: bytes) -> float | None:
        """The leading timestamp of the record's first line."""
        match = _START.match(raw)
        return None if match is None else text_ts(match.group().decode())


PYLOG = PyLogFormat()


def write_record(
    ts: float, level: str | Severity, message: str, logger: str | None = None
) -> bytes:
    """One Python logging record, newline included, that :data:`PYLOG` reads back.

    A message with line breaks becomes continuation lines, as a logged
    traceback does.

    Args:
        ts: UTC epoch seconds, written ``YYYY-MM-DD HH:MM:SS,mmm``.
        level: A level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or a Severity.
        message: The text; may span lines.
        logger: The logger's name, written between timestamp and level.

    Raises:
        ValueError: an unknown level; a logger containing `` - ``, a line
            break or a level word (the reader could not tell it apart); a
            continuation line that starts with a timestamp (it would read
            as a new record).
    """
    if isinstance(level, Severity):
        word = level.name
    else:
        word = level.upper()
        if word not in _LEVELS:
            raise ValueError(f"unknown log level {level!r}")
    if logger is not None and (
        " - " in logger or "\n" in logger or "\r" in logger or logger.upper() in _LEVELS
    ):
        raise ValueError(f"logger name cannot be written unambiguously: {logger!r}")
    for part in message.split("\n")[1:]:
        if _START_TEXT.match(part):
            raise ValueError(f"continuation line would start a new record: {part[:40]!r}")
    stamp = format_ts(ts, sep=" ", frac=",", zulu=False)
    who = f"{logger} - " if logger else ""
    return f"{stamp} - {who}{word} - {message}\n".encode()
