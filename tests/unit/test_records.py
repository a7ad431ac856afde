"""RecordAssembler: tracebacks joined to their record, orphans, file changes, bounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oos_tui.sources.records import RecordAssembler
from oos_tui.sources.tail import RawLine, Tailer

_START = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def starts(data: bytes) -> bool:
    return _START.match(data) is not None


def raw(datas: list[bytes], *, path: str = "stage.log", first: int = 1) -> list[RawLine]:
    out, offset = [], 0
    for i, data in enumerate(datas):
        out.append(RawLine(data, offset, first + i, path))
        offset += len(data) + 1
    return out


TRACEBACK = [
    b"2025-11-27 14:09:15,123 - INFO - asr - starting",
    b"2025-11-27 14:09:16,001 - ERROR - asr - failed",
    b"Traceback (most recent call last):",
    b'  File "asr.py", line 3, in <module>',
    b"ValueError: bad \xff sample",
    b"2025-11-27 14:09:17,500 - INFO - asr - retrying",
]


def test_traceback_joins_the_record_it_follows() -> None:
    asm = RecordAssembler(starts)
    records = asm.feed(raw(TRACEBACK))
    assert [r.data for r in records] == [TRACEBACK[0], b"\n".join(TRACEBACK[1:5])]
    error = records[1]
    second = len(TRACEBACK[0]) + 1
    assert (error.number, error.offset, error.path, error.truncated) == (
        2,
        second,
        "stage.log",
        False,
    )
    assert asm.pending
    last = second + sum(len(x) + 1 for x in TRACEBACK[1:5])
    assert asm.flush() == [RawLine(TRACEBACK[5], last, 6, "stage.log")]
    assert not asm.pending
    assert asm.flush() == []


def test_a_record_stays_pending_until_the_next_start_across_feeds() -> None:
    asm = RecordAssembler(starts)
    lines = raw(TRACEBACK)
    assert asm.feed(lines[1:3]) == []
    assert asm.feed(lines[3:5]) == []
    (record,) = asm.feed(lines[5:])
    assert record.data.splitlines() == TRACEBACK[1:5]


def test_single_line_record_passes_through_unchanged() -> None:
    asm = RecordAssembler(starts)
    lines = raw(TRACEBACK[:1] + TRACEBACK[5:])
    assert asm.feed(lines) == [lines[0]]
    assert asm.flush() == [lines[1]]


def test_orphan_continuations_form_one_record_of_their_own() -> None:
    asm = RecordAssembler(starts)
    lines = raw([b"  File 'x.py', line 9", b"KeyError: 'k'", TRACEBACK[0]], first=40)
    (orphan,) = asm.feed(lines)
    assert orphan == RawLine(b"  File 'x.py', line 9\nKeyError: 'k'", 0, 40, "stage.log")
    assert not starts(orphan.data)


def test_another_file_ends_the_pending_record() -> None:
    asm = RecordAssembler(starts)
    old = raw(TRACEBACK[1:3], path="stage.log.1", first=7)
    new = raw([b"continuation in the new file"], path="stage.log")
    records = asm.feed(old + new)
    assert [(r.path, r.data) for r in records] == [("stage.log.1", b"\n".join(TRACEBACK[1:3]))]
    assert asm.flush() == new


def test_line_numbers_going_back_end_the_pending_record() -> None:
    asm = RecordAssembler(starts)
    before = raw(TRACEBACK[1:3], first=10)
    after_truncation = raw([b"orphan after truncation"], first=1)
    records = asm.feed(before + after_truncation)
    assert [r.number for r in records] == [10]
    assert asm.flush()[0].data == b"orphan after truncation"


def test_line_bound_drops_later_lines_and_marks_truncated() -> None:
    asm = RecordAssembler(starts, max_record_lines=3)
    body = [TRACEBACK[1]] + [b"  frame %d" % i for i in range(10)]
    records = asm.feed(raw([*body, TRACEBACK[0]]))
    assert records[0].data.splitlines() == body[:3]
    assert records[0].truncated
    assert asm.flush()[0].truncated is False


def test_byte_bound_keeps_exactly_the_bound() -> None:
    asm = RecordAssembler(starts, max_record_bytes=64)
    body = [TRACEBACK[1], b"x" * 30, b"short"]
    (record,) = asm.feed(raw([*body, TRACEBACK[0]]))
    assert len(record.data) == 64
    assert record.data == (TRACEBACK[1] + b"\n" + b"x" * 30)[:64]
    assert record.truncated


def test_first_line_longer_than_the_byte_bound_is_cut() -> None:
    asm = RecordAssembler(starts, max_record_bytes=10)
    (record,) = asm.feed(raw([TRACEBACK[0], TRACEBACK[5]]))
    assert (record.data, record.truncated) == (TRACEBACK[0][:10], True)


def test_a_truncated_line_makes_its_record_truncated() -> None:
    asm = RecordAssembler(starts)
    lines = raw(TRACEBACK[1:3])
    lines[1] = RawLine(lines[1].data, lines[1].offset, lines[1].number, lines[1].path, True)
    assert asm.feed(lines) == []
    (record,) = asm.flush()
    assert record.data == b"\n".join(TRACEBACK[1:3])
    assert record.truncated


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        RecordAssembler(starts, max_record_lines=0)


def test_records_from_a_followed_file(tmp_path: Path) -> None:
    log = tmp_path / "stage.log"
    log.write_bytes(b"\n".join(TRACEBACK[:4]) + b"\n")
    tailer = Tailer(log)
    asm = RecordAssembler(starts)
    assert [r.number for r in asm.feed(tailer.poll().lines)] == [1]
    with open(log, "ab") as f:
        f.write(TRACEBACK[4] + b"\n" + TRACEBACK[5] + b"\n")
    (record,) = asm.feed(tailer.poll().lines)
    assert record.data == b"\n".join(TRACEBACK[1:5])
    assert record.number == 2
