"""Pilot tests of the Events screen with the feeds on: a real workspace, real files appended to.

Each test writes ``oos.log`` (and the other sources) in ``tmp_path`` through the
project's own format writers, starts the console on the Events screen with the
live feeds and the real clock, and appends, rotates or truncates files from the
test while the app follows them. Every line carries a unique marker, so a lost
or repeated line is seen. Waits are bounded polls, never fixed sleeps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.events_support import (
    MARKER,
    TRACE_CORR,
    TRACE_ITEM,
    append,
    info_line,
    listed_markers,
    listed_records,
    marker_of,
    pipe_line,
    stream_marker_counts,
    stream_records,
    visible_rows,
    wait_for,
    write_trace_workspace,
)

from oos_tui.app import OosApp
from oos_tui.formats.base import format_ts
from oos_tui.models import Event, ParseError
from oos_tui.screens.events import EventsScreen
from oos_tui.screens.trace import TraceScreen
from oos_tui.widgets.event_detail import EventDetail
from oos_tui.widgets.event_list import EventList
from oos_tui.widgets.table import OosTable

SIZE = (120, 30)
INITIAL = 40
"""Lines in ``oos.log`` at start: more than a screenful, so there is room to scroll."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace whose ``oos.log`` holds ``INITIAL`` old lines (``OLD-0000``…)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    base = time.time() - 3600
    (ws / "oos.log").write_bytes(
        b"".join(pipe_line(f"OLD-{i:04d}", ts=base + i) for i in range(INITIAL))
    )
    return ws


async def events_screen(pilot: Any, rows: int = INITIAL) -> tuple[EventsScreen, EventList]:
    """The Events screen once its list shows at least ``rows`` rows."""
    screen = pilot.app.screen
    assert isinstance(screen, EventsScreen)
    lst = screen.query_one(EventList)
    await wait_for(pilot, lambda: lst.count >= rows, lambda: f"list has {lst.count} rows")
    return screen, lst


def newest_marker_visible(lst: EventList, marker: str) -> bool:
    """Whether ``marker``'s row is drawn, as the last row on screen."""
    rows = visible_rows(lst)
    return bool(rows) and marker in rows[-1]


def at_bottom(lst: EventList) -> bool:
    """The cursor on the newest row and the view scrolled to the end."""
    return lst.cursor == lst.count - 1 and lst.scroll_offset.y == lst.max_scroll_y


async def search_settled(pilot: Any, screen: EventsScreen, text: str) -> None:
    """Wait until the query ``text`` is the screen's and its search has finished."""
    await wait_for(
        pilot,
        lambda: screen._text == text and screen._result is not None and not screen._searching,
        lambda: f"query {screen._text!r}, info {info_line(screen)!r}",
    )


def selected_marker(lst: EventList) -> str | None:
    """The marker of the event under the cursor."""
    ref = lst.selected_ref
    return marker_of(lst.record(ref)) if ref is not None else None


async def press_and_read(pilot: Any, lst: EventList, key: str) -> str | None:
    """Press ``key`` and return the marker of the event the cursor lands on."""
    await pilot.press(key)
    await pilot.pause()
    return selected_marker(lst)


def marker_of_text(text: str) -> str | None:
    """The marker in a table cell's text."""
    found = MARKER.search(text)
    return found.group(0) if found else None


def pe_markers(lst: EventList) -> list[str]:
    """The ``PE-`` markers of the listed rows, top to bottom."""
    return [m for m in listed_markers(lst) if m.startswith("PE-")]


# -- 1. tail to screen ----------------------------------------------------------------


async def test_lines_appended_to_oos_log_appear_in_the_list(live_app, workspace: Path) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        assert "OLD-0039" in visible_rows(lst)[-1]
        for n in range(1, 4):
            append(workspace / "oos.log", [pipe_line(f"NEW-{n:04d}", event_type="FAIL")])
            await wait_for(
                pilot,
                lambda n=n: newest_marker_visible(lst, f"NEW-{n:04d}"),
                lambda: f"rows on screen: {visible_rows(lst)[-3:]}",
            )
        rows = visible_rows(lst)
        # The new lines are the last three rows, in the order written, as FAILs.
        assert not any("NEW-" in row for row in rows[:-3])
        for n, row in enumerate(rows[-3:], start=1):
            assert f"NEW-{n:04d}" in row and " ERR oos " in row and " FAIL " in row, row
        assert f"{INITIAL + 3} events" in info_line(screen)
        assert "● following" in info_line(screen)
        # A batch of lines written in one go arrives whole, in order.
        append(workspace / "oos.log", [pipe_line(f"BATCH-{n:04d}") for n in range(25)])
        await wait_for(
            pilot,
            lambda: newest_marker_visible(lst, "BATCH-0024"),
            lambda: f"last rows: {visible_rows(lst)[-2:]}",
        )
        assert listed_markers(lst)[-25:] == [f"BATCH-{n:04d}" for n in range(25)]


