"""Helpers for the Events screen's Pilot tests: real log lines on disk, rows read back.

Every line carries a unique marker (``ROT-0001``) so a test can tell a lost
line from a repeated one; the rows are read back the way the operator sees
them (the rendered list, the info line) or through the stream's own record
reader (every record of the app's current :class:`StreamView`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from oos_tui.actions.audit import now_iso
from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.stream import StreamView
from oos_tui.formats import ai, pipe
from oos_tui.models import Event, ParseError
from oos_tui.store.schema import init_store
from oos_tui.widgets.event_list import EventList

__all__ = [
    "MARKER",
    "TRACE_CORR",
    "TRACE_ITEM",
    "append",
    "info_line",
    "listed_markers",
    "listed_records",
    "marker_of",
    "pipe_line",
    "stream_marker_counts",
    "stream_records",
    "visible_rows",
    "wait_for",
    "write_trace_workspace",
]

MARKER = re.compile(r"\b[A-Z]+-\d{4}\b")
"""A line's unique marker (``ROT-0001``): one per line, in its message."""

_clock_floor = [0.0]


def _fresh_ts() -> float:
    """Now, strictly later than any time handed out before: appended lines sort last."""
    ts = max(time.time(), _clock_floor[0] + 0.001)
    _clock_floor[0] = ts
    return ts


def pipe_line(
    marker: str,
    *,
    event_type: str = "DISCOVER",
    source: str = "TechPodcast",
    item: str | None = None,
    ts: float | None = None,
    data: dict[str, Any] | None = None,
) -> bytes:
    """One real ``oos.log`` line whose message is ``marker`` (a FAIL's ``error``, else its title).

    Written by the project's own writer so the reader under test sees exactly
    what the producer writes; ``ts`` defaults to now (later than any earlier line),
    ``item`` to one of its own ("" for none).
    """
    payload: dict[str, Any] = dict(data or {})
    payload["error" if event_type == "FAIL" else "title"] = marker
    return pipe.write_line(
        _fresh_ts() if ts is None else ts,
        event_type,
        "podcast",
        source,
        f"{source}_{marker}" if item is None else item,
        payload,
    )


def append(path: Path, lines: Iterable[bytes]) -> None:
    """Append ``lines`` to ``path`` and close it, as a producer's write would land on disk."""
    with open(path, "ab") as fh:
        fh.write(b"".join(lines))


async def wait_for(
    pilot: Any, check: Callable[[], bool], what: Callable[[], str], seconds: float = 10.0
) -> None:
    """Let the app run until ``check()`` holds; fail with ``what()`` after ``seconds``.

    The feeds are threads and the screen repaints at a bounded rate, so a test
    polls for the outcome instead of sleeping a fixed time.
    """
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting: {what()}")
        await pilot.pause(0.05)


def visible_rows(lst: EventList) -> list[str]:
    """The list's rows as drawn on screen (blank lines dropped)."""
    rows = [lst.render_line(y).text.rstrip() for y in range(lst.size.height)]
    return [row for row in rows if row.strip()]


def info_line(screen: Any) -> str:
    """The Events screen's info line (count, query, follow state, errors) as plain text."""
    return str(screen.query_one("#events-info").render())


def marker_of(rec: Event | ParseError | None) -> str | None:
    """The marker a record carries (in its message, else in its raw line), if any."""
    if rec is None:
        return None
    message = rec.message if isinstance(rec, Event) else ""
    found = MARKER.search(message) or MARKER.search(rec.raw or "")
    return found.group(0) if found else None


def listed_records(lst: EventList) -> list[Event | ParseError | None]:
    """Every row of the list, top to bottom, as the records it shows."""
    refs = (lst.ref_at(row) for row in range(lst.count))
    return [lst.record(ref) for ref in refs if ref is not None]


def listed_markers(lst: EventList) -> list[str]:
    """The markers of every listed row, top to bottom."""
    return [m for m in map(marker_of, listed_records(lst)) if m is not None]


def stream_records(view: StreamView) -> list[Event | ParseError]:
    """Every record in ``view``'s merged order, read through the stream's own reader."""
    reader = RecordReader()
    try:
        refs = view.order.slice(0, view.order.length).tolist()
        return [reader.record(view, int(ref)) for ref in refs]
    finally:
        reader.close()


def stream_marker_counts(view: StreamView | None, prefix: str) -> Counter[str]:
    """How many times each marker starting with ``prefix`` is in the stream."""
    if view is None:
        return Counter()
    found = (marker_of(rec) for rec in stream_records(view))
    return Counter(m for m in found if m is not None and m.startswith(prefix))


