"""Snapshots of the Events screen's states on the fixture workspace (frozen clock, no feeds).

The plain screen at 80x24 and 160x48 is in test_snapshots_shell.py. These
cover issue 5's other states: a filter applied, the detail pane open,
unreadable lines (parse errors), and those lines hidden (``u``). The fixture workspace already holds
unreadable lines (``ai_events.log:33`` truncated JSON,
``logs/collector.log:7`` not JSON, ``oos.log:8`` too few fields), so no
separate workspace is needed.

Searches and the severity index (the histogram's warn/err rows) run in
thread workers, so every test waits for the state it photographs to be on
screen (and fails, rather than snapshotting a half-finished screen, if it
never gets there). Review every SVG before accepting it: render it with
``rsvg-convert`` and look.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from oos_tui.app import OosApp
from oos_tui.screens.events import EventsScreen
from oos_tui.widgets.event_detail import EventDetail
from oos_tui.widgets.event_list import EventList
from oos_tui.widgets.text_line import QuietStatic

SIZES = [(80, 24), (160, 48)]
IDS = ["80x24", "160x48"]

QUERY = "type:FAIL 503"
QUERY_INFO = f"/{QUERY} 8 of 167 shown"
"""BadFeed (every third of the 24 oos.log items) fails with "HTTP 503": 8 of the 167 events."""


async def wait_until(
    pilot: Pilot, ready: Callable[[], bool], what: str, timeout: float = 10
) -> None:
    """Let the app run until ``ready()``; fail the test (no snapshot) if it never is."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()


def events_screen(pilot: Pilot) -> EventsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EventsScreen)
    return screen


def info_line(pilot: Pilot) -> str:
    shown = events_screen(pilot).query_one("#events-info", QuietStatic).shown
    return shown.plain if shown is not None else ""


def detail_text(pilot: Pilot) -> str:
    detail = events_screen(pilot).query_one(EventDetail)
    return detail.text if detail.display else ""


async def open_events(pilot: Pilot) -> None:
    """Switch to Events and wait for the stream and the severity index (histogram rows)."""
    await pilot.press("2")
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, EventsScreen)
            and pilot.app.screen._sev_version >= 0
            and info_line(pilot).startswith("167 events")
        ),
        "the Events screen with its severity index",
    )


def filtered() -> Callable[[Pilot], Awaitable[None]]:
    """``/`` + the query + enter: the bar closes, the list shows only the matches."""

    async def run_before(pilot: Pilot) -> None:
        await open_events(pilot)
        await pilot.press("slash", *QUERY, "enter")
        await wait_until(
            pilot,
            lambda: (
                info_line(pilot).startswith(QUERY_INFO)
                and events_screen(pilot).query_one(EventList).count == 8
                and isinstance(pilot.app.focused, EventList)
            ),
            "the search results",
        )

    return run_before


def detail_of(up: int, first_line: str) -> Callable[[Pilot], Awaitable[None]]:
    """Open the detail pane, then select the row ``up`` rows above the newest.

    The pane is opened at the top of the list (``g``, ``enter``) and the
    cursor walked to its row afterwards: opening it on a row in the lower
    part of the list hides that row (see
    test_opening_the_detail_keeps_the_selected_row_visible), and these
    snapshots must not depend on that bug or on its fix.
    """

    async def run_before(pilot: Pilot) -> None:
        await open_events(pilot)
        await pilot.press("g", "enter", "G", *["k"] * up)
        await wait_until(
            pilot, lambda: detail_text(pilot).startswith(first_line), "the detail pane"
        )

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_filter_applied(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    assert snap_compare(fixture_app(), terminal_size=size, run_before=filtered())


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_detail_pane_open(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    # Third row from the newest: worker.log's "task 41 failed: HTTP 503" (item,
    # correlation id, nested context/metadata in its JSON).
    run_before = detail_of(3, "time        2025-09-29T01:59:15.000Z")
    assert snap_compare(fixture_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_detail_pane_scrolled_to_the_raw_line(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    # The same record is longer than the pane at both sizes: tab focuses the
    # pane, end scrolls it to the end of the pretty JSON and the raw line.
    show = detail_of(3, "time        2025-09-29T01:59:15.000Z")

    async def run_before(pilot: Pilot) -> None:
        await show(pilot)
        await pilot.press("tab", "end")
        detail = events_screen(pilot).query_one(EventDetail)
        await wait_until(
            pilot,
            lambda: (
                pilot.app.focused is detail and 0 < detail.max_scroll_y == detail.scroll_offset.y
            ),
            "the detail pane scrolled to its end",
        )

    assert snap_compare(fixture_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_parse_error_detail(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    # One row up from the newest: ai_events.log:33, a truncated JSON line; the
    # list also shows logs/collector.log:7 three rows above it.
    run_before = detail_of(1, "UNREADABLE LINE")
    assert snap_compare(fixture_app(), terminal_size=size, run_before=run_before)


async def test_opening_the_detail_keeps_the_selected_row_visible(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_events(pilot)
        await pilot.press("k", "k", "k", "enter")  # "task 41 failed: HTTP 503"
        await wait_until(pilot, lambda: detail_text(pilot) != "", "the detail pane")
        lst = events_screen(pilot).query_one(EventList)
        top, height = int(lst.scroll_offset.y), lst.size.height
        assert top <= lst.cursor < top + height, (
            f"row {lst.cursor} selected, rows {top}..{top + height - 1} shown"
        )


async def test_opening_the_detail_while_following_keeps_the_newest_row_at_the_bottom(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_events(pilot)
        await pilot.press("f", "enter")
        await wait_until(pilot, lambda: detail_text(pilot) != "", "the detail pane")
        lst = events_screen(pilot).query_one(EventList)
        assert lst.following and lst.cursor == lst.count - 1
        top, height = int(lst.scroll_offset.y), lst.size.height
        assert top + height == lst.count, f"rows {top}..{top + height - 1} of {lst.count} shown"


def unreadable_hidden() -> Callable[[Pilot], Awaitable[None]]:
    """``u``: the fixture's three unreadable lines leave the list; the info line says so."""

    async def run_before(pilot: Pilot) -> None:
        await open_events(pilot)
        await pilot.press("u")
        await wait_until(
            pilot,
            lambda: (
                info_line(pilot).startswith("167 events · 3 unreadable hidden ")
                and events_screen(pilot).query_one(EventList).count == 164
            ),
            "the unreadable lines hidden",
        )

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_unreadable_hidden(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    # Compare with test_every_screen[events-*] in test_snapshots_shell.py: the
    # same newest rows, but logs/collector.log:7 and ai_events.log:33 are gone.
    assert snap_compare(fixture_app(), terminal_size=size, run_before=unreadable_hidden())
