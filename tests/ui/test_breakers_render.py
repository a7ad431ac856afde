"""The Breakers screen's pure parts: order, bars, column plan, text of every pane, confirmation."""

from __future__ import annotations

import dataclasses

from rich.text import Text

from oos_tui.breaker_history import Transition
from oos_tui.models import Breaker
from oos_tui.screens.breakers import reset_confirmation
from oos_tui.widgets.breaker_detail import render_breaker_detail, what_happens_next
from oos_tui.widgets.breaker_table import (
    COLUMNS,
    breaker_rows,
    plan_columns,
    progress_bar,
    sort_breakers,
    state_class,
)
from oos_tui.widgets.transition_list import render_transitions

NOW = 1_759_111_200.0
HOSTILE = "bad \x1b[31mred\x1b[0m [bold]markup[/bold] \x1b]52;c;ZXZpbA==\x07 token=s3cr3tvalue"


def breaker(name: str, state: str = "closed", failures: int = 0, **kw: object) -> Breaker:
    fields: dict[str, object] = {
        "name": name,
        "state": state,
        "consecutive_failures": failures,
        "failure_threshold": 10,
        "total_failures": 5,
        "total_successes": 95,
        "opened_at": None,
        "retry_at": None,
        "last_error": None,
        "updated_at": NOW - 30,
    }
    fields.update(kw)
    return Breaker(**fields)  # type: ignore[arg-type]


OPEN = breaker("w_open", "open", 10, opened_at=NOW - 240, retry_at=NOW + 60, last_error="HTTP 503")
HALF = breaker("w_half", "half_open", 0, opened_at=NOW - 600, retry_at=NOW - 5)
HOT = breaker("w_hot", "closed", 7)
COOL = breaker("w_cool", "closed", 1)
IDLE = breaker("w_idle", "closed", 0)


def test_order_is_open_half_open_then_closest_to_a_trip() -> None:
    older = dataclasses.replace(OPEN, name="w_open_longer", opened_at=NOW - 900)
    odd = breaker("w_odd", "tripping")
    shuffled = [IDLE, COOL, odd, HOT, HALF, OPEN, older]
    assert [b.name for b in sort_breakers(shuffled)] == [
        "w_open_longer",
        "w_open",
        "w_half",
        "w_odd",
        "w_hot",
        "w_cool",
        "w_idle",
    ]


def test_progress_bar() -> None:
    assert progress_bar(HOT) == ("▰" * 7, "▱" * 3)
    assert progress_bar(IDLE) == ("", "▱" * 10)
    assert progress_bar(dataclasses.replace(HOT, consecutive_failures=1, failure_threshold=20)) == (
        "▰",
        "▱" * 9,
    )
    assert progress_bar(dataclasses.replace(HOT, consecutive_failures=30)) == ("▰" * 10, "")
    assert progress_bar(dataclasses.replace(HOT, failure_threshold=0)) == ("▰" * 10, "")


def test_state_classes() -> None:
    assert state_class("open") == "breaker-table--open"
    assert state_class("half_open") == "breaker-table--half-open"
    assert state_class("closed") == "breaker-table--closed"
    assert state_class("weird") == "breaker-table--unknown"


def test_narrow_table_keeps_the_required_columns() -> None:
    columns, rows = breaker_rows([IDLE, OPEN, HOT], NOW, 80)
    assert [c.key for c in columns] == ["state", "name", "trip", "retry", "error"]
    assert [k for k, _ in rows] == ["w_open", "w_hot", "w_idle"]
    cells = {k: [c.plain for c in v] for k, v in rows}
    assert cells["w_open"] == ["✕ open", "w_open", "10/10 ▰▰▰▰▰▰▰▰▰▰", "in 1m00s", "HTTP 503"]
    assert cells["w_hot"][2] == " 7/10 ▰▰▰▰▰▰▰▱▱▱"
    assert cells["w_idle"][-1] == "-"