# -- 2. follow mode, pause ----------------------------------------------------------


async def test_scrolling_up_stops_following_and_counts_arrivals(live_app, workspace: Path) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        log = workspace / "oos.log"
        serial = iter(range(1, 1000))
        for leave in ("up", "pageup", "home"):
            assert lst.following and at_bottom(lst)
            await pilot.press(leave)
            await pilot.pause()
            assert not lst.following, f"{leave} should leave follow mode"
            held = lst.selected_ref
            top = lst.scroll_offset.y
            marks = [f"ARR-{next(serial):04d}" for _ in range(3)]
            append(log, [pipe_line(m) for m in marks])
            await wait_for(
                pilot,
                lambda marks=marks: marks[-1] in listed_markers(lst)[-3:],
                lambda leave=leave: f"after {leave}: {listed_markers(lst)[-3:]}",
            )
            await wait_for(
                pilot,
                lambda: "▲ 3 new · f follows" in info_line(screen),
                lambda leave=leave: f"after {leave}, info line: {info_line(screen)!r}",
            )
            # The view stays where the operator put it: same row selected, no scroll.
            assert lst.selected_ref == held and lst.scroll_offset.y == top
            assert not any(m in " ".join(visible_rows(lst)) for m in marks)
            resume = "end" if leave != "pageup" else "f"
            await pilot.press(resume)
            await pilot.pause()
            assert lst.following and at_bottom(lst), f"{resume} should resume following"
            assert newest_marker_visible(lst, marks[-1])
            assert "● following" in info_line(screen)
            # Following again: the next line is selected and shown at the bottom.
            mark = f"ARR-{next(serial):04d}"
            append(log, [pipe_line(mark)])
            await wait_for(
                pilot,
                lambda mark=mark: newest_marker_visible(lst, mark),
                lambda resume=resume: f"after {resume}: {visible_rows(lst)[-2:]}",
            )
            assert at_bottom(lst)
            assert marker_of(lst.record(lst.selected_ref)) == mark


async def test_pause_holds_the_display_and_loses_nothing(live_app, workspace: Path) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert lst.paused
        shown = visible_rows(lst)
        count = lst.count
        marks = [f"HELD-{n:04d}" for n in range(12)]
        for m in marks:  # several writes: several stream updates while paused
            append(workspace / "oos.log", [pipe_line(m)])
            await pilot.pause(0.02)
        await wait_for(
            pilot,
            lambda: stream_marker_counts(app.state.stream, "HELD-") == dict.fromkeys(marks, 1),
            lambda: f"stream has {stream_marker_counts(app.state.stream, 'HELD-')}",
        )
        await pilot.pause(0.3)  # several repaints at ui_hz while the stream holds them
        assert lst.count == count and visible_rows(lst) == shown, "paused: display unchanged"
        assert "‖ paused, 12 new · p resumes" in info_line(screen)
        await pilot.press("p")
        await pilot.pause()
        assert not lst.paused
        await wait_for(
            pilot,
            lambda: lst.count == INITIAL + len(marks),
            lambda: f"after resuming the list has {lst.count} rows",
        )
        assert listed_markers(lst)[-len(marks) :] == marks, "every held line, in order"
        assert lst.following and at_bottom(lst)
        assert newest_marker_visible(lst, marks[-1])
        assert "● following" in info_line(screen)


# -- 3. rotation and truncation while following --------------------------------------


def assert_each_once(app: OosApp, prefix: str, expected: list[str]) -> None:
    """Every marker in ``expected`` is in the stream exactly once, and no other one."""
    counts = stream_marker_counts(app.state.stream, prefix)
    repeated = sorted(m for m, n in counts.items() if n > 1)
    missing = sorted(set(expected) - set(counts))
    unexpected = sorted(set(counts) - set(expected))
    assert not (repeated or missing or unexpected), (
        f"repeated {repeated}, missing {missing}, unexpected {unexpected}"
    )


