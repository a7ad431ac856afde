"""Pilot tests of the Queues screen: figures, backing-off, dead letters, filter, groups, actions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from ui.test_queues_support import build_on_copy, copy_workspace, query, wait_for

from oos_tui.app import OosApp
from oos_tui.screens.confirm import ConfirmScreen
from oos_tui.screens.queues import QueuesScreen
from oos_tui.widgets.backoff_table import BackoffTable
from oos_tui.widgets.dead_letter_detail import DeadLetterDetail
from oos_tui.widgets.dead_letter_table import DeadLetterTable
from oos_tui.widgets.key_bar import KeyBar
from oos_tui.widgets.queue_table import QueueTable
from oos_tui.widgets.where_from import WhereFrom

Notes = list[tuple[str, str]]


def _capture(app: OosApp) -> Notes:
    notes: Notes = []

    def notify(message: str, **kw: object) -> None:
        notes.append((str(message), str(kw.get("severity", "information"))))

    app.notify = notify  # type: ignore[method-assign]
    return notes


def _cells(table: QueueTable | BackoffTable | DeadLetterTable, key: object) -> dict[str, str]:
    return {
        str(col.key.value): table.get_cell(str(key), col.key).plain for col in table.ordered_columns
    }


async def _open(pilot: Pilot, app: OosApp) -> DeadLetterTable:
    await pilot.press("3")
    await wait_for(pilot, lambda: isinstance(app.screen, QueuesScreen))
    table = app.screen.query_one(DeadLetterTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    return table


async def _select(pilot: Pilot, table: DeadLetterTable, dead_letter_id: int) -> None:
    keys = [str(r.id) for r in table.matching]
    table.move_cursor(row=keys.index(str(dead_letter_id)), animate=False)
    await pilot.pause()


@pytest.fixture
def workspace_copy(fixture_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture workspace: actions write to it."""
    return copy_workspace(fixture_workspace, tmp_path)


# -- what is shown ---------------------------------------------------------------------


async def test_queue_table_shows_the_numbers(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app)
        table = app.screen.query_one(QueueTable)
        assert [str(k.value) for k in table.rows] == ["asr", "ingest", "publish"]
        ingest = _cells(table, "ingest")
        assert ingest["pending"] == "1204 ▲"  # over the threshold: a mark, not only colour
        assert ingest["dead"] == "3" and ingest["failed"] == "3"
        assert ingest["oldest"] == "1h00m"
        assert ingest["workers"] == "5"
        asr = _cells(table, "asr")
        assert (asr["pending"], asr["processing"], asr["oldest"], asr["workers"]) == (
            "16",
            "3",
            "10m00s",
            "1",
        )
        publish = _cells(table, "publish")
        assert (publish["completed"], publish["rate"], publish["oldest"]) == ("40", "0.67", "-")
        assert "▲ 1 over" in str(table.border_title)


async def test_wide_queue_table_says_alert_in_words(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, app)
        table = app.screen.query_one(QueueTable)
        assert _cells(table, "ingest")["alert"] == "▲ over 1,000"
        assert _cells(table, "ingest")["pending"] == "1,204"
        assert _cells(table, "asr")["alert"] == "ok"


async def test_backing_off_tasks_count_down(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app)
        table = app.screen.query_one(BackoffTable)
        assert table.row_count == 4
        first = _cells(table, 1260)
        assert (first["attempt"], first["retry"], first["error"]) == (
            "2/10",
            "in 30s",
            "timeout after 30s",
        )
        assert _cells(table, 1263)["retry"] == "in 3m30s"
        assert _cells(table, 1263)["attempt"] == "5/10"


async def test_worker_rule_is_stated_when_the_queue_table_is_focused(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app)
        table = app.screen.query_one(QueueTable)
        table.focus()
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.pause()
        where = str(app.screen.query_one(WhereFrom).render())
        assert "ingest: 1,204 pending → 5 workers" in where
        assert "<50→1 <200→2 <500→3 <1000→4 else 5" in where


async def test_dead_letters_newest_first_and_hostile_text_escaped(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app)
        assert [r.id for r in table.matching] == [7, 6, 5, 4, 3, 2, 1]
        hostile = _cells(table, 7)["error"]
        assert "\x1b" not in hostile and "\x07" not in hostile
        assert "\\x1b[31mred" in hostile and "[bold]markup[/bold]" in hostile
        assert "s3cr3tvalue" not in hostile and "token=***" in hostile
        # A traceback's error column is its exception line.
        assert _cells(table, 5)["error"].startswith("RuntimeError: CUDA out of memory")
        assert str(table.border_title) == "Dead letters  7"


