"""Every log of a workspace followed at once: discovery, tailing, record assembly, parsing.

:class:`LiveSources` is the synchronous heart of the live feeds: each call to
:meth:`LiveSources.poll` rediscovers files when due, drains every tailer
(bounded per call), joins continuation lines for plain-text logs and parses
each record with its format. It returns one :class:`LiveBatch`; the caller
(a thread worker in the TUI, or a test) decides when to call again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from oos_tui.config import Settings
from oos_tui.formats import get_format
from oos_tui.formats.base import LogFormat
from oos_tui.models import Event, ParseError
from oos_tui.sources.discovery import SourceFile, discover
from oos_tui.sources.records import RecordAssembler
from oos_tui.sources.tail import RawLine, Tailer, TailNote

__all__ = ["LiveBatch", "LiveSources"]

_QUIET_FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class LiveBatch:
    """What one poll found: parsed events, unreadable lines and file notes."""

    events: tuple[Event, ...] = ()
    errors: tuple[ParseError, ...] = ()
    notes: tuple[TailNote, ...] = ()
    more: bool = False  # some file has more to read right now
    files: int = 0


@dataclass
class _Follow:
    source: SourceFile
    fmt: LogFormat
    tailer: Tailer
    assembler: RecordAssembler | None
    display: str
    last_data: float = field(default_factory=time.monotonic)


class LiveSources:
    """Follows the live file of every log group, from the start or from the end.

    Args:
        settings: the workspace.
        from_start: read existing content first (True), or only what is
            written from now on (False).
        rediscover_seconds: how often to look for new files.
        groups: only follow these formats (e.g. ``{"pipe"}``); all when None.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        from_start: bool = True,
        rediscover_seconds: float = 2.0,
        formats: set[str] | None = None,
    ) -> None:
        self._settings = settings
        self._from_start = from_start
        self._rediscover = rediscover_seconds
        self._formats = formats
        self._follows: dict[str, _Follow] = {}
        self._last_discovery = float("-inf")
        self._first = True

    def _display(self, path: Path) -> str:
        try:
            return path.relative_to(self._settings.workspace).as_posix()
        except ValueError:
            return str(path)

    def _discover(self) -> None:
        for src in discover(self._settings):
            if not src.live or src.group in self._follows:
                continue
            if self._formats is not None and src.format not in self._formats:
                continue
            fmt = get_format(src.format)
            # Files found at start-up obey from_start; a file that appears later
            # is new, so all of it is news.
            start = 0 if (self._from_start or not self._first) else None
            tailer = Tailer(
                src.path,
                start_offset=start,
                max_line_bytes=self._settings.events.max_line_bytes,
            )
            assembler = RecordAssembler(fmt.starts_record) if fmt.multiline else None
            self._follows[src.group] = _Follow(src, fmt, tailer, assembler, src.group)
        self._first = False
        self._last_discovery = time.monotonic()

    def poll(self) -> LiveBatch:
        """Read what is new in every followed file (bounded work per call)."""
        if time.monotonic() - self._last_discovery >= self._rediscover:
            self._discover()
        events: list[Event] = []
        errors: list[ParseError] = []
        notes: list[TailNote] = []
        more = False
        now = time.monotonic()
        for follow in self._follows.values():
            batch = follow.tailer.poll()
            notes.extend(batch.notes)
            more = more or batch.more
            records: list[RawLine] = list(batch.lines)
            if follow.assembler is not None:
                records = follow.assembler.feed(records)
                rotated = any(n.kind in ("rotated", "truncated", "deleted") for n in batch.notes)
                quiet = not batch.lines and now - follow.last_data >= _QUIET_FLUSH_SECONDS
                if follow.assembler.pending and (rotated or quiet):
                    records.extend(follow.assembler.flush())
            if batch.lines:
                follow.last_data = now
            parse = follow.fmt.parse
            for rec in records:
                if not rec.data.strip():
                    continue
                shown = self._display(Path(rec.path))
                out = parse(rec.data, shown, rec.number, rec.offset)
                if isinstance(out, ParseError):
                    errors.append(out)
                else:
                    events.append(out)
        return LiveBatch(tuple(events), tuple(errors), tuple(notes), more, len(self._follows))

    def watched_dirs(self) -> list[Path]:
        """Directories whose changes should wake a poll (for watchfiles)."""
        s = self._settings
        dirs = {s.oos_log.parent, s.ai_events_log.parent, s.logs_dir, s.out_dir}
        return sorted(d for d in dirs if d.is_dir())

    def close(self) -> None:
        """Close every open file."""
        for follow in self._follows.values():
            follow.tailer.close()
        self._follows.clear()
