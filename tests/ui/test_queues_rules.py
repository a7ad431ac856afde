"""The Queues and Audit screens' rules without a running app: rows, filter, confirmations."""

from __future__ import annotations

from oos_tui.actions.dead_letter import DeadLetterFilter
from oos_tui.models import AuditEntry, Breaker, DeadLetter, QueueStats, Task
from oos_tui.sanitize import Sanitizer
from oos_tui.screens.queues import BULK_TYPED_ABOVE, ActionPlan, confirmation
from oos_tui.widgets.audit_table import audit_rows, result_message
from oos_tui.widgets.backoff_table import backing_off, backoff_rows
from oos_tui.widgets.dead_letter_detail import pretty_json, render_dead_letter
from oos_tui.widgets.dead_letter_table import dead_letter_rows, parse_filter
from oos_tui.widgets.queue_table import compact, queue_rows, worker_rule
from oos_tui.widgets.styled_table import Column, fit_columns, needed_width

NOW = 1_759_111_200.0
SAN = Sanitizer()


def _dl(i: int, worker: str = "worker_1", error: str = "boom", queue: str = "q") -> DeadLetter:
    return DeadLetter(i, 100 + i, queue, "t", '{"k": 1}', 10, error, worker, NOW - i)


def _breaker(name: str, state: str) -> Breaker:
    return Breaker(name, state, 10, 10, 10, 0, None, None, None, None)


def _texts(cells: tuple[tuple[str, str], ...]) -> list[str]:
    return [text for text, _role in cells]


def test_parse_filter_maps_to_the_core_filter() -> None:
    assert parse_filter("") == DeadLetterFilter()
    assert parse_filter("queue:asr type:transcribe CUDA  out") == DeadLetterFilter(
        queue="asr", task_type="transcribe", error="CUDA out"
    )
    assert parse_filter("task_type:fetch") == DeadLetterFilter(task_type="fetch")
    # "RuntimeError:" and a bare "queue:" are error text, not keys.
    assert parse_filter("RuntimeError: queue:") == DeadLetterFilter(error="RuntimeError: queue:")


def test_queue_rows_mark_the_threshold_and_advise_workers() -> None:
    queues = [
        QueueStats("a", pending=1001, completed=3, oldest_pending_at=NOW - 90),
        QueueStats("b", pending=1000, completed_last_hour=30),
    ]
    narrow = dict(queue_rows(queues, {"a": (10, 500, 1001)}, 1000, NOW, wide=False))
    assert _texts(narrow["a"])[1] == "1001 ▲"
    assert narrow["a"][1][1] == "alert"
    assert _texts(narrow["a"])[6] == "1m30s"
    assert _texts(narrow["a"])[8] == "     ▁▄█"
    assert _texts(narrow["b"])[1] == "1000"  # at the threshold: not past it
    assert _texts(narrow["b"])[7] == "0.50"
    assert _texts(narrow["b"])[9] == "5"
    wide = dict(queue_rows(queues, {}, 1000, NOW, wide=True))
    assert _texts(wide["a"])[-1] == "▲ over 1,000" and _texts(wide["b"])[-1] == "ok"
    hostile = dict(queue_rows([QueueStats("x\x1b[2J")], {}, 1000, NOW, False, SAN.clean))
    assert _texts(hostile["x\x1b[2J"])[0] == "x\\x1b[2J"


def test_worker_rule_and_compact_numbers() -> None:
    assert worker_rule().endswith("<50→1 <200→2 <500→3 <1000→4 else 5")
    assert [compact(n) for n in (12, 99999, 123_456, 2_500_000)] == ["12", "99999", "123k", "2.5M"]


def test_backing_off_keeps_future_attempts_soonest_first() -> None:
    def task(i: int, attempts: int, nxt: float | None) -> Task:
        return Task(i, "q", "t", "{}", "pending", 0, attempts, 10, nxt, "w", "x\ny", None, None)

    tasks = [task(1, 2, NOW + 90), task(2, 0, NOW + 10), task(3, 9, NOW + 5), task(4, 3, NOW - 1)]
    assert [t.id for t in backing_off(tasks, NOW)] == [3, 1]
    rows = dict(backoff_rows(tasks, NOW, wide=False))
    assert _texts(rows[3])[3:5] == ["9/10", "in 5s"]
    assert rows[3][3][1] == "last"  # one more failure and it is a dead letter
    assert _texts(rows[1])[-1] == "x"