async def test_slash_filters_dead_letters_live(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app)
        await pilot.press("slash", *"queue:ingest")
        await wait_for(pilot, lambda: table.row_count == 3)
        assert {r.queue for r in table.matching} == {"ingest"}
        await pilot.press(*" 456")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert table.matching[0].id == 2
        assert "1 of 7 match" in str(table.border_title)
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 7)
        assert app.focused is table
        await pilot.press("slash", *"cuda")  # error text, ASCII case-insensitive
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("enter")  # keeps the filter
        await pilot.pause()
        assert table.filter_text == "cuda" and table.row_count == 2


async def test_grouped_view_counts_per_signature(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        assert table.grouped and table.row_count == 4
        counts = [(table.get_row_at(i)[0].plain, table.get_row_at(i)[-1].plain) for i in range(4)]
        assert counts[0] == ("3", "HTTP <n> from https://bad.example.com/feed/<n>")
        assert counts[1] == ("2", "RuntimeError: CUDA out of memory (tried <n> MiB)")
        assert sorted(c for c, _ in counts[2:]) == ["1", "1"]
        assert "4 signatures" in str(table.border_title)
        # The filter narrows the groups too.
        await pilot.press("slash", *"queue:asr", "enter")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert table.get_row_at(0)[0].plain == "2"
        await pilot.press("s")
        await pilot.pause()
        assert not table.grouped and table.row_count == 2


async def test_enter_shows_whole_error_and_pretty_payload(
    fixture_app: Callable[..., OosApp],
) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot, app)
        detail = app.screen.query_one(DeadLetterDetail)
        assert not detail.display
        await _select(pilot, table, 5)
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display
        # At 80 columns the detail takes the room of the queue and backing-off tables.
        assert not app.screen.query_one(QueueTable).display
        text = str(detail.query_one("Static").render())
        assert "Traceback (most recent call last):" in text
        assert "RuntimeError: CUDA out of memory (tried 4096 MiB)" in text
        assert '"nested": {' in text and '"item_id": "item_1268"' in text
        assert "breaker worker_asr_1 closed" in text
        await pilot.press("k")  # the detail follows the cursor
        await pilot.pause()
        assert "dead letter 6" in str(detail.query_one("Static").render())
        await pilot.press("enter")
        await pilot.pause()
        assert not detail.display and app.screen.query_one(QueueTable).display


