"""Pilot tests of the Audit screen: the log newest first, outcome words, detail, filter, refresh."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from ui.test_queues_support import build_on_copy, copy_workspace, wait_for

from oos_tui.app import OosApp
from oos_tui.screens.audit import AuditScreen
from oos_tui.widgets.audit_detail import AuditDetail
from oos_tui.widgets.audit_table import AuditTable

HOSTILE = "bad \x1b[31mred\x1b[0m [bold]markup[/bold] \x1b]52;c;ZXZpbA==\x07"


async def _open(pilot: Pilot, app: OosApp, rows: int = 1) -> AuditTable:
    await pilot.press("8")
    await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
    table = app.screen.query_one(AuditTable)
    await wait_for(pilot, lambda: table.row_count == rows)
    return table


def _row(table: AuditTable, index: int) -> dict[str, str]:
    cells = table.get_row_at(index)
    return {str(c.key.value): v.plain for c, v in zip(table.ordered_columns, cells, strict=True)}


def _insert(ws: Path, **row: str) -> None:
    con = sqlite3.connect(ws / "data" / "oos.db")
    with con:
        con.execute(
            "INSERT INTO operator_actions(at, operator, action, target, detail, outcome)"
            " VALUES (:at, :operator, :action, :target, :detail, :outcome)",
            row,
        )
    con.close()


@pytest.fixture
def workspace_copy(fixture_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture workspace."""
    return copy_workspace(fixture_workspace, tmp_path)


async def test_audit_lists_actions_with_outcome_words(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(160, 48)) as pilot:
        table = await _open(pilot, app)
        row = _row(table, 0)
        assert row["at"] == "2025-09-29 01:10:00"
        assert row["operator"] == "alice@10.0.0.7"
        assert (row["action"], row["target"]) == ("reset_breaker", "breaker:dep_feed_fetch")
        assert row["outcome"] == "✓ ok"
        assert row["result"] == "closed dep_feed_fetch (reason: provider fixed)"
        assert str(table.border_title) == "Operator actions  1 · newest first"


async def test_enter_shows_the_detail_json(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app)
        detail = app.screen.query_one(AuditDetail)
        assert not detail.display
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display
        text = str(detail.query_one("Static").render())
        assert '"reason": "provider fixed"' in text
        assert "target    breaker:dep_feed_fetch" in text


async def test_newest_first_escaped_and_refreshed_on_audit_count(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app)
        _insert(
            workspace_copy,
            at="2025-09-29T01:59:00.000Z",
            operator="bob",
            action="purge",
            target=f"dead_letter:error={HOSTILE}",
            detail=json.dumps({"result": HOSTILE, "password": "hunter2", "rows": [{"id": 9}]}),
            outcome="refused",
        )
        # The store feed reports a new audit_count; the screen reloads the log.
        snap = dataclasses.replace(app.state.store, audit_count=2)
        app.set_state(app.state.with_store(snap, app.clock.now()))
        await wait_for(pilot, lambda: table.row_count == 2)
        newest = _row(table, 0)
        assert newest["operator"] == "bob" and newest["outcome"] == "▲ refused"
        assert "\x1b" not in newest["target"] and "\\x1b[31mred" in newest["target"]
        assert "[bold]markup[/bold]" in newest["result"]
        # The cursor stays on the action it was on; g goes to the newest.
        assert table.selected_entry is not None and table.selected_entry.id == 1
        await pilot.press("g", "enter")
        await pilot.pause()
        text = str(app.screen.query_one(AuditDetail).query_one("Static").render())
        assert "hunter2" not in text and '"password": "***"' in text
        assert "\x1b" not in text and "\x07" not in text
        assert '"id": 9' in text


async def test_slash_filters_the_log(workspace_copy: Path) -> None:
    _insert(
        workspace_copy,
        at="2025-09-29T01:59:00.000Z",
        operator="bob",
        action="retry",
        target="dead_letter:4",
        detail=json.dumps({"result": "retried dead letter 4"}),
        outcome="ok",
    )
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app, rows=2)
        await pilot.press("slash", *"dep_feed")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert _row(table, 0)["action"] == "reset_breaker"
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("slash", *"nothing like this", "enter")
        await wait_for(pilot, lambda: table.row_count == 0)
        assert "0 of 2 match" in str(table.border_title)