def listed(lst: EventList, expected: list[str]) -> Callable[[], bool]:
    """A check: every marker in ``expected`` is a row of the list."""
    return lambda: set(listed_markers(lst)) >= set(expected)


def unlisted(lst: EventList, expected: list[str]) -> list[str]:
    """The markers in ``expected`` that are not rows of the list."""
    return sorted(set(expected) - set(listed_markers(lst)))


def missing_in_stream(app: OosApp, prefix: str, expected: list[str]) -> list[str]:
    """The markers in ``expected`` that a fresh read of the stream does not find."""
    return sorted(set(expected) - set(stream_marker_counts(app.state.stream, prefix)))


def all_arrived(app: OosApp, prefix: str, expected: list[str]) -> Callable[[], bool]:
    """A check: every marker in ``expected`` has reached the stream."""
    return lambda: set(stream_marker_counts(app.state.stream, prefix)) >= set(expected)


async def test_rotation_while_following_loses_and_repeats_nothing(
    live_app, workspace: Path
) -> None:
    """Rename ``oos.log`` to ``oos.log.1`` mid-write, as a logging handler does.

    The producer's open handle still writes two lines into the renamed file
    before it reopens ``oos.log``: the follower must drain the old file before
    switching to the new one.
    """
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        _screen, lst = await events_screen(pilot)
        marks = iter(f"ROT-{n:04d}" for n in range(1, 10_000))
        written: list[str] = []

        def write(fh: Any, count: int) -> None:
            batch = [next(marks) for _ in range(count)]
            fh.write(b"".join(pipe_line(m) for m in batch))
            fh.flush()
            written.extend(batch)

        with open(log, "ab") as producer:
            write(producer, 10)
            await wait_for(
                pilot,
                all_arrived(app, "ROT-", written),
                lambda: f"missing {missing_in_stream(app, 'ROT-', written)}",
            )
            os.rename(log, workspace / "oos.log.1")
            write(producer, 2)  # late lines: into the renamed file
        with open(log, "ab") as producer:
            write(producer, 5)
        with open(log, "ab") as producer:
            write(producer, 5)
        await wait_for(
            pilot,
            lambda: lst.count == INITIAL + len(written),
            lambda: f"list has {lst.count} rows, expected {INITIAL + len(written)}",
        )
        await pilot.pause(0.5)  # a few more follow steps: a late duplicate would show now
        unreadable = [
            f"{r.file}:{r.line}: {r.reason}"
            for r in listed_records(lst)
            if isinstance(r, ParseError)
        ]
        assert not unreadable, f"rows shown as unreadable: {unreadable}"
        listed = [m for m in listed_markers(lst) if m.startswith("ROT-")]
        assert sorted(listed) == written, f"listed {listed}"
        assert_each_once(app, "ROT-", written)
        assert_each_once(app, "OLD-", [f"OLD-{i:04d}" for i in range(INITIAL)])
        assert lst.following and newest_marker_visible(lst, written[-1])


async def test_repeated_rotations_keep_every_generation_readable(live_app, workspace: Path) -> None:
    """Three rotations (``.1`` shifted to ``.2``, ``.3``…): old generations stay searchable.

    Checked through a new search (a reader that opens the files afresh, as a
    search, a trace or the detail pane does), not only the list's open files.
    """
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        marks = iter(f"ROT-{n:04d}" for n in range(1, 10_000))
        written: list[str] = []
        for rotation in (1, 2, 3):
            batch = [next(marks) for _ in range(8)]
            append(log, [pipe_line(m) for m in batch])
            written.extend(batch)
            # Caught up before each rename: draining a renamed file is the test above.
            await wait_for(
                pilot, listed(lst, written), lambda: f"not listed: {unlisted(lst, written)}"
            )
            # RotatingFileHandler: NAME.k becomes NAME.k+1, NAME becomes NAME.1.
            for k in range(rotation - 1, 0, -1):
                os.rename(f"{log}.{k}", f"{log}.{k + 1}")
            os.rename(log, f"{log}.1")
            batch = [next(marks) for _ in range(3)]
            append(log, [pipe_line(m) for m in batch])
            written.extend(batch)
            await wait_for(
                pilot,
                listed(lst, written),
                lambda r=rotation: f"after rotation {r}, not listed: {unlisted(lst, written)}",
            )
        assert lst.count == INITIAL + len(written)
        shown = [m for m in listed_markers(lst) if m.startswith("ROT-")]
        assert sorted(shown) == written, f"listed {shown}"
        # Read afresh (as a search, a trace or the detail pane reads them), every
        # generation is found under the name it has now, each line once.
        await wait_for(
            pilot,
            all_arrived(app, "ROT-", written),
            lambda: f"unreadable afresh: {missing_in_stream(app, 'ROT-', written)}",
        )
        assert_each_once(app, "ROT-", written)
        assert_each_once(app, "OLD-", [f"OLD-{i:04d}" for i in range(INITIAL)])
        await pilot.press("slash", *"ROT", "enter")
        await search_settled(pilot, screen, "ROT")
        assert f"{len(written)} of {INITIAL + len(written)} shown" in info_line(screen)
        assert sorted(listed_markers(lst)) == written
        files = {r.file for r in listed_records(lst) if isinstance(r, Event)}
        assert files == {"oos.log", "oos.log.1", "oos.log.2", "oos.log.3"}