async def test_command_argument_selects_the_queue(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # What enter on the overview's queue alert does: Queues, given the queue's name.
        await app.open_screen("queues", "ingest")
        await wait_for(pilot, lambda: isinstance(app.screen, QueuesScreen))
        screen = app.screen
        table = screen.query_one(DeadLetterTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.pause()
        queues = screen.query_one(QueueTable)
        assert app.focused is queues and queues.selected_queue == "ingest"
        assert table.filter_text == "queue:ingest"
        # The dead-letter growth alert opens the grouped view.
        assert isinstance(screen, QueuesScreen)
        screen.apply_command_argument("dead-letters")
        await pilot.pause()
        assert app.focused is table and table.grouped


# -- actions -----------------------------------------------------------------------------


async def test_retry_one_through_confirmation(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await _select(pilot, table, 2)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        text = " ".join(str(s.render()) for s in dialog.query("Static"))
        assert "Dead letter 2 · task 1265 · ingest / fetch · worker worker_ingest_1" in text
        assert "error: HTTP 503 from https://bad.example.com/feed/456" in text
        assert "worker breaker open: worker_ingest_1 (1 row)" in text
        assert app.focused is not None and app.focused.id == "cancel"  # the default
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes))
        await wait_for(pilot, lambda: table.row_count == 6)
    assert notes[0][1] == "information"
    assert notes[0][0].startswith("retried dead letter 2: task ")
    task_id = int(notes[0][0].split("task ")[1].split()[0])
    assert query(workspace_copy, "SELECT count(*) FROM dead_letter WHERE id = 2") == [(0,)]
    assert query(workspace_copy, "SELECT status, attempts FROM tasks WHERE id = ?", (task_id,)) == [
        ("pending", 0)
    ]
    audit = query(
        workspace_copy,
        "SELECT action, target, outcome FROM operator_actions ORDER BY id DESC LIMIT 1",
    )
    assert audit == [("retry", "dead_letter:2", "ok")]


async def test_audit_screen_shows_the_action_newest_first(workspace_copy: Path) -> None:
    from oos_tui.widgets.audit_table import AuditTable

    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await _select(pilot, table, 6)
        await pilot.press("r", "y")
        await wait_for(pilot, lambda: bool(notes))
        await pilot.press("8")
        audit = app.screen.query_one(AuditTable)
        await wait_for(pilot, lambda: audit.row_count == 2)
        first = audit.get_row_at(0)
        plain = [c.plain for c in first]
        assert "retry" in plain and "dead_letter:6" in plain and "✓ ok" in plain
        assert audit.get_row_at(1)[3].plain.startswith("breaker:dep_feed")


async def test_cancel_leaves_the_store_unchanged(workspace_copy: Path) -> None:
    before = query(workspace_copy, "SELECT * FROM dead_letter ORDER BY id")
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        for keys in (["r", "escape"], ["r", "enter"], ["R", "n"], ["P", "escape"]):
            await pilot.press(keys[0])
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press(*keys[1:])
            await wait_for(pilot, lambda: isinstance(app.screen, QueuesScreen))
        await pilot.pause(0.2)
        assert table.row_count == 7
    assert not notes
    assert query(workspace_copy, "SELECT * FROM dead_letter ORDER BY id") == before
    assert query(workspace_copy, "SELECT count(*) FROM operator_actions") == [(1,)]


async def test_retry_all_matching_the_filter(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await pilot.press("slash", *"queue:ingest", "enter")
        await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "3 dead letters matching queue=ingest:" in text
        assert "worker_ingest_1 (2 rows)" in text
        await pilot.press("y")  # 3 rows: no typing needed
        await wait_for(pilot, lambda: bool(notes))
        await wait_for(pilot, lambda: table.row_count == 0)
    assert notes == [("retried 3 dead letters", "information")]
    assert query(workspace_copy, "SELECT id FROM dead_letter ORDER BY id") == [
        (4,),
        (5,),
        (6,),
        (7,),
    ]
    assert query(
        workspace_copy,
        "SELECT action, target, outcome FROM operator_actions ORDER BY id DESC LIMIT 1",
    ) == [("retry_all", "dead_letter:queue=ingest,ids=1,2,3", "ok")]


def _add_dead_letters(ws: Path, count: int) -> None:
    con = sqlite3.connect(ws / "data" / "oos.db")
    with con:
        for n in range(count):
            cur = con.execute(
                "INSERT INTO tasks(queue, task_type, payload, status, attempts, max_attempts,"
                " created_at, updated_at) VALUES ('bulk', 'probe', '{}', 'failed', 10, 10,"
                " '2025-09-29T01:00:00.000Z', '2025-09-29T01:00:00.000Z')"
            )
            con.execute(
                "INSERT INTO dead_letter(task_id, queue, task_type, payload, attempts, error,"
                " worker_id, failed_at) VALUES (?, 'bulk', 'probe', '{}', 10, ?, 'worker_bulk',"
                " '2025-09-29T01:00:00.000Z')",
                (cur.lastrowid, f"probe failed: code {n}"),
            )
    con.close()


async def test_retry_all_above_100_needs_the_count_typed(workspace_copy: Path) -> None:
    _add_dead_letters(workspace_copy, 120)
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await wait_for(pilot, lambda: table.row_count == 127)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        text = " ".join(str(s.render()) for s in dialog.query("Static"))
        assert "127 dead letters — every dead letter (no filter):" in text
        assert "… and 122 more" in text
        assert "Type 127 and press enter" in text
        await pilot.press("y", "enter")  # "y" goes into the field and is not the count
        await pilot.pause(0.2)
        assert app.screen is dialog and not notes[1:]
        await pilot.press("backspace", *"127", "enter")
        await wait_for(pilot, lambda: any(n[0] == "retried 127 dead letters" for n in notes))
        await wait_for(pilot, lambda: table.row_count == 0)
    assert query(workspace_copy, "SELECT count(*) FROM dead_letter") == [(0,)]
    assert query(
        workspace_copy, "SELECT count(*) FROM tasks WHERE queue = 'bulk' AND status = 'pending'"
    ) == [(120,)]
    assert query(
        workspace_copy,
        "SELECT action, outcome FROM operator_actions ORDER BY id DESC LIMIT 1",
    ) == [("retry_all", "ok")]


async def test_purge_is_always_typed_and_keeps_tasks_failed(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await pilot.press("slash", *"queue:publish", "enter")
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        text = " ".join(str(s.render()) for s in dialog.query("Static"))
        assert "Type 2 and press enter" in text and "deleted for good" in text
        assert "breaker open" not in text  # a purge retries nothing
        await pilot.press("y")
        await pilot.pause(0.2)
        assert app.screen is dialog
        await pilot.press("backspace", "2", "enter")
        await wait_for(pilot, lambda: bool(notes))
    assert notes == [("purged 2 dead letters", "information")]
    assert query(workspace_copy, "SELECT count(*) FROM dead_letter WHERE queue = 'publish'") == [
        (0,)
    ]
    assert query(
        workspace_copy,
        "SELECT DISTINCT status FROM tasks WHERE queue = 'publish' AND attempts = 10",
    ) == [("failed",)]
    assert query(
        workspace_copy,
        "SELECT action, outcome FROM operator_actions ORDER BY id DESC LIMIT 1",
    ) == [("purge", "ok")]


async def test_group_retry_acts_on_the_selected_group(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await pilot.press("s", "j")  # the CUDA group, second biggest
        await pilot.pause()
        assert table.selected_group is not None and table.selected_group.count == 2
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "2 dead letters in the error group “RuntimeError: CUDA out of memory" in text
        assert "breaker open" not in text  # worker_asr_1 is closed
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes))
    assert notes == [("retried 2 dead letters", "information")]
    assert query(workspace_copy, "SELECT count(*) FROM dead_letter WHERE queue = 'asr'") == [(0,)]


async def test_stale_confirmation_is_refused_by_the_core(workspace_copy: Path) -> None:
    app = build_on_copy(workspace_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        await _select(pilot, table, 3)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        # Another operator retries the same row while this dialog is open.
        con = sqlite3.connect(workspace_copy / "data" / "oos.db")
        with con:
            con.execute("DELETE FROM dead_letter WHERE id = 3")
        con.close()
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes))
    assert notes == [("retry refused: dead letter 3 was already retried (or purged)", "warning")]


# -- read-only -----------------------------------------------------------------------


async def test_read_only_greys_the_keys_and_refuses(workspace_copy: Path) -> None:
    before = query(workspace_copy, "SELECT * FROM dead_letter ORDER BY id")
    app = build_on_copy(workspace_copy, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        table = await _open(pilot, app)
        active = app.screen.active_bindings
        for key in ("r", "R", "P"):
            assert key in active and active[key].enabled is False  # shown, greyed
        assert active["enter"].enabled and active["s"].enabled
        bar = app.screen.query_one(KeyBar)
        shown = bar.render()
        for key in ("r", "R", "P"):  # greyed on screen too: dim, not only another colour
            at = next(begin for begin, _end, k in bar._spans if k == key)
            styles = [s.style for s in shown.spans if s.start == at]
            assert styles and all(getattr(st, "dim", False) for st in styles), key
        for key in ("r", "R", "P"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, QueuesScreen)
        assert [n[0] for n in notes] == [
            "read-only mode (--read-only): retry and purge are off"
        ] * 3
        # The core refuses as well, should a request get past the keys.
        screen = app.screen
        assert isinstance(screen, QueuesScreen)
        notes.clear()
        from oos_tui.actions.dead_letter import DeadLetterFilter
        from oos_tui.screens.queues import ActionPlan

        row = table.matching[0]
        screen._run_action(ActionPlan("retry", False, (row,), DeadLetterFilter(ids=(row.id,)), ""))
        await wait_for(pilot, lambda: bool(notes))
    assert notes == [("retry refused: read-only mode: nothing changed", "warning")]
    assert query(workspace_copy, "SELECT * FROM dead_letter ORDER BY id") == before
    assert query(workspace_copy, "SELECT count(*) FROM operator_actions") == [(1,)]


async def test_grouped_view_greys_single_retry(fixture_app: Callable[..., OosApp]) -> None:
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        notes = _capture(app)
        await _open(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.active_bindings["r"].enabled is False
        assert app.screen.active_bindings["R"].enabled is True
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, QueuesScreen)
        assert "press s for rows, or R" in notes[0][0]