def test_wide_table_adds_rate_times_and_totals() -> None:
    columns, rows = breaker_rows([OPEN, HALF], NOW, 160)
    assert [c.key for c in columns] == [
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
    cells = {k: [c.plain.strip() for c in v] for k, v in rows}
    assert cells["w_half"][:8] == [
        "◐ half-open",
        "w_half",
        "0/10 ▱▱▱▱▱▱▱▱▱▱",
        "5.0%",
        "5",
        "95",
        "10m00s",
        "-",
    ]


def test_long_names_are_cut_before_the_last_error_disappears() -> None:
    long = breaker("worker_with_a_remarkably_long_name_indeed", "closed", 3, last_error="boom")
    columns, rows = breaker_rows([long, OPEN], NOW, 80)
    cells = dict(rows)[long.name]
    keys = [c.key for c in columns]
    name = cells[keys.index("name")].plain
    assert name.endswith("…") and len(name) < len(long.name)
    assert cells[keys.index("error")].plain == "boom"
    total = sum(
        max(len(c.label), max(r[i].cell_len for _, r in rows)) + 2 for i, c in enumerate(columns)
    )
    assert total + 2 <= 80


def test_plan_columns_gives_the_rest_to_the_last_error() -> None:
    cells = [{c.key: Text("x" * 4) for c in COLUMNS}]
    columns, widths = plan_columns(cells, 200)
    assert len(columns) == len(COLUMNS)
    # every other column: its label (wider than 4 cells) plus padding; then padding and scrollbar
    used = sum(max(len(c.label), 4) + 2 for c in COLUMNS if c.key != "error") + 2 + 2
    assert widths == {"name": len("breaker"), "error": 200 - used}
    narrow, widths = plan_columns(cells, 60)
    assert [c.key for c in narrow] == ["state", "name", "trip", "retry", "error"]
    assert widths["error"] >= 12


def test_table_text_is_sanitized_and_never_markup() -> None:
    evil = breaker("w_[b]evil[/b]\x1b[2J", "open", 10, last_error=HOSTILE + "\nsecond line")
    _, rows = breaker_rows([evil], NOW, 400)
    plain = " ".join(c.plain for c in rows[0][1])
    assert "\x1b" not in plain and "\x07" not in plain
    assert "w_[b]evil[/b]\\x1b[2J" in plain
    assert "[bold]markup[/bold]" in plain and "token=***" in plain
    assert "second line" not in plain  # first line only in the table


def test_name_filter() -> None:
    _, rows = breaker_rows([OPEN, HALF, HOT], NOW, 80, name_filter="HO")
    assert [k for k, _ in rows] == ["w_hot"]


def test_detail_has_every_field_and_the_whole_error() -> None:
    b = dataclasses.replace(OPEN, last_error=HOSTILE + "\n  at line 2")
    history = (
        Transition(NOW - 240, "w_open", "closed", "open", "store", "10/10 consecutive failures"),
        Transition(NOW - 100, "other", "closed", "open", "store"),
    )
    text = render_breaker_detail(b, history, NOW).plain
    for expected in (
        "✕ open  w_open",
        "10/10 consecutive failures",
        "5 failed · 95 ok",
        "5.0% of calls failed",
        "09-29 01:56:00, 4m00s ago",
        "09-29 02:01:00, in 1m00s",
        "09-29 01:59:30",
        "calls blocked until retry_at",
        "token=***",
        "\\x1b[31mred",
        "\n  at line 2",
        "09-29 01:56:00 ● closed → ✕ open store",
    ):
        assert expected in text, expected
    assert "other" not in text
    assert "\x1b" not in text
    assert render_breaker_detail(None, (), NOW, "no circuit breakers in the store").plain == (
        "no circuit breakers in the store"
    )


def test_what_happens_next() -> None:
    assert "trial call decides" in what_happens_next(HALF, NOW)
    assert what_happens_next(HOT, NOW) == "3 more consecutive failures open it"
    assert what_happens_next(dataclasses.replace(HOT, consecutive_failures=9), NOW) == (
        "one more consecutive failure opens it"
    )
    assert "after 10 consecutive failures" in what_happens_next(IDLE, NOW)
    assert "retry time passed" in what_happens_next(OPEN, NOW + 120)


def test_transitions_wide_and_narrow() -> None:
    history = (
        Transition(NOW - 240, "w_open", "closed", "open", "store", "10/10 consecutive failures"),
        Transition(NOW - 5, "w_half", None, "half_open", "log", "breaker w_half \x1b[2J half-open"),
    )
    wide = render_transitions(history, 100).plain.splitlines()
    assert wide == [
        "09-29 01:59:55  w_half  log    ? unknown → ◐ half-open  breaker w_half \\x1b[2J half-open",
        "09-29 01:56:00  w_open  store  ● closed → ✕ open  10/10 consecutive failures",
    ]
    narrow = render_transitions(history, 34).plain.splitlines()
    assert narrow[:2] == ["09-29 01:59:55 w_half", "  ? unknown → ◐ half-open log · b…"]
    assert all(len(line) <= 34 for line in narrow)
    only = render_transitions(history, 100, "w_open").plain.splitlines()
    assert len(only) == 1 and "w_open" in only[0]
    assert "no transitions of this breaker" in render_transitions(history, 100, "w_x").plain
    assert "no transitions seen yet" in render_transitions((), 100).plain
    assert len(render_transitions(history, 100, text_filter="consecutive").plain.splitlines()) == 1


def test_confirmation_for_each_state() -> None:
    title, lines, warnings = reset_confirmation(OPEN, NOW)
    assert title == "Reset breaker w_open"
    assert "state     ✕ open" in lines and "retry     in 1m00s" in lines
    assert "last err  HTTP 503" in lines
    assert warnings == [
        "it opened 4m00s ago after 10 consecutive failures; its worker will resume at once"
    ]
    assert "without waiting" in reset_confirmation(HALF, NOW)[2][0]
    assert "the count goes back to 0" in reset_confirmation(HOT, NOW)[2][0]
    assert "nothing to reset" in reset_confirmation(IDLE, NOW)[2][0]


def test_confirmation_title_never_carries_markup() -> None:
    evil = breaker("w[b]x[/b]", "open", 10, opened_at=NOW - 5, retry_at=NOW + 5)
    title, lines, _ = reset_confirmation(evil, NOW)
    assert title == "Reset this breaker"
    assert "breaker   w[b]x[/b]" in lines
