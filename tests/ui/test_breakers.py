"""Pilot tests of the Breakers screen: table, countdown, detail, transitions, reset."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oos_tui.app import OosApp, make_app
from oos_tui.breaker_history import BreakerTracker, Transition
from oos_tui.clock import FrozenClock
from oos_tui.config import load_settings
from oos_tui.models import Breaker
from oos_tui.screens.breakers import BreakersScreen
from oos_tui.screens.confirm import ConfirmScreen
from oos_tui.state import ConsoleState
from oos_tui.widgets.breaker_detail import BreakerDetail
from oos_tui.widgets.breaker_table import BreakerTable
from oos_tui.widgets.transition_list import TransitionList

ORDER = ["worker_ingest_1", "dep_feed_fetch", "worker_asr_1", "worker_publish_1", "worker_ingest_2"]

Notes = list[tuple[str, str]]


@pytest.fixture
def workspace_copy(fixture_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture workspace: actions write to it."""
    return Path(shutil.copytree(fixture_workspace, tmp_path / "ws"))


def build(workspace: Path, *, read_only: bool = False) -> OosApp:
    """The console on ``workspace`` the way ``fixture_app`` builds it (feeds off, frozen clock)."""
    from fixtures.state import load_state
    from fixtures.workspace import FIXTURE_NOW

    settings = load_settings(workspace, env={}, read_only=read_only)
    clock = FrozenClock(FIXTURE_NOW)
    app = make_app(settings, clock=clock, initial_state=load_state(settings, clock), feeds=False)
    app.animation_level = "none"
    return app


def capture_notes(app: OosApp) -> Notes:
    """Collect (severity, message) of every toast instead of showing it."""
    notes: Notes = []

    def notify(message: str, **kw: Any) -> None:
        notes.append((kw.get("severity", "information"), str(message)))

    app.notify = notify  # type: ignore[method-assign]
    return notes


async def open_breakers(pilot: Any) -> BreakersScreen:
    await pilot.press("4")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BreakersScreen)
    return screen


def cell(table: BreakerTable, name: str, column: str) -> str:
    return table.get_cell(name, column).plain


def store_row(workspace: Path, name: str) -> dict[str, Any]:
    con = sqlite3.connect(workspace / "data" / "oos.db")
    con.row_factory = sqlite3.Row
    try:
        row = con.execute("SELECT * FROM circuit_breakers WHERE name = ?", (name,)).fetchone()
        return dict(row)
    finally:
        con.close()


