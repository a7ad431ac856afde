"""Snapshots of the console frame on the fixture workspace (frozen clock, injected samples).

Review every SVG before accepting it (`pytest --snapshot-update`, then look
at tests/ui/__snapshots__/).
"""

from __future__ import annotations

import pytest

SIZES = [(80, 24), (160, 48)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
@pytest.mark.parametrize(
    "screen",
    ["overview", "events", "queues", "breakers", "resources", "jobs", "backups", "audit"],
)
def test_every_screen(snap_compare, fixture_app, screen: str, size: tuple[int, int]) -> None:
    from oos_tui.screens.registry import SCREENS

    key = str([m for m, _ in SCREENS].index(screen) + 1)
    assert snap_compare(fixture_app(), terminal_size=size, press=[key, "wait:100"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_help(snap_compare, fixture_app, size: tuple[int, int]) -> None:
    assert snap_compare(fixture_app(), terminal_size=size, press=["question_mark", "wait:100"])


def test_command_line_with_completion(snap_compare, fixture_app) -> None:
    assert snap_compare(
        fixture_app(), terminal_size=(80, 24), press=["colon", "t", "h", "wait:200"]
    )


@pytest.mark.parametrize("theme", ["oos-light", "oos-contrast", "oos-mono"])
def test_themes(snap_compare, fixture_app, theme: str) -> None:
    assert snap_compare(fixture_app(theme=theme), terminal_size=(80, 24), press=["wait:100"])
