"""Following a growing file: the list grows without re-arranging the screen."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from helpers.events_support import append, pipe_line, visible_rows, wait_for
from textual.screen import Screen

from oos_tui.app import make_app
from oos_tui.config import load_settings
from oos_tui.widgets.event_list import EventList


async def test_followed_lines_grow_the_list_without_a_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual's ``virtual_size`` re-arranges the whole screen when assigned.

    The list sets it quietly while the scrollbars stay as they are: at 2,000
    lines a second that was a full layout on every frame (bench/follow_latency.py).
    The scrollbar and the scroll range still follow the new row count.
    """
    ws = tmp_path / "ws"
    ws.mkdir()
    append(ws / "oos.log", (pipe_line(f"OLD-{i:04d}") for i in range(100)))
    layouts: list[int] = []
    refresh_layout = Screen._refresh_layout

    @functools.wraps(refresh_layout)
    def counted(self: Screen, *args, **kwargs) -> None:
        layouts.append(1)
        refresh_layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    app = make_app(load_settings(ws, env={}), start_screen="events")
    async with app.run_test(size=(100, 30)) as pilot:
        lst = app.screen.query_one(EventList)
        await wait_for(
            pilot, lambda: "OLD-0099" in "\n".join(visible_rows(lst)), lambda: "the old lines"
        )
        await pilot.pause(0.3)
        before = len(layouts)
        for batch in range(5):
            marker = f"NEW-{batch:04d}"
            append(ws / "oos.log", [pipe_line(marker)])
            await wait_for(
                pilot, lambda m=marker: m in "\n".join(visible_rows(lst)), lambda m=marker: m
            )
        assert lst.following and lst.count == 105
        assert lst.virtual_size.height == 105 and lst.max_scroll_y == 105 - lst.size.height
        assert lst.vertical_scrollbar.window_virtual_size == 105
        assert len(layouts) == before, f"{len(layouts) - before} layouts for 5 followed lines"