def audit_rows(workspace: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(workspace / "data" / "oos.db")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM operator_actions ORDER BY id")]
    finally:
        con.close()


def with_breakers(state: ConsoleState, breakers: tuple[Breaker, ...]) -> ConsoleState:
    return dataclasses.replace(state, store=dataclasses.replace(state.store, breakers=breakers))


async def wait_for_reset(app: OosApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


# -- the table ---------------------------------------------------------------------------


async def test_table_shows_every_breaker_worst_first(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_breakers(pilot)
        table = app.screen.query_one(BreakerTable)
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys == ORDER
        assert cell(table, "worker_ingest_1", "state") == "✕ open"
        assert cell(table, "dep_feed_fetch", "state") == "◐ half-open"
        for name in ("worker_asr_1", "worker_publish_1", "worker_ingest_2"):
            assert cell(table, name, "state") == "● closed"
        assert cell(table, "worker_asr_1", "trip") == " 7/10 ▰▰▰▰▰▰▰▱▱▱"
        assert cell(table, "worker_ingest_1", "error") == "HTTP 503 from ht…"
        assert table.selected_name == "worker_ingest_1"
        assert app.focused is table


async def test_wide_table_has_every_column(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_breakers(pilot)
        table = app.screen.query_one(BreakerTable)
        columns = [c.key.value for c in table.ordered_columns]
        assert columns == [
            "state",
            "name",
            "trip",
            "rate",
            "failures",
            "successes",
            "open_for",
            "retry",
            "error",
        ]
        assert cell(table, "worker_ingest_1", "rate").strip() == "12.2%"
        assert cell(table, "worker_ingest_1", "open_for").strip() == "4m00s"
        assert (
            cell(table, "worker_ingest_1", "error") == "HTTP 503 from https://bad.example.com/feed"
        )


async def test_state_colours_follow_the_theme(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_breakers(pilot)
        table = app.screen.query_one(BreakerTable)
        dark = table.get_cell("worker_ingest_1", "state").style
        app.theme = "oos-light"
        await pilot.pause()
        light = table.get_cell("worker_ingest_1", "state").style
        assert dark != light
        assert str(light.color.triplet.hex).upper() == app.theme_variables["state-open"].upper()


# -- countdown and timer ------------------------------------------------------------------


async def test_countdown_reads_from_the_console_clock(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        table = screen.query_one(BreakerTable)
        assert cell(table, "worker_ingest_1", "retry") == "in 1m00s"
        assert screen.ticking
        app.clock.advance(15)  # type: ignore[attr-defined]
        await pilot.pause(1.2)  # one tick of the 1 s timer, no new state pushed
        assert cell(table, "worker_ingest_1", "retry") == "in 45s"
        app.clock.advance(60)  # type: ignore[attr-defined]
        await pilot.pause(1.2)
        assert cell(table, "worker_ingest_1", "retry") == "due"


async def test_no_timer_while_every_breaker_is_closed(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    state = app.state
    closed = tuple(
        dataclasses.replace(b, state="closed", opened_at=None, retry_at=None)
        for b in state.store.breakers
    )
    app.state = with_breakers(state, closed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        assert not screen.ticking
        app.set_state(with_breakers(app.state, state.store.breakers))
        await pilot.pause(0.2)
        assert screen.ticking
        await pilot.press("1")
        await pilot.pause()
        assert not screen.ticking  # a hidden screen does not tick


# -- selection and detail -------------------------------------------------------------------


async def test_command_argument_selects_the_breaker(fixture_app: Callable[..., OosApp]) -> None:
    # What ":breakers worker_asr_1" and an alert's jump end in.
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        screen.apply_command_argument("worker_asr_1")
        await pilot.pause()
        assert screen.query_one(BreakerTable).selected_name == "worker_asr_1"
        text = str(screen.query_one(BreakerDetail).query_one("Static").render())
        assert "7/10 consecutive failures" in text
        assert "timeout after 30s" in text
        assert "3 more consecutive failures open it" in text


async def test_argument_before_the_first_poll_waits_for_the_breakers(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    loaded = app.state
    app.state = dataclasses.replace(loaded, store=None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        text = str(screen.query_one(BreakerDetail).query_one("Static").render())
        assert text == "reading the store…"
        screen.apply_command_argument("asr")  # a unique part of a name will do
        app.set_state(loaded)
        await pilot.pause(0.2)
        assert screen.query_one(BreakerTable).selected_name == "worker_asr_1"


async def test_unknown_command_argument_says_so(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    notes = capture_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        screen.apply_command_argument("no_such_breaker")
        await pilot.pause()
        assert screen.query_one(BreakerTable).selected_name == "worker_ingest_1"
        assert any("no breaker named" in m for _, m in notes)


async def test_cursor_moves_the_detail(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        await pilot.press("j")
        await pilot.pause()
        assert screen.query_one(BreakerTable).selected_name == "dep_feed_fetch"
        text = str(screen.query_one(BreakerDetail).query_one("Static").render())
        assert "◐ half-open" in text and "connection reset" in text
        assert "a trial call decides" in text


# -- transitions ------------------------------------------------------------------------------


async def test_observed_transitions_are_listed_newest_first(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_breakers(pilot)
        history = screen.query_one(TransitionList)
        assert "no transitions seen yet" in str(history.query_one("Static").render())

        tracker = BreakerTracker()
        before = app.state.store.breakers
        now = app.clock.now()
        tracker.observe(before, now)
        tripped = tuple(
            dataclasses.replace(b, state="open", consecutive_failures=10, updated_at=now + 5)
            if b.name == "worker_asr_1"
            else b
            for b in before
        )
        assert tracker.observe(tripped, now + 5)
        app.set_state(with_breakers(app.state, tripped).with_breaker_history(tracker.history))
        await pilot.pause(0.2)

        lines = str(history.query_one("Static").render()).splitlines()
        assert lines[0].startswith("09-29 02:00:05  worker_asr_1")
        assert "● closed → ✕ open" in lines[0] and "store" in lines[0]
        assert "10/10 consecutive failures" in lines[0]
        table = screen.query_one(BreakerTable)
        assert cell(table, "worker_asr_1", "state") == "✕ open"

        later = (
            *tracker.history,
            Transition(now + 9, "dep_feed_fetch", None, "closed", "log", "breaker recovered"),
        )
        app.set_state(app.state.with_breaker_history(later))
        await pilot.pause(0.2)
        lines = str(history.query_one("Static").render()).splitlines()
        assert lines[0].startswith("09-29 02:00:09  dep_feed_fetch")
        assert "? unknown → ● closed" in lines[0] and "log" in lines[0]
        assert len(lines) == 2

        # h: only the selected breaker's (worker_asr_1 moved to the top as open)
        assert table.selected_name == "worker_ingest_1"
        await pilot.press("h")
        await pilot.pause()
        assert screen.history_scope == "selected"
        assert "no transitions of this breaker" in str(history.query_one("Static").render())
        screen.apply_command_argument("worker_asr_1")
        await pilot.pause()
        lines = str(history.query_one("Static").render()).splitlines()
        assert len(lines) == 1 and "worker_asr_1" in lines[0]
        await pilot.press("h")
        await pilot.pause()
        assert len(str(history.query_one("Static").render()).splitlines()) == 2


async def test_slash_filters_the_table_by_name(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        await pilot.press("slash", *"ingest")
        await pilot.pause(0.5)
        table = screen.query_one(BreakerTable)
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys == ["worker_ingest_1", "worker_ingest_2"]


# -- reset ------------------------------------------------------------------------------------


async def test_reset_with_a_reason_closes_the_breaker_and_audits(workspace_copy: Path) -> None:
    app = build(workspace_copy)
    notes = capture_notes(app)
    audits_before = len(audit_rows(workspace_copy))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_breakers(pilot)
        assert app.screen.query_one(BreakerTable).selected_name == "worker_ingest_1"
        await pilot.press("x")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        text = " ".join(str(s.render()) for s in confirm.query("Static"))
        assert "10/10 consecutive failures" in text
        assert "it opened 4m00s ago after 10 consecutive failures" in text
        assert "its worker will resume at once" in text
        await pilot.press(*"provider back up", "enter", "y")
        await pilot.pause()
        assert isinstance(app.screen, BreakersScreen)
        await wait_for_reset(app, pilot)

    row = store_row(workspace_copy, "worker_ingest_1")
    assert row["state"] == "closed"
    assert row["consecutive_failures"] == 0
    assert row["opened_at"] is None and row["retry_at"] is None
    assert (row["total_failures"], row["total_successes"]) == (57, 410)
    audits = audit_rows(workspace_copy)
    assert len(audits) == audits_before + 1
    audit = audits[-1]
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "reset_breaker",
        "breaker:worker_ingest_1",
        "ok",
    )
    detail = json.loads(audit["detail"])
    assert detail["reason"] == "provider back up"
    assert detail["before"]["state"] == "open"
    assert (
        "information",
        "breaker worker_ingest_1 reset: closed (was open, 10 consecutive failures)",
    ) in notes


async def test_cancel_changes_nothing(workspace_copy: Path) -> None:
    app = build(workspace_copy)
    before = store_row(workspace_copy, "worker_ingest_1")
    audits = audit_rows(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_breakers(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"oops", "escape")
        await pilot.pause()
        assert isinstance(app.screen, BreakersScreen)
        await wait_for_reset(app, pilot)
    assert store_row(workspace_copy, "worker_ingest_1") == before
    assert audit_rows(workspace_copy) == audits


async def test_reset_of_a_closed_breaker_shows_the_refusal(workspace_copy: Path) -> None:
    app = build(workspace_copy)
    notes = capture_notes(app)
    before = store_row(workspace_copy, "worker_ingest_2")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        screen.apply_command_argument("worker_ingest_2")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "nothing to reset" in text
        await pilot.press("enter", "y")
        await pilot.pause()
        await wait_for_reset(app, pilot)
    assert store_row(workspace_copy, "worker_ingest_2") == before
    assert ("warning", "breaker worker_ingest_2 is already closed: nothing changed") in notes
    assert audit_rows(workspace_copy)[-1]["outcome"] == "refused"


async def test_read_only_disables_reset(workspace_copy: Path) -> None:
    app = build(workspace_copy, read_only=True)
    notes = capture_notes(app)
    audits = audit_rows(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_breakers(pilot)
        assert screen.check_action("reset", ()) is None
        active = screen.active_bindings["x"]
        assert active.binding.id == "breakers.reset" and not active.enabled
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, BreakersScreen)
    assert any(sev == "warning" and "read-only" in m for sev, m in notes)
    assert audit_rows(workspace_copy) == audits
    assert store_row(workspace_copy, "worker_ingest_1")["state"] == "open"


async def test_reset_key_can_be_remapped(workspace_copy: Path) -> None:
    (workspace_copy / "oos-tui.toml").write_text('[keys]\n"breakers.reset" = "R"\n')
    app = build(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_breakers(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, BreakersScreen)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