def test_dead_letter_rows_say_open_breakers_in_words() -> None:
    rows = [_dl(1, "worker_1"), _dl(2, "worker_2")]
    breakers = [_breaker("worker_1", "open"), _breaker("worker_2", "closed")]
    wide = dict(dead_letter_rows(rows, breakers, wide=True))
    assert _texts(wide["1"])[4] == "worker_1 (open)" and wide["1"][4][1] == "open"
    assert _texts(wide["2"])[4] == "worker_2"
    narrow = dict(dead_letter_rows(rows, breakers, wide=False))
    assert len(narrow["1"]) == 6


def test_fit_columns_gives_the_rest_to_the_flexible_one() -> None:
    cols = [Column("a", "a", 5), Column("b", "b", None, min_width=10)]
    assert needed_width(cols) == 5 + 10 + 4 + 1
    assert fit_columns(cols, 80) == [5, 80 - 5 - 4 - 1]
    assert fit_columns(cols, 10) == [5, 10]
    capped = [Column("a", "a", 5), Column("b", "b", None, min_width=10, max_width=12)]
    assert fit_columns(capped, 80) == [5, 12]


def test_typed_confirmation_rules() -> None:
    one = ActionPlan("retry", False, (_dl(1),), DeadLetterFilter(ids=(1,)), "")
    many = tuple(_dl(i) for i in range(BULK_TYPED_ABOVE + 1))
    assert one.typed is None
    assert ActionPlan("retry", True, many[:BULK_TYPED_ABOVE], DeadLetterFilter(), "").typed is None
    assert ActionPlan("retry", True, many, DeadLetterFilter(), "").typed == "101"
    assert ActionPlan("purge", True, (_dl(1),), DeadLetterFilter(), "").typed == "1"


def test_confirmation_lists_rows_warns_and_escapes() -> None:
    rows = tuple(_dl(i, "worker_1", error=f"bad \x1b[31m{i}") for i in range(7))
    plan = ActionPlan("retry", True, rows, DeadLetterFilter(ids=(1,)), "matching queue=q")
    dialog = confirmation(
        plan, [_breaker("worker_1", "open")], SAN, loaded=7, total=9000, complete=False
    )
    assert dialog._title == "Retry 7 dead letters"
    assert dialog._lines[0] == "7 dead letters matching queue=q:"
    assert dialog._lines[1] == "  #0 q/t worker_1: bad \\x1b[31m0"
    assert dialog._lines[6] == "  … and 2 more"
    assert "Only the 7 loaded rows are included (9,000 dead letters" in dialog._lines[7]
    assert dialog._warnings == [
        "worker breaker open: worker_1 (7 rows); retried tasks may fail again until it closes"
    ]
    assert all("\x1b" not in line for line in dialog._lines)
    purge = ActionPlan("purge", True, rows, DeadLetterFilter(), "— every dead letter")
    dialog = confirmation(
        purge, [_breaker("worker_1", "open")], SAN, loaded=7, total=7, complete=True
    )
    assert dialog._warnings == [] and dialog._typed == "7"


def test_detail_is_safe_and_pretty() -> None:
    row = DeadLetter(
        3, 9, "q", "t", '{"password": "hunter2", "n": [1]}', 10, "x\n  \x1b[2J", None, NOW
    )
    text = str(render_dead_letter(row, None, None, SAN))
    assert "hunter2" not in text and '"password": "***"' in text
    assert '"n": [\n    1\n  ]' in text
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "no breaker found for this worker" in text
    assert pretty_json("not json [b]", SAN) == "not json [b]"


def test_audit_rows_and_result_message() -> None:
    detail = {"result": "r\nmore"}
    entry = AuditEntry(5, NOW, "bob", "retry_all", "dead_letter:queue=q", detail, "ok")
    assert result_message(entry.detail) == "r"
    assert result_message({"error": "busy", "reason": "night"}) == "busy (reason: night)"
    assert result_message("plain") == "plain"
    ((key, cells),) = audit_rows([entry], wide=True)
    assert key == 5
    assert _texts(cells) == [
        "5", "2025-09-29 02:00:00", "bob", "retry_all", "dead_letter:queue=q", "✓ ok", "r"
    ]  # fmt: skip
    assert cells[5][1] == "ok"
