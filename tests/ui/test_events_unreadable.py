"""Pilot tests of ``u`` on the Events screen: unreadable lines hidden and shown again.

A real workspace in ``tmp_path``: ``oos.log`` written with the project's pipe
writer and ``ai_events.log`` with the AI writer, with malformed lines between
the good ones (one of them the right shape but broken JSON, which only a full
parse finds). The console runs with its feeds on and the real clock, so the
list follows lines appended while unreadable ones are hidden. Every line
carries a unique marker; rows are read back as the operator sees them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from helpers.events_support import (
    append,
    info_line,
    listed_markers,
    listed_records,
    pipe_line,
    stream_marker_counts,
    visible_rows,
    wait_for,
)

from oos_tui.formats import ai
from oos_tui.formats.base import format_ts
from oos_tui.models import ParseError
from oos_tui.screens.events import EventsScreen
from oos_tui.widgets.event_list import EventList

SIZE = (120, 30)
ESC = "\x1b"
BASE = time.time() - 3600

GOOD = [f"OK-{i:04d}" for i in range(1, 9)]
BAD = ["BAD-0001", "BAD-0002", "BAD-0003", "BAD-0004"]
EVERYTHING = [
    "OK-0001",
    "OK-0002",
    "BAD-0001",
    "OK-0003",
    "BAD-0002",
    "OK-0004",
    "OK-0005",
    "BAD-0003",
    "OK-0006",
    "OK-0007",
    "BAD-0004",
    "OK-0008",
]
"""Every line in time order: the list's rows with unreadable lines shown."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """``oos.log`` and ``ai_events.log``, each with good lines and malformed ones."""
    ws = tmp_path / "ws"
    ws.mkdir()
    at = {mark: BASE + n * 10 for n, mark in enumerate(EVERYTHING)}
    iso = {mark: format_ts(ts) for mark, ts in at.items()}
    (ws / "oos.log").write_bytes(
        b"".join(
            [
                pipe_line("OK-0001", ts=at["OK-0001"]),
                pipe_line("OK-0002", ts=at["OK-0002"]),
                b"BAD-0001 not a pipe line at all\n",
                pipe_line("OK-0003", ts=at["OK-0003"]),
                # The right shape, time and ending: only parsing the JSON finds it.
                f'{iso["BAD-0002"]}|DISCOVER|podcast|Src|it|{{"title":"BAD-0002",}}\n'.encode(),
                pipe_line("OK-0004", ts=at["OK-0004"]),
            ]
        )
    )
    (ws / "ai_events.log").write_bytes(
        b"".join(
            [
                ai.write_line(at["OK-0005"], "decision", "ai", "router", {"message": "OK-0005"}),
                # Cut short: no closing brace.
                f'{{"timestamp":"{iso["BAD-0003"]}","message":"BAD-0003"\n'.encode(),
                ai.write_line(at["OK-0006"], "decision", "ai", "router", {"message": "OK-0006"}),
                ai.write_line(at["OK-0007"], "decision", "ai", "router", {"message": "OK-0007"}),
                # An escape sequence in a string: hostile, and not JSON.
                f'{{"timestamp":"{iso["BAD-0004"]}","message":"{ESC}[31m BAD-0004"}}\n'.encode(),
                ai.write_line(at["OK-0008"], "decision", "ai", "router", {"message": "OK-0008"}),
            ]
        )
    )
    return ws


async def events_screen(pilot: Any) -> tuple[EventsScreen, EventList]:
    """The Events screen once every line of the workspace is listed."""
    screen = pilot.app.screen
    assert isinstance(screen, EventsScreen)
    lst = screen.query_one(EventList)
    await wait_for(
        pilot,
        lambda: listed_markers(lst) == EVERYTHING,
        lambda: f"listed {listed_markers(lst)}",
    )
    return screen, lst


def unreadable_rows(lst: EventList) -> list[str]:
    """Rows drawn as unreadable (``???``)."""
    return [row for row in visible_rows(lst) if " ??? " in row]


