"""Everything a workspace has logged so far, merged by time (the CLI's ``events``).

Reads every discovered log file (rotated files first, each group in order),
parses each record with its format, adds the store's ``events`` table, and
sorts by timestamp. Parse errors are kept with their file and line.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oos_tui.config import Settings
from oos_tui.formats import get_format
from oos_tui.models import Event, ParseError
from oos_tui.sources.discovery import discover
from oos_tui.sources.records import RecordAssembler
from oos_tui.sources.tail import Tailer

__all__ = ["History", "read_history", "read_store_events"]


@dataclass(frozen=True, slots=True)
class History:
    """Events in time order (oldest first) and the lines that did not parse."""

    events: tuple[Event, ...]
    errors: tuple[ParseError, ...]
    store_message: str | None = None


def _display(settings: Settings, path: Path) -> str:
    try:
        return path.relative_to(settings.workspace).as_posix()
    except ValueError:
        return str(path)


def _sort_key(ev: Event) -> float:
    return ev.ts if not math.isnan(ev.ts) else float("-inf")


def read_file(
    settings: Settings, path: Path, format_name: str
) -> tuple[list[Event], list[ParseError]]:
    """Parse one whole file (its unterminated last line is still being written: skipped)."""
    fmt = get_format(format_name)
    tailer = Tailer(path, start_offset=0, max_line_bytes=settings.events.max_line_bytes)
    assembler = RecordAssembler(fmt.starts_record) if fmt.multiline else None
    events: list[Event] = []
    errors: list[ParseError] = []
    try:
        while True:
            batch = tailer.poll()
            records = list(batch.lines)
            if assembler is not None:
                records = assembler.feed(records)
                if not batch.more:
                    records.extend(assembler.flush())
            for rec in records:
                if not rec.data.strip():
                    continue
                out = fmt.parse(
                    rec.data, _display(settings, Path(rec.path)), rec.number, rec.offset
                )
                (errors if isinstance(out, ParseError) else events).append(out)  # type: ignore[arg-type]
            if not batch.more:
                break
    finally:
        tailer.close()
    return events, errors


async def read_store_events(
    settings: Settings, chunk: int = 20_000
) -> tuple[list[Event], str | None]:
    """Every row of the store's events table as :class:`Event` (empty if no store)."""
    from oos_tui.store.reader import StoreReader
    from oos_tui.store.rows import store_event_to_event
    from oos_tui.store.schema import StoreError

    if not settings.store_path.exists():
        return [], None
    out: list[Event] = []
    async with StoreReader(settings.store_path) as reader:
        snap = await reader.poll(force=True)
        message = snap.health.message if snap is not None else None
        if snap is None or not snap.health.readable or "events" in snap.health.missing_tables:
            return [], message
        rowid = 0
        try:
            while True:
                rows, last = await reader.events_since(rowid, limit=chunk)
                out.extend(store_event_to_event(r) for r in rows)
                if not rows or last == rowid:
                    break
                rowid = last
        except StoreError as exc:
            return out, str(exc)
    return out, message


def read_history(
    settings: Settings,
    *,
    match: Callable[[Event], bool] | None = None,
    include_store: bool = True,
) -> History:
    """Read, parse, filter (``match``) and merge every source by time."""
    events: list[Event] = []
    errors: list[ParseError] = []
    for src in discover(settings):
        evs, errs = read_file(settings, src.path, src.format)
        events.extend(evs)
        errors.extend(errs)
    store_message = None
    if include_store:
        store_events, store_message = asyncio.run(read_store_events(settings))
        events.extend(store_events)
    if match is not None:
        events = [e for e in events if match(e)]
    events.sort(key=_sort_key)
    return History(tuple(events), tuple(errors), store_message)