async def test_copytruncate_while_following_loses_and_repeats_nothing(
    live_app, workspace: Path
) -> None:
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        _screen, lst = await events_screen(pilot)
        before = [f"TRC-{n:04d}" for n in range(1, 11)]
        append(log, [pipe_line(m) for m in before])
        await wait_for(
            pilot,
            all_arrived(app, "TRC-", before),
            lambda: f"missing {missing_in_stream(app, 'TRC-', before)}",
        )
        # logrotate's copytruncate: copy the file aside, then cut it to nothing.
        (workspace / "oos.log.1").write_bytes(log.read_bytes())
        with open(log, "r+b") as fh:
            fh.truncate(0)
        after = [f"TRC-{n:04d}" for n in range(11, 15)]
        append(log, [pipe_line(m) for m in after])
        await wait_for(
            pilot,
            all_arrived(app, "TRC-", before + after),
            lambda: f"missing {missing_in_stream(app, 'TRC-', before + after)}",
        )
        await pilot.pause(0.5)
        assert_each_once(app, "TRC-", before + after)
        assert_each_once(app, "OLD-", [f"OLD-{i:04d}" for i in range(INITIAL)])
        assert not [r for r in stream_records(app.state.stream) if isinstance(r, ParseError)]
        await wait_for(
            pilot,
            lambda: newest_marker_visible(lst, after[-1]),
            lambda: f"last rows {visible_rows(lst)[-2:]}",
        )
        assert lst.count == INITIAL + len(before) + len(after)
        assert [m for m in listed_markers(lst) if m.startswith("TRC-")] == before + after


async def test_truncation_while_following_shows_the_new_lines_once(
    live_app, workspace: Path
) -> None:
    """A plain truncation: the old lines are gone from disk, the new ones appear once."""
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        _screen, lst = await events_screen(pilot)
        with open(log, "r+b") as fh:
            fh.truncate(0)
        after = [f"CUT-{n:04d}" for n in range(1, 6)]
        for m in after:
            append(log, [pipe_line(m)])
            await pilot.pause(0.02)
        await wait_for(
            pilot,
            all_arrived(app, "CUT-", after),
            lambda: f"missing {missing_in_stream(app, 'CUT-', after)}",
        )
        await wait_for(
            pilot,
            lambda: app.state.stream is not None and app.state.stream.total == len(after),
            lambda: f"stream total {app.state.stream.total if app.state.stream else None}",
        )
        await pilot.pause(0.5)
        assert_each_once(app, "CUT-", after)
        records = stream_records(app.state.stream)
        assert all(isinstance(r, Event) for r in records), "no row reads stale or missing bytes"
        await wait_for(pilot, lambda: lst.count == len(after), lambda: f"list has {lst.count} rows")
        assert listed_markers(lst) == after
        assert lst.following and newest_marker_visible(lst, after[-1])
        assert not any("OLD-" in row for row in visible_rows(lst))


# -- 4. filtering while following ----------------------------------------------------


