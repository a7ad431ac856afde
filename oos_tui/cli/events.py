"""``oos-tui events [QUERY]``: every source's events merged by time, newest last."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from oos_tui.cli._common import Output, UsageError, settings_from
from oos_tui.models import Event, ParseError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``events`` command."""
    p = sub.add_parser(
        "events",
        parents=[common],
        help="events from every log and the store, merged by time",
        description="Print the workspace's events, oldest first (newest last). "
        "Lines that do not parse are listed after the events with file and line.",
    )
    p.add_argument("query", nargs="*", help="filter (see the README's search language)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, metavar="N", default=None, help="only the newest N events")
    p.set_defaults(handler=run)


def _text_line(ev: Event) -> str:
    when = (
        datetime.fromtimestamp(ev.ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if ev.ts == ev.ts
        else "-"
    )
    parts = [when, f"{ev.severity.word.upper():<8}", f"{ev.kind}/{ev.source}", ev.event_type]
    if ev.item_id:
        parts.append(f"item={ev.item_id}")
    if ev.correlation_id:
        parts.append(f"corr={ev.correlation_id}")
    first = ev.message.splitlines()[0] if ev.message else ""
    return "  ".join(parts) + ("  " + first if first else "")


def _error_line(err: ParseError) -> str:
    return f"! unreadable {err.file}:{err.line}: {err.reason}: {err.raw[:200]}"


def run(args: argparse.Namespace) -> int:
    """Print events then unreadable lines; exit 0 even when some lines were unreadable.

    The same engine as the console: every file is indexed, the query is
    searched with byte prefilters, and only the records printed are parsed.
    """
    from oos_tui.eventlog.access import RecordReader
    from oos_tui.eventlog.search import Searcher
    from oos_tui.eventlog.stream import EventStream
    from oos_tui.query import QueryError, compile_query

    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    settings = settings_from(args)
    text = " ".join(args.query)
    try:
        query = compile_query(text) if text.strip() else None
    except QueryError as exc:
        raise UsageError(f"bad query: {exc}") from None
    stream = EventStream(settings, follow=False)
    reader = RecordReader()
    searcher = Searcher()
    try:
        view = stream.run_until_ready()
        refs = searcher.search(view, query).refs if query else view.order.array()
        if args.limit is not None:
            refs = refs[len(refs) - args.limit :] if args.limit else refs[:0]
        events: list[Event] = []
        errors: list[ParseError] = []
        for ref in refs.tolist():
            rec = reader.record(view, ref)
            (errors if isinstance(rec, ParseError) else events).append(rec)  # type: ignore[arg-type]
        out = Output(settings)
        if args.json:
            out.json_many(e.to_json() for e in events)
            out.json_many(e.to_json() for e in errors)
        else:
            for e in events:
                out.text(_text_line(e))
            for err in errors:
                out.text(_error_line(err))
            for problem in view.problems:
                out.text(f"! {problem}")
        out.flush()
    finally:
        stream.close()
        reader.close()
        searcher.close()
    return 0
