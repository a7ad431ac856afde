"""Snapshots of the Breakers screen on the fixture workspace (frozen clock, injected history).

Review every SVG before accepting it (`pytest --snapshot-update`, then render
it with `rsvg-convert` and look): nothing cut off, states by word and symbol,
hostile text escaped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from oos_tui.app import OosApp
from oos_tui.breaker_history import Transition
from oos_tui.models import Breaker
from oos_tui.state import ConsoleState

SIZES = [(80, 24), (160, 48)]
IDS = ["80x24", "160x48"]

EVIL_NAME = "worker_[bold]evil[/bold]\x1b[2J"
EVIL_ERROR = (
    "bad \x1b[31mred\x1b[0m [bold]markup[/bold] \x1b]52;c;ZXZpbA==\x07 token=s3cr3tvalue\n"
    "Traceback (most recent call last):\n"
    '  File "worker.py", line 12, in fetch\n'
    "[INFO] [@click=app.quit]quit[/] \u202eevil\u202c password=hunter22"
)


def with_history(state: ConsoleState) -> ConsoleState:
    """The fixture state plus transitions as the app's tracker would have recorded them."""
    from fixtures.workspace import FIXTURE_NOW as now

    return state.with_breaker_history(
        (
            Transition(
                now - 600, "dep_feed_fetch", "closed", "open", "store", "10/10 consecutive failures"
            ),
            Transition(
                now - 240,
                "worker_ingest_1",
                "closed",
                "open",
                "store",
                "10/10 consecutive failures",
            ),
            Transition(
                now - 120,
                "worker_ingest_1",
                None,
                "open",
                "log",
                "circuit breaker worker_ingest_1 opened",
            ),
            Transition(
                now - 5, "dep_feed_fetch", "open", "half_open", "store", "0/10 consecutive failures"
            ),
            Transition(
                now - 2,
                "worker_asr_1",
                None,
                "closed",
                "log",
                "breaker worker_asr_1 reset \x1b[31m[red]x[/red]",
            ),
        )
    )


def with_evil(state: ConsoleState) -> ConsoleState:
    """Add a closed breaker, close to tripping, whose name and last error are hostile."""
    from fixtures.workspace import FIXTURE_NOW as now

    evil = Breaker(EVIL_NAME, "closed", 9, 10, 40, 60, None, None, EVIL_ERROR, now - 1)
    store = dataclasses.replace(state.store, breakers=(*state.store.breakers, evil))
    return dataclasses.replace(state, store=store)


def app_with(
    fixture_app: Callable[..., OosApp], *changes: Callable[[ConsoleState], ConsoleState], **kw
) -> OosApp:
    app = fixture_app(**kw)
    for change in changes:
        app.state = change(app.state)
    return app


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_breakers(snap_compare, fixture_app, size: tuple[int, int]) -> None:
    app = app_with(fixture_app, with_history)
    assert snap_compare(app, terminal_size=size, press=["4", "wait:100"])


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_hostile_breaker_detail(snap_compare, fixture_app, size: tuple[int, int]) -> None:
    app = app_with(fixture_app, with_history, with_evil)
    # The hostile breaker sorts third (9/10, closest to a trip); tab focuses the detail.
    assert snap_compare(
        app, terminal_size=size, press=["4", "wait:100", "j", "j", "tab", "wait:100"]
    )


def open_reset(*, down: int = 0, reason: str = "") -> Callable[[Pilot], Awaitable[None]]:
    """Open the reset confirmation on the breaker ``down`` rows below the first, type a reason.

    The reason field's cursor stops blinking first, or the snapshot would
    depend on when it is taken.
    """

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("4")
        await pilot.pause(0.1)
        await pilot.press(*["j"] * down, "x")
        await pilot.pause(0.1)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.press(*reason)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_reset_confirmation(snap_compare, fixture_app, size: tuple[int, int]) -> None:
    app = app_with(fixture_app, with_history)
    assert snap_compare(app, terminal_size=size, run_before=open_reset(reason="provider fixed"))


def test_reset_confirmation_hostile_name(snap_compare, fixture_app) -> None:
    app = app_with(fixture_app, with_history, with_evil)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_reset(down=2))


def test_history_of_the_selected_breaker(snap_compare, fixture_app) -> None:
    app = app_with(fixture_app, with_history)
    assert snap_compare(app, terminal_size=(80, 24), press=["4", "wait:100", "h", "wait:100"])


def test_read_only(snap_compare, fixture_app) -> None:
    app = fixture_app()
    app.settings = dataclasses.replace(app.settings, read_only=True)
    app.state = dataclasses.replace(with_history(app.state), read_only=True)
    assert snap_compare(app, terminal_size=(80, 24), press=["4", "wait:100"])