async def test_filter_while_following_lists_only_new_matches(live_app, workspace: Path) -> None:
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        await pilot.press("slash", *"type:FAIL", "enter")
        await search_settled(pilot, screen, "type:FAIL")
        assert lst.count == 0
        assert f"/type:FAIL 0 of {INITIAL} shown" in info_line(screen)
        # A producer writing line by line: matches and non-matches interleaved.
        fails: list[str] = []
        total = INITIAL
        for n in range(1, 13):
            kind = "FAIL" if n % 3 == 0 else ("RETRY" if n % 3 == 1 else "COMPLETE")
            mark = f"LIVE-{n:04d}"
            append(log, [pipe_line(mark, event_type=kind)])
            total += 1
            if kind == "FAIL":
                fails.append(mark)
            await pilot.pause(0.07)
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == fails,
            lambda: f"listed {listed_markers(lst)}, expected {fails}; {info_line(screen)!r}",
        )
        assert all(isinstance(r, Event) and r.event_type == "FAIL" for r in listed_records(lst))
        await wait_for(
            pilot,
            lambda: f"/type:FAIL {len(fails)} of {total} shown" in info_line(screen),
            lambda: f"info line {info_line(screen)!r}",
        )
        assert lst.following and newest_marker_visible(lst, fails[-1])
        rows = visible_rows(lst)
        assert len(rows) == len(fails) and all(" FAIL " in row for row in rows)


async def test_filter_by_a_bare_word_while_following(live_app, workspace: Path) -> None:
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        await pilot.press("slash", *"timeout", "enter")
        await search_settled(pilot, screen, "timeout")
        assert lst.count == 0
        words = {
            "WORD-0001": "upstream Timeout after 30s",
            "WORD-0002": "all good",
            "WORD-0003": "connect TIMEOUT",
            "WORD-0004": "time out (two words: no match)",
        }
        for mark, text in words.items():
            append(log, [pipe_line(mark, data={"message": text, "title": None})])
            await pilot.pause(0.05)
        # The title is replaced by the marker; the text is in the data: the raw line.
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == ["WORD-0001", "WORD-0003"],
            lambda: f"listed {listed_markers(lst)}; {info_line(screen)!r}",
        )
        await wait_for(
            pilot,
            lambda: f"/timeout 2 of {INITIAL + 4} shown" in info_line(screen),
            lambda: f"info line {info_line(screen)!r}",
        )


async def test_an_invalid_query_shows_its_error_and_keeps_the_results(
    live_app, workspace: Path
) -> None:
    app = live_app()
    log = workspace / "oos.log"
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot)
        fails = [f"BAD-{n:04d}" for n in range(1, 4)]
        append(log, [pipe_line(m, event_type="FAIL") for m in fails])
        append(log, [pipe_line("BAD-0100")])
        await pilot.press("slash", *"type:FAIL", "enter")
        await search_settled(pilot, screen, "type:FAIL")
        await wait_for(
            pilot, lambda: listed_markers(lst) == fails, lambda: f"listed {listed_markers(lst)}"
        )
        # The bar reopens on the last valid query; each edit makes it unreadable
        # from its first keystroke on, so no valid query typed on the way (the
        # bar searches as you type) can replace the results being kept.
        edits = [
            (("home", "left_parenthesis"), "unclosed '('"),
            (
                ("home", "left_parenthesis", "end", *" since:banana", "right_parenthesis"),
                "bad time 'banana' for since",
            ),
            (("home", "quotation_mark"), "unclosed quote"),
        ]
        for keys, error in edits:
            await pilot.press("slash", *keys)
            await wait_for(
                pilot,
                lambda error=error: f"✕ {error}" in info_line(screen),
                lambda: f"info line {info_line(screen)!r}",
            )
            await pilot.press("enter")
            await pilot.pause()
            info = info_line(screen)
            assert "(previous results kept)" in info
            assert f"/type:FAIL 3 of {INITIAL + 4} shown" in info, info
            assert listed_markers(lst) == fails
            assert screen._text == "type:FAIL"
        # The kept query still follows the log.
        append(log, [pipe_line("BAD-0004", event_type="FAIL"), pipe_line("BAD-0101")])
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == [*fails, "BAD-0004"],
            lambda: f"listed {listed_markers(lst)}",
        )
        # A valid query again clears the error; esc in the bar clears the query.
        await pilot.press("slash", *["backspace"] * 40, *"BAD-0100", "enter")
        await search_settled(pilot, screen, "BAD-0100")
        assert listed_markers(lst) == ["BAD-0100"]
        assert "✕" not in info_line(screen)
        await pilot.press("slash", "escape")
        await wait_for(
            pilot,
            lambda: lst.count == INITIAL + 6,
            lambda: f"list has {lst.count} rows; {info_line(screen)!r}",
        )
        assert f"{INITIAL + 6} events" in info_line(screen)