async def test_u_hides_unreadable_lines_and_u_again_shows_them(live_app) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        assert len(unreadable_rows(lst)) == 4
        assert "unreadable" not in info_line(screen)
        assert lst.count == 12

        await pilot.press("u")
        good = [m for m in EVERYTHING if m.startswith("OK-")]
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == good,
            lambda: f"listed {listed_markers(lst)}; info {info_line(screen)!r}",
        )
        # The good rows stay, in order, and no row on screen is unreadable.
        assert lst.count == 8
        assert not any(isinstance(rec, ParseError) for rec in listed_records(lst))
        assert not unreadable_rows(lst)
        rows = visible_rows(lst)
        assert [next(m for m in good if m in row) for row in rows] == good
        # The screen says so in words, with how many (the broken-JSON line included).
        await wait_for(
            pilot,
            lambda: "· 4 unreadable hidden " in info_line(screen),
            lambda: f"info {info_line(screen)!r}",
        )
        assert info_line(screen).startswith("12 events · 4 unreadable hidden")
        assert "checking" not in info_line(screen) and "finding" not in info_line(screen)

        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == EVERYTHING,
            lambda: f"listed {listed_markers(lst)}",
        )
        assert "unreadable" not in info_line(screen)
        assert len(unreadable_rows(lst)) == 4
        assert lst.following and lst.cursor == lst.count - 1


async def test_while_hidden_new_unreadable_lines_stay_hidden_and_good_ones_appear(
    live_app, workspace: Path
) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: "· 4 unreadable hidden " in info_line(screen) and lst.count == 8,
            lambda: f"info {info_line(screen)!r}, {lst.count} rows",
        )
        log = workspace / "oos.log"
        # Too few fields, but a time to sort by: listed (when shown) just before NEW-0001.
        short = f"{format_ts(time.time() - 1)}|DISCOVER|BAD-0005 too few fields\n"
        append(log, [short.encode(), pipe_line("NEW-0001")])
        await wait_for(
            pilot,
            lambda: listed_markers(lst)[-1:] == ["NEW-0001"],
            lambda: f"listed {listed_markers(lst)[-3:]}",
        )
        # Both lines reached the stream; only the good one is listed.
        assert stream_marker_counts(app.state.stream, "BAD-0005")["BAD-0005"] == 1
        assert "BAD-0005" not in listed_markers(lst)
        assert not any(isinstance(rec, ParseError) for rec in listed_records(lst))
        await wait_for(
            pilot,
            lambda: "· 5 unreadable hidden " in info_line(screen),
            lambda: f"info {info_line(screen)!r}",
        )
        assert info_line(screen).startswith("14 events")
        assert lst.following and "NEW-0001" in visible_rows(lst)[-1]
        # The other way round, a good line then a bad one (no time: it takes the
        # time of the line before it), in one write.
        append(log, [pipe_line("NEW-0002"), b"BAD-0006 \xff\xfe junk\n"])
        await wait_for(
            pilot,
            lambda: "· 6 unreadable hidden " in info_line(screen),
            lambda: f"info {info_line(screen)!r}",
        )
        assert listed_markers(lst)[-2:] == ["NEW-0001", "NEW-0002"]
        assert stream_marker_counts(app.state.stream, "BAD-0006")["BAD-0006"] == 1
        # Shown again: every line, the new unreadable ones where they were written.
        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: listed_markers(lst)[-4:] == ["BAD-0005", "NEW-0001", "NEW-0002", "BAD-0006"],
            lambda: f"listed {listed_markers(lst)[-4:]}",
        )


async def test_hiding_applies_when_matches_are_marked(live_app) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        await pilot.press("slash", *"OK-0003", "enter")
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == ["OK-0003"],
            lambda: f"listed {listed_markers(lst)}",
        )
        await pilot.press("m")  # everything listed, the match marked
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == EVERYTHING,
            lambda: f"listed {listed_markers(lst)}",
        )
        await pilot.press("u")
        good = [m for m in EVERYTHING if m.startswith("OK-")]
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == good and "4 unreadable hidden" in info_line(screen),
            lambda: f"listed {listed_markers(lst)}; info {info_line(screen)!r}",
        )
        assert "1 of 12 marked" in info_line(screen)
        marked = [row for row in visible_rows(lst) if row.startswith("▶")]
        assert len(marked) == 1 and "OK-0003" in marked[0]
        # Only the matches again: still hidden (they were never matches anyway).
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == ["OK-0003"],
            lambda: f"listed {listed_markers(lst)}",
        )
        assert "4 unreadable hidden" in info_line(screen)
