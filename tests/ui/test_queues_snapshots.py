"""Snapshots of the Queues screen's states on the fixture workspace (frozen clock, no feeds).

The plain screen at 80x24 and 160x48 is in test_snapshots_shell.py. Review
every SVG before accepting it: nothing cut off, no markup interpreted,
hostile text escaped, every state in a word or symbol as well as colour.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from oos_tui.app import OosApp

SIZES = [(80, 24), (160, 48)]
OPEN = ["3", "wait:400"]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_grouped_by_signature(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    assert snap_compare(fixture_app(), terminal_size=size, press=[*OPEN, "s", "wait:100"])


def test_detail_of_the_hostile_row(snap_compare, fixture_app: Callable[..., OosApp]) -> None:
    assert snap_compare(fixture_app(), terminal_size=(80, 24), press=[*OPEN, "enter", "wait:100"])


def test_filtered_live(snap_compare, fixture_app: Callable[..., OosApp]) -> None:
    press = [*OPEN, "slash", *"queue:ingest 503", "wait:400"]
    assert snap_compare(fixture_app(), terminal_size=(80, 24), press=press)


def test_retry_confirmation_warns_of_open_breaker(
    snap_compare, fixture_app: Callable[..., OosApp]
) -> None:
    # Row 2 (fifth from the top, newest first) failed on worker_ingest_1, whose breaker is open.
    press = [*OPEN, "j", "j", "j", "j", "j", "r", "wait:200"]
    assert snap_compare(fixture_app(), terminal_size=(80, 24), press=press)


def test_purge_confirmation_is_typed(snap_compare, fixture_app: Callable[..., OosApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press(*OPEN, "P")
        await pilot.pause(0.2)
        pilot.app.screen.query_one(Input).cursor_blink = False

    assert snap_compare(fixture_app(), terminal_size=(80, 24), run_before=run_before)


def test_read_only_greys_action_keys(snap_compare, fixture_workspace: Path) -> None:
    from fixtures.state import load_state
    from fixtures.workspace import FIXTURE_NOW

    from oos_tui.app import make_app
    from oos_tui.clock import FrozenClock
    from oos_tui.config import load_settings

    settings = load_settings(fixture_workspace, env={}, read_only=True)
    clock = FrozenClock(FIXTURE_NOW)
    app = make_app(settings, clock=clock, feeds=False, initial_state=load_state(settings, clock))
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=(80, 24), press=OPEN)