# -- 5. n/N between matches, e/E between errors --------------------------------------


@pytest.fixture
def jump_workspace(workspace: Path) -> Path:
    """``JMP-0001``…``JMP-0012`` after the old lines: three FAILs, three lines saying "needle"."""
    kinds = {3: "FAIL", 7: "FAIL", 10: "FAIL", 5: "RETRY"}
    needles = {2, 5, 9}
    append(
        workspace / "oos.log",
        [
            pipe_line(
                f"JMP-{n:04d}",
                event_type=kinds.get(n, "PROCESS"),
                data={"note": "needle" if n in needles else "hay"},
            )
            for n in range(1, 13)
        ],
    )
    return workspace


async def test_e_and_E_jump_between_errors(live_app, jump_workspace: Path) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + 12)
        await wait_for(
            pilot, lambda: screen._errors.size == 3, lambda: f"{screen._errors.size} errors"
        )
        assert selected_marker(lst) == "JMP-0012" and lst.following
        # From the newest row, the next error wraps round to the first one.
        assert await press_and_read(pilot, lst, "e") == "JMP-0003"
        assert not lst.following, "a jump leaves follow mode"
        assert await press_and_read(pilot, lst, "e") == "JMP-0007"
        assert await press_and_read(pilot, lst, "e") == "JMP-0010"
        assert await press_and_read(pilot, lst, "e") == "JMP-0003"
        assert await press_and_read(pilot, lst, "E") == "JMP-0010"
        assert await press_and_read(pilot, lst, "E") == "JMP-0007"
        rec = lst.record(lst.selected_ref)
        assert isinstance(rec, Event) and rec.event_type == "FAIL"
        assert any("JMP-0007" in row for row in visible_rows(lst)), "the jump scrolls to it"
        # An error that arrives later is a jump target too.
        append(jump_workspace / "oos.log", [pipe_line("JMP-0013", event_type="FAIL")])
        await wait_for(pilot, lambda: lst.count == INITIAL + 13, lambda: f"{lst.count} rows")
        await wait_for(
            pilot,
            lambda: screen._errors.size == 4,
            lambda: f"the new FAIL is not among the errors e/E visit ({screen._errors.size})",
        )
        assert await press_and_read(pilot, lst, "e") == "JMP-0010"
        assert await press_and_read(pilot, lst, "e") == "JMP-0013"


async def test_n_and_N_jump_between_matches(live_app, jump_workspace: Path) -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + 12)
        await pilot.press("slash", *"needle", "enter")
        await search_settled(pilot, screen, "needle")
        # Only the matches listed: n/N step through them.
        await wait_for(
            pilot,
            lambda: listed_markers(lst) == ["JMP-0002", "JMP-0005", "JMP-0009"],
            lambda: f"listed {listed_markers(lst)}",
        )
        assert selected_marker(lst) == "JMP-0009"
        assert await press_and_read(pilot, lst, "N") == "JMP-0005"
        assert await press_and_read(pilot, lst, "N") == "JMP-0002"
        assert await press_and_read(pilot, lst, "n") == "JMP-0005"
        # Everything listed, matches marked: n/N jump over the rest (and wrap).
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: lst.count == INITIAL + 12,
            lambda: f"mark mode lists {lst.count} rows",
        )
        assert "3 of 52 marked (n/N)" in info_line(screen)
        assert selected_marker(lst) == "JMP-0005", "the selection survives the switch"
        assert await press_and_read(pilot, lst, "n") == "JMP-0009"
        assert await press_and_read(pilot, lst, "n") == "JMP-0002"
        assert await press_and_read(pilot, lst, "N") == "JMP-0009"
        assert await press_and_read(pilot, lst, "N") == "JMP-0005"
        # On screen, exactly the matching rows carry the mark.
        needles = {"JMP-0002", "JMP-0005", "JMP-0009"}
        rows = visible_rows(lst)
        assert any("JMP-0005" in row for row in rows)
        for row in rows:
            assert row.startswith("▶") == any(m in row for m in needles), row


# -- 6. detail and trace ------------------------------------------------------------


