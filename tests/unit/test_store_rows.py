"""Row converters never raise on what a careless producer writes; events become Events."""

from __future__ import annotations

import math

import orjson
import pytest

from oos_tui.models import Severity, StoreEvent
from oos_tui.store.rows import (
    audit_from_row,
    breaker_from_row,
    dead_letter_from_row,
    parse_json,
    select_list,
    store_event_from_row,
    store_event_to_event,
    task_from_row,
    to_ts,
)
from oos_tui.store.schema import COLUMNS

T0 = 1759111219.48  # 2025-09-29T02:00:19.480Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-29T02:00:19.480Z", T0),
        ("2025-09-29T02:00:19.480", T0),
        ("2025-09-29 02:00:19.480", T0),
        ("2025-09-29T04:00:19.480+02:00", T0),
        (" 2025-09-29T02:00:19.480Z ", T0),
        (b"2025-09-29T02:00:19.480Z", T0),
        (T0, T0),
        (None, None),
        ("", None),
        ("yesterday", None),
        ("2025-13-45T99:00:00", None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_to_ts_reads_iso_variants_and_gives_none_otherwise(text: object, expected: float | None):
    got = to_ts(text)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


def test_parse_json_keeps_bad_json_as_the_raw_string() -> None:
    assert parse_json('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_json("{not json") == "{not json"
    assert parse_json("") == ""
    assert parse_json(None) is None
    assert parse_json(5) == 5


def test_task_from_an_all_null_row_takes_the_contracts_defaults() -> None:
    task = task_from_row([None] * len(COLUMNS["tasks"]))
    assert task.id == 0
    assert task.queue == "" and task.status == ""
    assert task.payload == "{}"
    assert task.attempts == 0 and task.max_attempts == 10
    assert task.next_attempt_at is None and task.created_at is None and task.updated_at is None
    assert task.worker_id is None and task.last_error is None


def test_task_tolerates_wrong_types() -> None:
    row = [
        "7", "q", "t", b"{}", "pending", "high", "2", 3.0,
        "not a time", 12, None, "2025-09-29T02:00:19.480Z", 20,
    ]  # fmt: skip
    task = task_from_row(row)
    assert task.id == 7
    assert task.payload == "{}"
    assert task.priority == 0  # "high" is no number
    assert task.attempts == 2 and task.max_attempts == 3
    assert task.next_attempt_at is None
    assert task.worker_id == "12"
    assert task.created_at == pytest.approx(T0)
    assert task.updated_at == 20.0


def test_dead_letter_and_its_first_error_line() -> None:
    row = [1, 2, "q", "t", '{"item_id": "x"}', 10, "\n  Error: boom  \nTraceback", "w", "bad"]
    dl = dead_letter_from_row(row)
    assert (dl.id, dl.task_id, dl.attempts) == (1, 2, 10)
    assert dl.error_first_line == "Error: boom"
    assert dl.failed_at is None
    empty = dead_letter_from_row([None] * len(COLUMNS["dead_letter"]))
    assert empty.error == "" and empty.error_first_line == "" and empty.failed_at is None


def test_breaker_defaults_and_rate() -> None:
    row = ["w1", "open", 10, None, 3, 1, "2025-09-29T02:00:19.480Z", None, "boom", None]
    breaker = breaker_from_row(row)
    assert breaker.failure_threshold == 10
    assert breaker.opened_at == pytest.approx(T0)
    assert breaker.retry_at is None and breaker.updated_at is None
    assert breaker.failure_rate == pytest.approx(0.75)


def test_audit_entry_parses_detail_and_keeps_bad_json() -> None:
    good = audit_from_row([3, "2025-09-29T02:00:19.480Z", "ana", "retry", "dead_letter:4",
                           '{"before": {"id": 4}}', "ok"])  # fmt: skip
    assert good.detail == {"before": {"id": 4}}
    assert good.at == pytest.approx(T0)
    bad = audit_from_row([4, None, None, "purge", "store", "{oops", "error"])
    assert bad.detail == "{oops" and bad.at is None and bad.operator == ""


def _event_row(**over: object) -> list[object]:
    base: dict[str, object] = {
        "rowid": 42,
        "id": "e-1",
        "timestamp": "2025-09-29T02:00:19.480Z",
        "system": "asr",
        "event_type": "task_failed",
        "severity": "error",
        "title": "Transcription failed",
        "description": "Transcription failed",
        "data": '{"item_id": "TechPodcast_001", "system": "mine"}',
        "tags": '["asr", "gpu"]',
        "correlation_id": "c-9",
        "source_component": "worker_1",
        "duration_ms": 1500,
        "metadata": '{"host": "h1"}',
    }
    base.update(over)
    return list(base.values())


def test_store_event_from_row_tolerates_nulls_and_bad_json() -> None:
    row = _event_row(
        timestamp=None, data="{broken", tags="asr, gpu", metadata=None, duration_ms="n/a"
    )
    event = store_event_from_row(row)
    assert math.isnan(event.ts)
    assert event.data == "{broken"
    assert event.tags == ("asr", "gpu")
    assert event.metadata is None
    assert event.duration_ms is None
    nulls = store_event_from_row([1] + [None] * len(COLUMNS["events"]))
    assert nulls.title == "" and nulls.tags == () and nulls.correlation_id is None


def test_store_event_to_event_shape() -> None:
    event = store_event_to_event(store_event_from_row(_event_row()))
    assert event.kind == "store"
    assert event.ts == pytest.approx(T0)
    assert event.severity is Severity.ERROR
    assert event.source == "worker_1"
    assert event.event_type == "task_failed"
    assert event.message == "Transcription failed"  # description equal to the title: once
    assert event.item_id == "TechPodcast_001"
    assert event.correlation_id == "c-9"
    assert event.tags == ("asr", "gpu")
    assert (event.file, event.line, event.offset) == ("events", None, 42)
    # The producer's own keys win; the row's other columns are reachable in data.
    assert event.data["system"] == "mine"
    assert event.data["description"] == "Transcription failed"
    assert event.data["metadata"] == {"host": "h1"}
    assert event.data["duration_ms"] == 1500
    raw = orjson.loads(event.raw)
    assert raw["id"] == "e-1" and raw["system"] == "asr" and raw["rowid"] == 42
    assert "\n" not in event.raw


def test_store_event_message_adds_the_first_line_of_a_different_description() -> None:
    row = _event_row(description="\nGPU out of memory\nat layer 3", source_component=None)
    event = store_event_to_event(store_event_from_row(row))
    assert event.message == "Transcription failed — GPU out of memory"
    assert event.source == "asr"  # no component: the system
    untitled = store_event_to_event(store_event_from_row(_event_row(title="")))
    assert untitled.message == "Transcription failed"


def test_store_event_with_non_object_data_keeps_it_whole() -> None:
    event = store_event_to_event(
        store_event_from_row(_event_row(data="[1, 2]", severity="bogus", timestamp="x"))
    )
    assert event.data["data"] == [1, 2]
    assert event.data["system"] == "asr"
    assert event.item_id is None
    assert event.severity is Severity.INFO
    assert math.isnan(event.ts)
    assert orjson.loads(event.raw)["timestamp"] is None


def test_numeric_item_id_is_text() -> None:
    se = StoreEvent(
        id="x", rowid=1, ts=T0, system="s", event_type="t", severity="warn", title="t",
        description="", data={"item_id": 17}, tags=(), correlation_id=None,
        source_component=None, duration_ms=None, metadata={},
    )  # fmt: skip
    event = store_event_to_event(se)
    assert event.item_id == "17"
    assert event.severity is Severity.WARNING


def test_select_list_reads_absent_columns_as_null() -> None:
    cols = select_list("dead_letter", {"id", "task_id", "queue", "error"})
    assert cols.startswith('"id", "task_id", "queue", NULL AS "task_type"')
    assert '"error"' in cols and 'NULL AS "failed_at"' in cols
    assert select_list("events", None, rowid=True).startswith('rowid, "id", "timestamp"')
