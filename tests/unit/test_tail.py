"""Tailer: growth, partial lines, truncation, rotation, deletion, bounds, on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oos_tui.sources.tail import RawLine, TailBatch, Tailer


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def drain(tailer: Tailer, limit: int = 10_000) -> tuple[list[RawLine], list[str], int]:
    """Poll until nothing is left; returns lines, note kinds and the number of polls."""
    lines: list[RawLine] = []
    kinds: list[str] = []
    for polls in range(1, limit):
        batch = tailer.poll()
        lines.extend(batch.lines)
        kinds.extend(n.kind for n in batch.notes)
        if not batch.more:
            return lines, kinds, polls
    raise AssertionError("the tailer never caught up")


def datas(lines: list[RawLine] | tuple[RawLine, ...]) -> list[bytes]:
    return [line.data for line in lines]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "oos.log"


def test_missing_file_appears_later(log: Path) -> None:
    tailer = Tailer(log)
    assert tailer.poll() == TailBatch((), (), False)
    assert tailer.inode is None
    log.write_bytes(b"one\ntwo\n")
    batch = tailer.poll()
    assert [n.kind for n in batch.notes] == ["appeared"]
    assert batch.notes[0].message == "oos.log appeared"
    assert batch.lines == (
        RawLine(b"one", 0, 1, str(log)),
        RawLine(b"two", 4, 2, str(log)),
    )
    assert tailer.inode == log.stat().st_ino


def test_growth_between_polls(log: Path) -> None:
    log.write_bytes(b"a\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"a"]
    assert tailer.poll().lines == ()
    append(log, b"b\nc\n")
    lines = tailer.poll().lines
    assert [(x.data, x.offset, x.number) for x in lines] == [(b"b", 2, 2), (b"c", 4, 3)]
    assert (tailer.offset, tailer.line) == (6, 4)


def test_partial_line_completed_across_polls(log: Path) -> None:
    log.write_bytes(b"first\nsec")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"first"]
    append(log, b"ond pa")
    assert tailer.poll().lines == ()
    append(log, b"rt\nthird")
    lines = tailer.poll().lines
    assert lines == (RawLine(b"second part", 6, 2, str(log)),)
    assert tailer.offset == 18


def test_crlf_and_invalid_utf8_pass_through_as_bytes(log: Path) -> None:
    log.write_bytes(b"win\r\n\xff\xfe\xc3(\nmid\rline\n")
    assert datas(Tailer(log).poll().lines) == [b"win", b"\xff\xfe\xc3(", b"mid\rline"]


def test_empty_lines_keep_their_numbers(log: Path) -> None:
    log.write_bytes(b"\n\nx\n")
    lines = Tailer(log).poll().lines
    assert [(x.data, x.number, x.offset) for x in lines] == [(b"", 1, 0), (b"", 2, 1), (b"x", 3, 2)]


def test_eight_megabyte_line_across_reads(log: Path) -> None:
    big = b"0123456789abcdef\xff\x00" * (8 * 1024 * 1024 // 18)
    log.write_bytes(b"before\n" + big + b"\nafter\n")
    tailer = Tailer(log)
    first = tailer.poll()
    assert first.more is True
    assert datas(first.lines) == [b"before"]
    lines, _, _ = drain(tailer)
    assert len(lines) == 2
    assert lines[0].data == big
    assert (lines[0].number, lines[0].offset, lines[0].truncated) == (2, 7, False)
    assert lines[1] == RawLine(b"after", 7 + len(big) + 1, 3, str(log))


def test_read_cap_bounds_each_poll_and_sets_more(log: Path) -> None:
    expected = [b"line %04d" % i for i in range(1000)]
    log.write_bytes(b"".join(x + b"\n" for x in expected))
    tailer = Tailer(log, read_bytes=1000)
    got: list[bytes] = []
    polls = 0
    while True:
        batch = tailer.poll()
        polls += 1
        assert sum(len(x.data) + 1 for x in batch.lines) <= 1000
        got.extend(datas(batch.lines))
        if not batch.more:
            break
    assert got == expected
    assert polls >= 10


def test_complete_line_longer_than_max_is_truncated(log: Path) -> None:
    log.write_bytes(b"x" * 50 + b"\nshort\n")
    lines = Tailer(log, max_line_bytes=20).poll().lines
    assert lines[0] == RawLine(b"x" * 20, 0, 1, str(log), truncated=True)
    assert lines[1] == RawLine(b"short", 51, 2, str(log))


def test_line_of_exactly_max_bytes_with_crlf_is_whole(log: Path) -> None:
    log.write_bytes(b"y" * 20 + b"\r")
    tailer = Tailer(log, max_line_bytes=20)
    assert tailer.poll().lines == ()
    append(log, b"\n")
    assert tailer.poll().lines == (RawLine(b"y" * 20, 0, 1, str(log)),)


def test_partial_line_longer_than_max_is_emitted_truncated_and_rest_skipped(log: Path) -> None:
    log.write_bytes(b"ok\n" + b"A" * 150)
    tailer = Tailer(log, max_line_bytes=100)
    lines = tailer.poll().lines
    assert lines == (
        RawLine(b"ok", 0, 1, str(log)),
        RawLine(b"A" * 100, 3, 2, str(log), truncated=True),
    )
    append(log, b"B" * 500)
    assert tailer.poll().lines == ()
    append(log, b"C" * 10 + b"\nnext\n")
    assert tailer.poll().lines == (RawLine(b"next", 3 + 660 + 1, 3, str(log)),)


def test_truncation_in_place_restarts_at_zero(log: Path) -> None:
    log.write_bytes(b"one\ntwo\nthree\n")
    tailer = Tailer(log)
    assert len(tailer.poll().lines) == 3
    with open(log, "r+b") as f:
        f.truncate(0)
    append(log, b"fresh\n")
    batch = tailer.poll()
    assert [n.kind for n in batch.notes] == ["truncated"]
    assert batch.lines == (RawLine(b"fresh", 0, 1, str(log)),)


def test_copytruncate_while_following_keeps_every_line(log: Path) -> None:
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - a writer held across the test
    tailer = Tailer(log)
    got: list[bytes] = []
    kinds: list[str] = []
    for i in range(1, 32):
        writer.write(b"n%d\n" % i)
        batch = tailer.poll()
        got.extend(datas(batch.lines))
        kinds.extend(n.kind for n in batch.notes)
        if i % 10 == 0:
            (log.parent / f"oos.log.{i // 10}").write_bytes(log.read_bytes())
            os.truncate(log, 0)
    writer.close()
    assert got == [b"n%d" % i for i in range(1, 32)]
    assert kinds == ["truncated"] * 3


def test_truncated_and_regrown_past_offset_is_detected(log: Path) -> None:
    log.write_bytes(b"aaaa\nbbbb\n")
    tailer = Tailer(log)
    assert len(tailer.poll().lines) == 2
    with open(log, "r+b") as f:
        f.truncate(0)
    append(log, b"0123456789abc\n")
    batch = tailer.poll()
    assert [n.kind for n in batch.notes] == ["truncated"]
    assert batch.lines == (RawLine(b"0123456789abc", 0, 1, str(log)),)


@pytest.mark.parametrize("rotated_name", ["oos.log.1", "oos.2025-09-29T02-00-19Z.log"])
def test_rotation_drains_old_file_then_reads_new(log: Path, rotated_name: str) -> None:
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the producer's descriptor
    writer.write(b"old 1\nold 2\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"old 1", b"old 2"]
    rotated = log.with_name(rotated_name)
    os.rename(log, rotated)
    writer.write(b"late 3\nlate 4\n")  # after the rename, before our poll
    writer.close()
    log.write_bytes(b"new 1\n")
    batch = tailer.poll()
    assert [(x.data, x.number, x.path) for x in batch.lines] == [
        (b"late 3", 3, str(rotated)),
        (b"late 4", 4, str(rotated)),
        (b"new 1", 1, str(log)),
    ]
    assert [n.kind for n in batch.notes] == ["rotated"]
    assert (
        batch.notes[0].message == f"oos.log rotated to {rotated_name} (old file drained: 2 lines)"
    )
    assert tailer.inode == log.stat().st_ino


def test_partial_line_at_rotation_is_emitted_whole(log: Path) -> None:
    log.write_bytes(b"done\nunfinish")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"done"]
    os.rename(log, log.with_name("oos.log.1"))
    log.write_bytes(b"next\n")
    lines = tailer.poll().lines
    assert [(x.data, x.number, x.offset) for x in lines] == [(b"unfinish", 2, 5), (b"next", 1, 0)]


def test_rename_without_new_file_waits_then_switches(log: Path) -> None:
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the producer's descriptor
    writer.write(b"a\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"a"]
    os.rename(log, log.with_name("oos.log.1"))
    writer.write(b"b\nc")
    batch = tailer.poll()
    assert (datas(batch.lines), batch.notes) == ([b"b"], ())
    writer.write(b"c\n")
    writer.close()
    assert datas(tailer.poll().lines) == [b"cc"]
    log.write_bytes(b"fresh\n")
    assert datas(tailer.poll().lines) == [b"fresh"]


def _shift(log: Path) -> None:
    existing = sorted(
        (int(p.name.rsplit(".", 1)[1]) for p in log.parent.glob("oos.log.[0-9]*")), reverse=True
    )
    for k in existing:
        os.rename(f"{log}.{k}", f"{log}.{k + 1}")
    os.rename(log, f"{log}.1")


@pytest.mark.parametrize("style", ["numbered", "timestamp"])
def test_several_rotations_between_two_polls_lose_nothing(log: Path, style: str) -> None:
    log.write_bytes(b"f0 l1\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"f0 l1"]
    append(log, b"f0 l2\n")
    for gen in range(1, 4):
        if style == "numbered":
            _shift(log)
        else:
            os.rename(log, log.with_name(f"oos.2025-09-29T02-00-{gen:02d}.log"))
        log.write_bytes(b"f%d l1\nf%d l2\n" % (gen, gen))
    lines, kinds, _ = drain(tailer)
    assert datas(lines) == [b"f0 l2"] + [b"f%d l%d" % (g, i) for g in (1, 2, 3) for i in (1, 2)]
    assert [x.number for x in lines] == [2, 1, 2, 1, 2, 1, 2]
    assert kinds == ["rotated"]
    if style == "numbered":
        assert [Path(x.path).name for x in lines] == [
            "oos.log.3",
            "oos.log.2",
            "oos.log.2",
            "oos.log.1",
            "oos.log.1",
            "oos.log",
            "oos.log",
        ]


def test_deletion_keeps_draining_then_waits_for_reappearance(log: Path) -> None:
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the producer's descriptor
    writer.write(b"a\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"a"]
    os.unlink(log)
    writer.write(b"b\n")
    batch = tailer.poll()
    assert datas(batch.lines) == [b"b"]
    assert [n.kind for n in batch.notes] == ["deleted"]
    writer.write(b"c\n")
    writer.close()
    assert tailer.poll() == TailBatch((RawLine(b"c", 4, 3, str(log)),), (), False)
    assert tailer.poll() == TailBatch((), (), False)
    log.write_bytes(b"reborn\n")
    batch = tailer.poll()
    assert batch.lines == (RawLine(b"reborn", 0, 1, str(log)),)
    assert [n.kind for n in batch.notes] == ["appeared"]


def test_replaced_by_atomic_rename_reads_the_new_file(log: Path) -> None:
    log.write_bytes(b"old\n")
    tailer = Tailer(log)
    assert datas(tailer.poll().lines) == [b"old"]
    staged = log.with_name("staged.tmp")
    staged.write_bytes(b"new\n")
    os.replace(staged, log)
    batch = tailer.poll()
    assert datas(batch.lines) == [b"new"]
    assert [n.message for n in batch.notes] == [
        "oos.log replaced by a new file (old file drained: 0 lines)"
    ]


def test_start_offset_none_follows_only_new_lines(log: Path) -> None:
    log.write_bytes(b"old 1\nold 2\nold 3\n")
    tailer = Tailer(log, start_offset=None)
    append(log, b"new 4\n")
    assert tailer.poll().lines == (RawLine(b"new 4", 18, 4, str(log)),)


def test_start_offset_none_counts_existing_lines_within_the_read_cap(log: Path) -> None:
    log.write_bytes(b"".join(b"old %05d\n" % i for i in range(2000)))
    tailer = Tailer(log, start_offset=None, read_bytes=4096)
    append(log, b"brand new\n")
    first = tailer.poll()
    assert (first.lines, first.more) == ((), True)
    lines, _, polls = drain(tailer)
    assert polls >= 4
    assert lines == [RawLine(b"brand new", 20_000, 2001, str(log))]


def test_start_offset_none_completes_the_line_being_written(log: Path) -> None:
    log.write_bytes(b"a\nb\npar")
    tailer = Tailer(log, start_offset=None)
    assert tailer.poll().lines == ()
    append(log, b"tial\n")
    assert tailer.poll().lines == (RawLine(b"partial", 4, 3, str(log)),)


def test_start_offset_none_on_missing_file_reads_it_all_when_it_appears(log: Path) -> None:
    tailer = Tailer(log, start_offset=None)
    assert tailer.poll().lines == ()
    log.write_bytes(b"first\n")
    assert datas(tailer.poll().lines) == [b"first"]


def test_start_offset_mid_file_continues_numbering(log: Path) -> None:
    log.write_bytes(b"one\ntwo\nthree\nfour\n")
    tailer = Tailer(log, start_offset=8, start_line=3)
    assert [(x.data, x.number, x.offset) for x in tailer.poll().lines] == [
        (b"three", 3, 8),
        (b"four", 4, 14),
    ]


def test_start_offset_past_the_end_means_the_file_was_replaced(log: Path) -> None:
    log.write_bytes(b"short\n")
    batch = Tailer(log, start_offset=500, start_line=40).poll()
    assert [n.kind for n in batch.notes] == ["truncated"]
    assert batch.lines == (RawLine(b"short", 0, 1, str(log)),)


def test_offset_and_line_resume_without_duplicates(log: Path) -> None:
    log.write_bytes(b"1\n2\n3")
    first = Tailer(log)
    assert datas(first.poll().lines) == [b"1", b"2"]
    first.close()
    append(log, b"\n4\n")
    again = Tailer(log, start_offset=first.offset, start_line=first.line)
    assert [(x.data, x.number) for x in again.poll().lines] == [(b"3", 3), (b"4", 4)]


def test_io_problem_is_a_note_not_an_exception(log: Path) -> None:
    log.mkdir()
    tailer = Tailer(log)
    batch = tailer.poll()
    assert [n.kind for n in batch.notes] == ["error"]
    assert "not a regular file" in batch.notes[0].message
    assert tailer.poll() == TailBatch((), (), False)
    log.rmdir()
    log.write_bytes(b"recovered\n")
    assert datas(tailer.poll().lines) == [b"recovered"]


def test_fifo_at_the_path_does_not_block(log: Path) -> None:
    os.mkfifo(log)
    batch = Tailer(log).poll()
    assert [n.kind for n in batch.notes] == ["error"]


def test_close_stops_polling(log: Path) -> None:
    log.write_bytes(b"x\n")
    tailer = Tailer(log)
    tailer.close()
    append(log, b"y\n")
    assert tailer.poll() == TailBatch((), (), False)
    assert tailer.inode is None


def test_bad_arguments_are_refused(log: Path) -> None:
    with pytest.raises(ValueError):
        Tailer(log, read_bytes=0)
    with pytest.raises(ValueError):
        Tailer(log, start_offset=-1)


def expected_lines(content: bytes, path: Path, max_line_bytes: int) -> list[RawLine]:
    out, offset = [], 0
    for number, raw in enumerate(content.split(b"\n")[:-1], start=1):
        data = raw[:-1] if raw.endswith(b"\r") else raw
        out.append(
            RawLine(data[:max_line_bytes], offset, number, str(path), len(data) > max_line_bytes)
        )
        offset += len(raw) + 1
    return out


@pytest.mark.parametrize("seed", range(5))
def test_random_chunks_match_a_reference_split(log: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    pieces = []
    for _ in range(400):
        kind = rng.random()
        if kind < 0.1:
            pieces.append(b"")
        elif kind < 0.2:
            pieces.append(b"z" * rng.randint(60, 400) + b"\r")
        else:
            pieces.append(bytes(rng.choice(b"ab\r\xff ") for _ in range(rng.randint(1, 70))))
    content = b"\n".join(pieces) + b"\n"
    tailer = Tailer(log, max_line_bytes=64, read_bytes=rng.randint(50, 300))
    got: list[RawLine] = []
    written = 0
    log.write_bytes(b"")
    while written < len(content):
        step = rng.randint(1, 200)
        append(log, content[written : written + step])
        written += step
        got.extend(drain(tailer)[0])
    assert got == expected_lines(content, log, 64)