@pytest.fixture
def trace_workspace(workspace: Path) -> tuple[Path, list[tuple[float, str, str]]]:
    """The workspace with one item's story in ``oos.log``, ``ai_events.log`` and the store."""
    return workspace, write_trace_workspace(workspace, time.time() - 600)


TRACE_EVENTS = 5 + 3 + 3
"""Events the trace workspace adds to the stream: oos.log, ai_events.log, the store."""


async def test_enter_shows_the_whole_record_of_the_selected_event(
    live_app, trace_workspace
) -> None:
    workspace, _ = trace_workspace
    raw_lines = (workspace / "oos.log").read_bytes().split(b"\n")
    line_no = next(i for i, raw in enumerate(raw_lines, start=1) if b"TR-0008" in raw)
    offset = sum(len(raw) + 1 for raw in raw_lines[: line_no - 1])
    raw = raw_lines[line_no - 1].decode()
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + TRACE_EVENTS)
        assert selected_marker(lst) == "TR-0008", "the newest event is selected while following"
        detail = screen.query_one(EventDetail)
        assert not detail.display
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display
        text = detail.text
        for expected in (
            "severity    error",
            "kind        oos",
            "source      TechPodcast",
            "type        FAIL",
            f"item        {TRACE_ITEM}",
            f"correlation {TRACE_CORR}",
            f"file        oos.log:{line_no} @ byte {offset}",
            "message     TR-0008 HTTP 503",
            # The data, pretty-printed.
            '{\n  "correlation_id": "corr-42",\n  "error": "TR-0008 HTTP 503"\n}',
            # The raw line as written.
            f"raw\n{raw}",
        ):
            assert expected in text, f"{expected!r} not in the detail:\n{text}"
        assert screen.query_one("WhereFrom")._text == f"oos.log:{line_no}"
        # The pane follows the cursor: a store event, then an ai event.
        await pilot.press("up")
        await pilot.pause()
        assert selected_marker(lst) == "TR-0007"
        text = detail.text
        assert "kind        store" in text and "severity    warning" in text
        assert f"correlation {TRACE_CORR}" in text and "file        events" in text
        assert '"title":"TR-0007"' in text, text
        await pilot.press("up")
        await pilot.pause()
        assert selected_marker(lst) == "TR-0006"
        assert "kind        ai" in detail.text and "file        ai_events.log:3" in detail.text
        assert '"details": {\n    "message": "TR-0006"' in detail.text
        await pilot.press("enter")
        await pilot.pause()
        assert not detail.display


async def test_t_traces_the_item_across_every_source_in_time_order(
    live_app, trace_workspace
) -> None:
    _, expected = trace_workspace
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + TRACE_EVENTS)
        assert selected_marker(lst) == "TR-0008"
        await pilot.press("t")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TraceScreen),
            lambda: f"screen is {app.screen!r}",
        )
        trace = app.screen
        table = trace.query_one(OosTable)
        await wait_for(
            pilot,
            lambda: table.row_count > 0,
            lambda: f"trace head: {trace.query_one('#trace-head').render()}",
        )
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        got = [(row[1], marker_of_text(row[4])) for row in rows]
        assert got == [(what, mark) for _, what, mark in expected], "\n".join(map(str, rows))
        # Time order, shown as times: the first column sorts as the rows do.
        times = [row[0] for row in rows]
        assert times == sorted(times)
        head = str(trace.query_one("#trace-head").render())
        assert f'item:"{TRACE_ITEM}" OR corr:"{TRACE_CORR}"' in head
        assert "7 events across 4 sources" in head, head
        for source in ("ai_events.log", "events table", "oos.log", "tasks / dead letters"):
            assert source in head
        # enter shows a row's record; esc goes back to the list, where we were.
        assert app.focused is table
        await pilot.press("enter")
        await pilot.pause()
        assert trace.query_one(EventDetail).display, "enter (trace.detail) opens the row"
        assert "TR-0001" in trace.query_one(EventDetail).text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, lambda: f"screen is {app.screen!r}")
        assert selected_marker(lst) == "TR-0008"


async def test_t_on_an_event_without_ids_says_so(live_app, workspace: Path) -> None:
    append(workspace / "oos.log", [pipe_line("NOID-0001", item="")])
    app = live_app()
    notes: list[str] = []
    app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + 1)
        assert selected_marker(lst) == "NOID-0001"
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is screen
        assert notes == ["this event has no item id or correlation id to trace"]


