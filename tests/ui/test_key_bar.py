"""Pilot tests of the key bar: the shown bindings of the screen, greyed when off, clickable."""

from __future__ import annotations

from oos_tui.screens.help import HelpScreen
from oos_tui.widgets.key_bar import KeyBar


async def test_key_bar_follows_the_screen_and_its_focus(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one(KeyBar).render())
        assert "? Help" in text and "q Quit" in text and "^p palette" in text
        assert "f Follow" not in text
        await pilot.press("2")
        await pilot.pause()
        text = str(app.screen.query_one(KeyBar).render())
        assert "f Follow" in text and "/ Filter" in text
        assert text.index("f Follow") < text.index("? Help")  # the screen's own keys first


async def test_clicking_a_hint_presses_its_key(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        x = str(bar.render()).index("? Help")
        await pilot.click(KeyBar, offset=(x + 2, 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