TRACE_ITEM = "Trace_042"
TRACE_CORR = "corr-42"


def write_trace_workspace(ws: Path, t0: float) -> list[tuple[float, str, str]]:
    """One item's story across every source, with unrelated noise around it.

    Writes ``oos.log`` lines (appended), ``ai_events.log`` and a store built from
    the shipped schema (``events``, ``tasks``, ``dead_letter``). The item's
    records share :data:`TRACE_ITEM` or only :data:`TRACE_CORR`; the noise
    shares neither. Returns what a trace of the item's FAIL must list, in time
    order: (time, the "what" column, marker).
    """
    oos = [
        pipe_line("TR-0001", ts=t0, item=TRACE_ITEM),
        pipe_line("NOISE-0001", ts=t0 + 5, item="Other_7"),
        pipe_line("TR-0004", event_type="PROCESS", ts=t0 + 30, item=TRACE_ITEM),
        pipe_line("NOISE-0002", event_type="FAIL", ts=t0 + 35, item="Other_7"),
        pipe_line(
            "TR-0008 HTTP 503",
            event_type="FAIL",
            ts=t0 + 70,
            item=TRACE_ITEM,
            data={"correlation_id": TRACE_CORR},
        ),
    ]
    append(ws / "oos.log", oos)
    (ws / "ai_events.log").write_bytes(
        b"".join(
            [
                ai.write_line(
                    t0 + 10,
                    "decision",
                    "ai",
                    "router",
                    {"message": "TR-0002", "item_id": TRACE_ITEM},
                ),
                ai.write_line(
                    t0 + 12, "decision", "ai", "router", {"message": "NOISE-0003", "item_id": "x"}
                ),
                ai.write_line(
                    t0 + 50,
                    "error",
                    "ai",
                    "analyzer",
                    {"message": "TR-0006", "correlation_id": TRACE_CORR},
                ),
            ]
        )
    )
    db = ws / "data" / "oos.db"
    init_store(db)
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("BEGIN")
        for n, (ts, severity, title, data, corr) in enumerate(
            [
                (t0 + 40, "info", "TR-0005", {"item_id": TRACE_ITEM}, None),
                (t0 + 45, "error", "NOISE-0004", {"item_id": "Other_7"}, "corr-other"),
                (t0 + 60, "warning", "TR-0007", {}, TRACE_CORR),
            ]
        ):
            con.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    f"00000000-0000-0000-0000-{n:012d}",
                    now_iso(ts),
                    "scheduler",
                    "workflow_step",
                    severity,
                    title,
                    title,
                    json.dumps(data),
                    "[]",
                    corr,
                    "workflow_engine",
                    10,
                    "{}",
                ),
            )
        for task_id, item, updated, error in (
            (1, TRACE_ITEM, t0 + 20, "TR-0003 timeout"),
            (2, "Other_7", t0 + 25, "NOISE-0005"),
            (3, TRACE_ITEM, t0 + 75, "TR-0009 gave up"),
        ):
            con.execute(
                "INSERT INTO tasks(id, queue, task_type, payload, status, attempts, max_attempts,"
                " last_error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    task_id,
                    "ingest",
                    "fetch",
                    json.dumps({"item_id": item}),
                    "failed" if task_id == 3 else "pending",
                    10 if task_id == 3 else 1,
                    10,
                    error,
                    now_iso(t0 - 100),
                    now_iso(updated),
                ),
            )
        con.execute(
            "INSERT INTO dead_letter(task_id, queue, task_type, payload, attempts, error,"
            " worker_id, failed_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                3,
                "ingest",
                "fetch",
                json.dumps({"item_id": TRACE_ITEM}),
                10,
                "TR-0010 gave up",
                "worker_1",
                now_iso(t0 + 80),
            ),
        )
        con.execute("COMMIT")
    finally:
        con.close()
    return [
        (t0, "oos info", "TR-0001"),
        (t0 + 10, "ai info", "TR-0002"),
        (t0 + 20, "task", "TR-0003"),
        (t0 + 30, "oos info", "TR-0004"),
        (t0 + 40, "store info", "TR-0005"),
        (t0 + 50, "ai error", "TR-0006"),
        (t0 + 60, "store warning", "TR-0007"),
        (t0 + 70, "oos error", "TR-0008"),
        (t0 + 75, "task", "TR-0009"),
        (t0 + 80, "DEAD LETTER", "TR-0010"),
    ]