# -- 7. parse errors ------------------------------------------------------------------


async def test_unreadable_lines_are_listed_can_be_hidden_and_never_stop_the_stream(
    live_app, workspace: Path
) -> None:
    log = workspace / "oos.log"
    now = time.time()
    stamp = format_ts(now - 58.5)  # after PE-0002: the list is in time order
    append(
        log,
        [
            b"PE-0001 not a pipe line at all\n",
            pipe_line("PE-0002", ts=now - 59),
            f"{stamp}|DISCOVER|podcast|Src|it|{{PE-0003 not json\n".encode(),
        ],
    )
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, lst = await events_screen(pilot, INITIAL + 3)
        # Live: bad lines between good ones; the good ones after still arrive.
        live = [
            b'yesterday|DISCOVER|podcast|Src|it|{"title":"PE-0004"}\n',
            pipe_line("PE-0005"),
            b"\xff\xfe PE-0006 \xc3( binary junk\n",
            pipe_line("PE-0007", event_type="FAIL"),
        ]
        for line in live:
            append(log, [line])
            await pilot.pause(0.02)
        expected = [f"PE-{n:04d}" for n in range(1, 8)]
        await wait_for(
            pilot,
            lambda: listed_markers(lst)[-7:] == expected,
            lambda: f"listed {listed_markers(lst)[-7:]}",
        )
        assert lst.following and newest_marker_visible(lst, "PE-0007")
        records = listed_records(lst)[-7:]
        bad = {marker_of(r): r for r in records if isinstance(r, ParseError)}
        assert sorted(bad) == ["PE-0001", "PE-0003", "PE-0004", "PE-0006"]
        line_of = {m: INITIAL + n for n, m in enumerate(expected, start=1)}
        for mark, rec in bad.items():
            assert (rec.file, rec.line) == ("oos.log", line_of[mark])
        assert bad["PE-0001"].reason == "expected 6 |-separated fields, got 1"
        assert bad["PE-0003"].reason.startswith("data_json:")
        assert bad["PE-0004"].reason == "bad timestamp 'yesterday'"
        assert "\ufffd" in bad["PE-0006"].raw, "invalid bytes are replaced, never fatal"
        # On screen: ??? with file, line and reason, in the order written.
        rows = visible_rows(lst)[-7:]
        for row, mark in zip(rows, expected, strict=True):
            if mark in bad:
                assert " ??? " in row and f"unreadable oos.log:{line_of[mark]}: " in row, row
            else:
                assert " ??? " not in row and mark in row, row
        assert f"unreadable oos.log:{line_of['PE-0004']}: bad timestamp" in rows[3]
        # The detail of an unreadable line says why and shows the line.
        await pilot.press("up", "up", "up")
        await pilot.pause()
        assert selected_marker(lst) == "PE-0004"
        await pilot.press("enter")
        await pilot.pause()
        text = screen.query_one(EventDetail).text
        assert "UNREADABLE LINE" in text
        assert f"file        oos.log:{line_of['PE-0004']}" in text
        assert "reason      bad timestamp 'yesterday'" in text
        assert 'yesterday|DISCOVER|podcast|Src|it|{"title":"PE-0004"}' in text
        # u hides the unreadable lines while the list follows on; u again shows them.
        await pilot.press("enter", "f", "u")
        good = [m for m in expected if m not in bad]
        await wait_for(
            pilot,
            lambda: pe_markers(lst) == good,
            lambda: f"listed {pe_markers(lst)}; info {info_line(screen)!r}",
        )
        append(log, [b"PE-0008 still not a pipe line\n", pipe_line("PE-0009")])
        await wait_for(
            pilot,
            lambda: pe_markers(lst) == [*good, "PE-0009"],
            lambda: f"listed {pe_markers(lst)}; info {info_line(screen)!r}",
        )
        assert not any(isinstance(r, ParseError) for r in listed_records(lst))
        assert not any(" ??? " in row for row in visible_rows(lst))
        await wait_for(
            pilot,
            lambda: "5 unreadable hidden" in info_line(screen),
            lambda: f"info {info_line(screen)!r}",
        )
        assert lst.following and newest_marker_visible(lst, "PE-0009")
        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: pe_markers(lst) == [f"PE-{n:04d}" for n in range(1, 10)],
            lambda: f"listed {pe_markers(lst)}",
        )
        assert "unreadable hidden" not in info_line(screen)
