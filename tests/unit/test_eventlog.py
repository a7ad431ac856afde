"""The event engine: indexes, the merged stream, following, search (real files, no UI)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from oos_tui.config import load_settings
from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.chunked import Chunked, Growable, distinct
from oos_tui.eventlog.index import FileIndex
from oos_tui.eventlog.search import Searcher
from oos_tui.eventlog.stream import REF_MASK, REF_SHIFT, STORE_SRC, EventStream
from oos_tui.eventlog.vts import parse_iso_at
from oos_tui.formats import applog, get_format, pipe, pylog
from oos_tui.models import Event, ParseError
from oos_tui.query import compile_query
from oos_tui.store.schema import init_store
from oos_tui.timeutil import parse_ts

T0 = 1_759_111_200.0


def _pipe(i: int, event_type: str = "PROCESS", source: str = "Src", **data) -> bytes:
    return pipe.write_line(T0 + i, event_type, "podcast", source, f"item{i}", data or {"n": i})


def _drain(stream: EventStream):
    update = stream.step()
    while update.more or not update.view.ready:
        update = stream.step()
    return update


def _messages(stream_view, reader: RecordReader) -> list[str]:
    out = []
    for ref in stream_view.order.array().tolist():
        rec = reader.record(stream_view, ref)
        out.append(rec.message if isinstance(rec, Event) else f"!{rec.reason}")
    return out


# -- timestamps and arrays --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2025-09-29T02:00:19.480Z",
        "2025-09-28T18:58:29.100950",
        "2025-11-27 14:09:15,123",
        "2025-09-29T04:00:19+02:00",
        "2025-09-29T00:00:19-02:30",
        "2024-02-29T23:59:59Z",
        "2025-09-29T02:00:19",
    ],
)
def test_vectorised_timestamps_agree_with_parse_ts(text: str) -> None:
    buf = np.frombuffer((text + "|rest\n" + "\0" * 64).encode(), dtype=np.uint8)
    got = parse_iso_at(buf, np.array([0]))[0]
    assert got == pytest.approx(parse_ts(text), abs=1e-6)


@pytest.mark.parametrize("text", ["garbage-garbage-garbage", "2025-13-01T00:00:00Z", "2025-09-29"])
def test_vectorised_timestamps_reject_other_shapes(text: str) -> None:
    buf = np.frombuffer((text + "\n" + "\0" * 64).encode(), dtype=np.uint8)
    assert np.isnan(parse_iso_at(buf, np.array([0]))[0])


def test_chunked_and_growable_snapshots_never_change() -> None:
    c = Chunked.empty(np.int64).append(np.arange(100_000))
    snap = c
    c2 = c.replace_tail(50_000, np.arange(10))
    assert snap.length == 100_000 and snap[99_999] == 99_999
    assert c2.length == 50_010 and c2[50_005] == 5
    g = Growable(np.int64, capacity=4)
    g.append(np.arange(3))
    s1 = g.snapshot()
    g.append(np.arange(1000))
    assert s1.length == 3 and list(s1.array()) == [0, 1, 2]
    assert g.snapshot().length == 1003


@pytest.mark.parametrize(
    "values",
    [[], [7], [3, 3, 3], [5, 1, 5, 0xFFFF, 1, 2], np.random.default_rng(1).integers(0, 9, 500)],
)
def test_distinct_is_np_unique(values: list[int] | np.ndarray) -> None:
    arr = np.array(values, dtype=np.int64)
    assert distinct(arr).tolist() == np.unique(arr).tolist()


def test_chunked_take_across_chunks_in_any_order() -> None:
    c = Chunked.empty(np.int64).append(np.arange(200_000) * 3)
    picks = np.array([199_999, 0, 70_000, 65_536, 65_535, 0])
    assert c.take(picks).tolist() == (picks * 3).tolist()


# -- one file -----------------------------------------------------------------------------


def test_index_offsets_timestamps_and_malformed_lines(tmp_path: Path) -> None:
    lines = [_pipe(0), b"not a pipe line\n", _pipe(2).replace(b"\n", b"\r\n"), _pipe(3)]
    path = tmp_path / "oos.log"
    path.write_bytes(b"".join(lines) + b"2025-09-29T02:00:09.000Z|PARTI")  # partial last line
    idx = FileIndex(0, path, "oos.log", get_format("pipe"), live=False)
    assert idx.build()
    view = idx.view()
    assert view.count == 4
    assert list(view.offsets.array()) == [
        0,
        len(lines[0]),
        len(lines[0]) + len(lines[1]),
        len(b"".join(lines[:3])),
    ]
    ts = view.ts.array()
    assert ts[0] == T0 and ts[1] == T0  # the malformed line carries the time before it
    assert ts[2] == T0 + 2 and ts[3] == T0 + 3
    reader = RecordReader()
    assert reader.raw_bytes(view, 2) == lines[2][:-2]  # CRLF: no \r, no \n
    assert reader.raw_bytes(view, 3) == lines[3][:-1]
    reader.close()


def test_index_counts_suspect_lines_without_parsing(tmp_path: Path) -> None:
    """The status bar's estimate: lines with too few ``|`` or no time; extra ``|`` are fine."""
    lines = [
        _pipe(0),
        b"2025-09-29T02:00:01Z|FAIL|podcast|Src|item1\n",  # four |: no data_json
        _pipe(2, note="a|b|c|d|e|f"),  # |s inside the JSON
        b"2025-09-29T02:00:03Z|PROCESS|podcast|Src|item3|{}|{}|\n",
        b"no time here|a|b|c|d|{}\n",
        b"\n",  # blank lines are not counted
        b"|||\n",
        _pipe(7),
    ]
    path = tmp_path / "oos.log"
    path.write_bytes(b"".join(lines))
    idx = FileIndex(0, path, "oos.log", get_format("pipe"), live=False)
    assert idx.build()
    assert idx.view().count == len(lines)
    assert idx.view().suspect == 3


def test_index_builds_in_bounded_steps(tmp_path: Path) -> None:
    path = tmp_path / "oos.log"
    path.write_bytes(b"".join(_pipe(i) for i in range(60_000)))
    idx = FileIndex(0, path, "oos.log", get_format("pipe"), live=False)
    steps = 1
    while not idx.build(budget=1 << 20):
        steps += 1
    assert steps >= path.stat().st_size // (4 << 20)
    view = idx.view()
    assert view.count == 60_000
    assert (np.diff(view.ts.array()) >= 0).all()


def test_index_keeps_lines_of_several_megabytes(tmp_path: Path) -> None:
    big = _pipe(1, notes="x" * (9 * 1024 * 1024))  # longer than one read block
    path = tmp_path / "oos.log"
    path.write_bytes(_pipe(0) + big + b"".join(_pipe(i) for i in range(2, 2_000)))
    idx = FileIndex(0, path, "oos.log", get_format("pipe"), live=False)
    while not idx.build():
        pass
    view = idx.view()
    assert view.count == 2_000
    assert view.span(1)[1] - view.span(1)[0] == len(big) - 1
    reader = RecordReader()
    raw = reader.raw_bytes(view, 1)
    assert raw is not None and len(raw) == len(big) - 1
    reader.close()


def test_multiline_records_for_plain_text_logs(tmp_path: Path) -> None:
    path = tmp_path / "stage.log"
    path.write_bytes(
        b"Traceback orphan line\n"
        + pylog.write_record(T0, "INFO", "started")
        + pylog.write_record(
            T0 + 1, "ERROR", "boom\nTraceback (most recent call last):\n  x\nValueError: y"
        )
        + pylog.write_record(T0 + 2, "INFO", "after")
    )
    idx = FileIndex(0, path, "stage.log", get_format("pylog"), live=False)
    idx.build()
    view = idx.view()
    assert view.count == 4  # the orphan continuation is a record of its own
    assert [view.line_of(i) for i in range(4)] == [1, 2, 3, 7]
    reader = RecordReader()
    rec = reader.raw_bytes(view, 2)
    assert rec is not None and rec.endswith(b"ValueError: y")
    reader.close()


# -- the stream ----------------------------------------------------------------------------


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "logs").mkdir(parents=True)
    (ws / "oos.log").write_bytes(b"".join(_pipe(i * 2) for i in range(5)))
    (ws / "logs" / "worker.log").write_bytes(
        b"".join(applog.write_line(T0 + i * 2 + 1, "INFO", "worker", f"w{i}") for i in range(5))
    )
    return ws


def test_stream_merges_sources_by_time(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    update = _drain(stream)
    view = update.view
    assert view.ready and view.total == 10
    ts = view.ts_of(view.order.array())
    assert list(ts) == sorted(ts)
    assert [view.ts_one(ref) for ref in view.order.array().tolist()] == list(ts)
    assert view.ts_one(99 << 40) == 0.0  # a source no longer read
    reader = RecordReader()
    msgs = _messages(view, reader)
    assert msgs[1] == "w0" and msgs[3] == "w1"
    reader.close()
    stream.close()


def test_follow_appends_and_reports_new_events(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    _drain(stream)
    with open(ws / "oos.log", "ab") as fh:
        fh.write(_pipe(100, "FAIL", error="boom"))
        fh.write(b"2025-09-29T02:01:41.000Z|PART")  # partial: not yet
    update = stream.step()
    assert [e.message for e in update.events] == ["boom"]
    assert update.view.total == 11
    ref = update.refs[0]
    reader = RecordReader()
    assert reader.record(update.view, ref).message == "boom"
    with open(ws / "oos.log", "ab") as fh:
        fh.write(b'IAL|podcast|S|i|{"title":"late"}\n' + b"garbage line\n")
    update = stream.step()
    assert [e.message for e in update.events] == ["late"]
    assert len(update.errors) == 1 and update.errors[0].line == 8
    assert update.view.total == 13  # parse errors stay in the stream, shown inline
    reader.close()
    stream.close()


def test_follow_across_rotation_loses_nothing(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    _drain(stream)
    log = ws / "oos.log"
    with open(log, "ab") as fh:
        fh.write(_pipe(20, title="before"))
    os.rename(log, ws / "oos.log.1")
    with open(ws / "oos.log.1", "ab") as fh:
        fh.write(_pipe(21, title="late in old file"))
    log.write_bytes(_pipe(22, title="new file"))
    seen = []
    for _ in range(5):
        update = stream.step()
        seen += [e.message for e in update.events]
    assert seen == ["before", "late in old file", "new file"]
    view = update.view
    reader = RecordReader()
    msgs = [m for m in _messages(view, reader)]
    assert msgs.count("before") == 1 and msgs.count("new file") == 1
    assert view.total == 13
    names = sorted({f.display for f in view.files if f})
    assert "oos.log.1" in names and "oos.log" in names
    reader.close()
    stream.close()


def test_store_events_join_the_stream(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    init_store(ws / "data" / "oos.db")
    con = sqlite3.connect(ws / "data" / "oos.db")
    con.execute(
        "INSERT INTO events VALUES ('e1','2025-09-29T02:00:03.500Z','sched','started','warning',"
        "'stored title','','{}','[]','corr-1','engine',1,'{}')"
    )
    con.commit()
    stream = EventStream(load_settings(ws, env={}))
    view = _drain(stream).view
    assert view.total == 11 and view.store is not None and view.store.count == 1
    reader = RecordReader()
    msgs = _messages(view, reader)
    assert msgs.index("stored title") == 4  # between the 02:00:03 and 02:00:04 lines
    con.execute(
        "INSERT INTO events VALUES ('e2','2025-09-29T02:00:00.500Z','sched','late','info',"
        "'late title','','{}','[]',NULL,NULL,NULL,'{}')"
    )
    con.commit()
    con.close()
    update = stream.step()
    assert [e.message for e in update.events] == ["late title"]
    assert update.refs[0] >> REF_SHIFT == STORE_SRC
    msgs = _messages(update.view, reader)
    assert msgs.index("late title") == 1  # merged back in time, not appended at the end
    reader.close()
    stream.close()


def test_late_file_joins_and_its_lines_are_news(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    _drain(stream)
    (ws / "logs" / "api.log").write_bytes(applog.write_line(T0 + 50, "ERROR", "api", "api down"))
    messages = []
    for _ in range(4):
        messages += [e.message for e in stream.step().events]
    assert messages == ["api down"]
    stream.close()


# -- search ----------------------------------------------------------------------------------


def _brute(view, query, reader) -> list[int]:
    out = []
    for ref in view.order.array().tolist():
        rec = reader.record(view, ref)
        if not isinstance(rec, ParseError) and query.matches(rec):
            out.append(ref)
    return out


@pytest.mark.parametrize(
    "text",
    ["type:FAIL", "boom", "source:Src7", "-type:PROCESS", "severity>=warning", "w3 OR item:item4"],
)
def test_search_equals_brute_force(tmp_path: Path, text: str) -> None:
    ws = _workspace(tmp_path)
    with open(ws / "oos.log", "ab") as fh:
        for i in range(10, 400):
            kind = "FAIL" if i % 7 == 0 else ("RETRY" if i % 5 == 0 else "PROCESS")
            fh.write(_pipe(i, kind, source=f"Src{i % 9}", error="boom" if kind == "FAIL" else None))
        fh.write(b"malformed | line\n")
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    reader = RecordReader()
    query = compile_query(text, now=T0 + 10_000)
    expected = _brute(view, query, reader)
    result = Searcher().search(view, query)
    assert result.refs.tolist() == expected
    assert result.count == len(expected) > 0
    reader.close()
    stream.close()


def test_repeated_search_only_scans_what_is_new(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    searcher = Searcher()
    query = compile_query("w1 OR type:FAIL")
    first = searcher.search(view, query)
    assert first.scanned == 10 and first.count == 1
    with open(ws / "oos.log", "ab") as fh:
        fh.write(_pipe(30, "FAIL", error="x"))
    view = stream.step().view
    again = searcher.search(view, query)
    assert again.scanned == 1 and again.count == 2


def test_time_bounds_cut_candidates(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    query = compile_query("since:2025-09-29T02:00:05 until:2025-09-29T02:00:07")
    result = Searcher().search(view, query)
    assert view.ts_of(result.refs).tolist() == [T0 + 5, T0 + 6]  # until is exclusive
    assert all(r & REF_MASK < 5 for r in result.refs.tolist())


def test_ts_of_reads_every_source_and_zero_for_a_source_not_read(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    init_store(ws / "data" / "oos.db")
    con = sqlite3.connect(ws / "data" / "oos.db")
    con.execute(
        "INSERT INTO events VALUES ('e1','2025-09-29T02:00:30.000Z','sched','started','info',"
        "'stored','','{}','[]','corr-1','engine',1,'{}')"
    )
    con.commit()
    con.close()
    stream = EventStream(load_settings(ws, env={}))
    view = _drain(stream).view
    order = view.order.array()
    assert view.store is not None and view.total == 11
    # Many refs at once (every source, the store) and a ref into a slot no
    # longer read, or past every file: that one reads as 0.0.
    refs = np.concatenate([np.tile(order, 500), [(77 << REF_SHIFT) | 3]])
    small = np.concatenate([view.ts_of(order[i : i + 100]) for i in range(0, order.size, 100)])
    big = view.ts_of(refs)
    assert big.shape == refs.shape
    assert big[:-1].tolist() == np.tile(small, 500).tolist()
    assert big[-1] == 0.0
    assert T0 + 30 in big.tolist()  # the store's row
    stream.close()


def _clocked_stream(ws: Path) -> tuple[EventStream, list[float]]:
    """A drained stream on a clock the test moves (``now[0]``), rediscovering hourly."""
    now = [1000.0]
    stream = EventStream(
        load_settings(ws, env={}),
        include_store=False,
        rediscover_seconds=3600,
        clock=lambda: now[0],
    )
    _drain(stream)
    return stream, now


def test_hinted_follow_polls_hot_and_hinted_files_and_cold_ones_rarely(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream, now = _clocked_stream(ws)
    log, worker = ws / "oos.log", ws / "logs" / "worker.log"
    now[0] += 60  # both files quiet for a minute: cold
    stream.step(hints=frozenset())  # the cold poll that comes due finds nothing
    with open(log, "ab") as fh:
        fh.write(_pipe(30, title="hinted"))
    with open(worker, "ab") as fh:
        fh.write(applog.write_line(T0 + 31, "INFO", "worker", "unhinted"))
    now[0] += 1
    update = stream.step(hints=frozenset({os.path.realpath(log)}))
    assert [e.message for e in update.events] == ["hinted"]  # the cold worker.log waits
    now[0] += 1
    update = stream.step(hints=frozenset())
    assert update.events == ()  # still cold and not hinted
    now[0] += 10  # past the cold interval: polled in case the watcher missed it
    update = stream.step(hints=frozenset())
    assert [e.message for e in update.events] == ["unhinted"]
    with open(worker, "ab") as fh:
        fh.write(applog.write_line(T0 + 32, "INFO", "worker", "hot"))
    now[0] += 1  # written a second ago: hot, polled at every step without a hint
    update = stream.step(hints=frozenset())
    assert [e.message for e in update.events] == ["hot"]
    with open(log, "ab") as fh:
        fh.write(_pipe(33, title="no watcher"))
    now[0] += 1
    update = stream.step()  # no watcher (None): every live file, every step
    assert [e.message for e in update.events] == ["no watcher"]
    stream.close()


def test_a_new_hinted_log_is_discovered_before_the_rediscovery_interval(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream, now = _clocked_stream(ws)
    new = ws / "logs" / "api.log"
    new.write_bytes(applog.write_line(T0 + 40, "INFO", "api", "new file"))
    now[0] += 1
    update = stream.step(hints=frozenset())
    assert "logs/api.log" not in {f.display for f in update.view.files if f}
    seen = []
    for _ in range(3):
        now[0] += 1
        update = stream.step(hints=frozenset({os.path.realpath(new)}))
        seen += [e.message for e in update.events]
    assert "logs/api.log" in {f.display for f in update.view.files if f}
    assert seen == ["new file"]
    stream.close()


def test_search_in_slices_finds_what_one_pass_finds(tmp_path: Path, monkeypatch) -> None:
    from oos_tui.eventlog import search as search_module

    ws = tmp_path / "ws"
    ws.mkdir()
    lines = [_pipe(i, "FAIL" if i % 3 == 0 else "PROCESS", error=f"e{i}") for i in range(40)]
    (ws / "oos.log").write_bytes(b"".join(lines) + b"not a log line\n")
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    queries = ["type:FAIL", "e1", "-type:FAIL since:2025-09-29T02:00:10Z"]
    whole = [Searcher().search(view, compile_query(q)).refs.tolist() for q in queries]
    monkeypatch.setattr(search_module, "_SLICE", 7)
    sliced = [Searcher().search(view, compile_query(q)).refs.tolist() for q in queries]
    assert sliced == whole
    assert len(whole[0]) == 14 and len(whole[1]) == 11  # e1, e10…e19
    stream.close()


def _find_all(hay: bytes, needle: bytes) -> list[int]:
    out, pos = [], hay.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = hay.find(needle, pos + 1)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_byte_finder_finds_what_lowered_find_finds(seed: int) -> None:
    """The vectorised search must agree with ``data.lower().find`` hit for hit.

    The haystack mixes cases, the bytes one bit away from a letter when
    folded ('[' and '{', '@' and '`'), UTF-8 and overlapping repeats.
    """
    from oos_tui.eventlog.search import _ByteFinder

    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"aAbB[{@`|\\uU\xc4\xb0 \n", dtype=np.uint8)
    data = bytes(alphabet[rng.integers(0, alphabet.shape[0], 20_000)])
    data += b"AbAbAB|ab|{a}" + "\u0130".encode()
    finder = _ByteFinder(data)
    lowered = data.lower()
    for needle in (b"ab", b"aba", b"|ab|", b"[a", b"{a", b"`b", b"\\u", "\u0130".encode(), b"a"):
        assert finder.positions(needle).tolist() == _find_all(lowered, needle), needle
    assert finder.positions(b"AB").tolist() == []  # lowered text holds no upper case
    assert finder.positions(b"").tolist() == []
    assert _ByteFinder(b"ab").positions(b"abc").tolist() == []


def test_run_reads_and_grows_like_the_chunked_array_it_stands_for(monkeypatch) -> None:
    from oos_tui.eventlog.chunked import Run

    start, other = 3 << REF_SHIFT, 4 << REF_SHIFT
    values = np.arange(start, start + 40, dtype=np.int64)
    values[[5, 6]] = values[[6, 5]]  # a line logged out of time order
    values[30] = other  # another source's record
    run, stored = Run.of(values), Chunked.of(values)
    assert run is not None and run.patch_at.tolist() == [5, 6, 30]

    def same(a, b) -> None:
        assert a.array().tolist() == b.array().tolist() and len(a) == len(b)
        for lo, hi in ((0, len(b)), (2, 7), (6, 31), (30, 99), (5, 5)):
            assert a.slice(lo, hi).tolist() == b.slice(lo, hi).tolist()
        at = np.array([i for i in (len(b) - 1, 0, 5, 6, 30, 29, 5) if i < len(b)])
        assert a.take(at).tolist() == b.take(at).tolist()
        some = [i for i in (0, 5, 6, 30, -1) if i < len(b)]
        assert [a[i] for i in some] == [b[i] for i in some]

    same(run, stored)
    with pytest.raises(IndexError):
        run[40]
    more = np.array([start + 40, start + 42, start + 41])
    same(run.append(more), stored.append(more))
    same(run.replace_tail(6, values[6:12]), stored.replace_tail(6, values[6:12]))
    same(run.truncate(6), stored.truncate(6))
    assert run.append(np.arange(start + 40, start + 50)).patch_at is run.patch_at  # no copy
    monkeypatch.setattr(Run, "MAX_PATCHES", 4)
    assert isinstance(run.append(np.array([other + 1, other + 2])), Chunked)
    assert Run.of(np.arange(10) * 2) is None
    assert Run.of(np.empty(0, dtype=np.int64)) is None


def test_one_source_in_time_order_is_its_own_order_and_stays_so_while_followed(
    tmp_path: Path,
) -> None:
    from oos_tui.eventlog.chunked import Run

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "oos.log").write_bytes(b"".join(_pipe(i) for i in range(10)))
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    assert isinstance(view.order, Run) and view.total == 10
    with open(ws / "oos.log", "ab") as fh:
        fh.write(_pipe(30) + _pipe(31))
    view = stream.step().view
    assert isinstance(view.order, Run) and view.total == 12
    with open(ws / "oos.log", "ab") as fh:
        fh.write(_pipe(20))  # older than the last line: the order is sorted by time
    view = stream.step().view
    assert isinstance(view.order, Run) and view.order.patch_at.tolist() == [10, 11, 12]
    assert view.ts_of(view.order.array()).tolist() == sorted(view.ts_of(view.order.array()))
    stream.close()


def test_one_source_out_of_time_order_is_sorted(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "oos.log").write_bytes(_pipe(5) + _pipe(1) + _pipe(3))
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    assert (view.order.array() & REF_MASK).tolist() == [1, 2, 0]
    stream.close()


def test_prefetch_reads_runs_once_and_gives_what_record_gives(tmp_path: Path, monkeypatch) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    lines = [_pipe(i) for i in range(20)]
    lines[7] = b"not a log line\r\n"
    (ws / "oos.log").write_bytes(b"".join(lines))
    stream = EventStream(load_settings(ws, env={}), include_store=False)
    view = _drain(stream).view
    refs = view.order.array().tolist()
    one = RecordReader()
    expected = [one.record(view, r) for r in refs]
    batch = RecordReader()
    reads: list[int] = []
    real_pread = os.pread

    def counting(fd: int, n: int, at: int) -> bytes:
        reads.append(at)
        return real_pread(fd, n, at)

    monkeypatch.setattr(os, "pread", counting)
    batch.prefetch(view, refs[2:9] + refs[12:15] + refs[2:4])
    assert len(reads) == 2  # two runs of neighbours, each one read
    got = [batch.record(view, r) for r in refs]
    monkeypatch.undo()
    assert got == expected
    assert isinstance(got[7], ParseError) and got[7].raw == "not a log line"
    assert len(reads) == 2 + 20 - 10  # the rest were read one by one
    one.close()
    batch.close()
    stream.close()


def _with_a_job_log(tmp_path: Path) -> Path:
    ws = _workspace(tmp_path)
    stage = ws / "out" / "job-1" / "05_asr" / "stage.log"
    stage.parent.mkdir(parents=True)
    stage.write_bytes(pylog.write_record(T0 + 2.5, "INFO", "stage line"))
    return ws


def test_first_step_leaves_job_logs_for_the_next(tmp_path: Path, monkeypatch) -> None:
    """Thousands of job logs must not delay the quick window of the newest lines."""
    from oos_tui.eventlog import stream as stream_module

    monkeypatch.setattr(stream_module, "_WINDOW_MIN_FILE", 200)  # oos.log gets a window
    stream = EventStream(load_settings(_with_a_job_log(tmp_path), env={}), include_store=False)
    first = stream.step()
    assert first.view.total > 0  # the window of oos.log, on screen at once
    assert not any(f is not None and "out/" in f.display for f in first.view.files)
    view = _drain(stream).view
    assert view.ready and view.total == 11
    assert "out/job-1/05_asr/stage.log" in [f.display for f in view.files if f is not None]
    reader = RecordReader()
    messages = _messages(view, reader)
    assert messages[3] == "stage line" and messages[4] == "w1"  # merged by time
    reader.close()
    stream.close()


def test_without_a_window_the_first_step_finds_the_job_logs_too(tmp_path: Path) -> None:
    stream = EventStream(load_settings(_with_a_job_log(tmp_path), env={}), include_store=False)
    first = stream.step()
    assert "out/job-1/05_asr/stage.log" in [f.display for f in first.view.files if f is not None]
    assert _drain(stream).view.total == 11
    stream.close()


# -- the first step, read while the console loads --------------------------------------


def test_first_step_reads_the_newest_window_and_hands_the_stream_over(tmp_path: Path) -> None:
    from oos_tui.eventlog.first import FirstStep

    ws = _workspace(tmp_path)
    first = FirstStep(load_settings(ws, env={}))
    taken = first.take(wait=30)
    assert taken is not None and first.done
    stream, update = taken
    reader = RecordReader()
    assert _messages(update.view, reader)[-1] == "w4"  # the newest event, before any merge
    assert first.take(wait=0) is None  # handed over once
    # The taking thread carries on with the same stream: history, then following.
    _drain(stream)
    with open(ws / "oos.log", "ab") as fh:
        fh.write(_pipe(100, "FAIL", error="after the hand-over"))
    assert [e.message for e in stream.step().events] == ["after the hand-over"]
    reader.close()
    stream.close()


def test_first_step_not_done_is_taken_later_and_a_failure_is_left_to_the_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from oos_tui.eventlog import first as first_module

    ws = _workspace(tmp_path)
    release = threading.Event()
    real_step = EventStream.step

    def held_step(self: EventStream, *args, **kwargs):
        release.wait(30)  # a slow disk: the app must not wait for it
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(first_module.EventStream, "step", held_step)
    first = first_module.FirstStep(load_settings(ws, env={}))
    assert first.take(wait=0) is None and not first.done
    release.set()
    taken = first.take()  # the feed's thread waits for it instead of opening another
    assert taken is not None
    taken[0].close()

    def failing_step(self: EventStream, *args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(first_module.EventStream, "step", failing_step)
    failed = first_module.FirstStep(load_settings(ws, env={}))
    assert failed.take(wait=30) is None and failed.done  # the feed's own step reports it


# -- rotation while following ------------------------------------------------------------


def _fresh_messages(stream: EventStream) -> list[str]:
    """Every record of the newest view, read by a new reader (files opened by path again)."""
    reader = RecordReader()
    try:
        view = stream.step().view
        return _messages(view, reader)
    finally:
        reader.close()


def test_the_last_lines_drained_from_a_renamed_file_keep_their_bytes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    log = ws / "oos.log"
    log.write_bytes(b"".join(_pipe(i, title=str(i)) for i in range(5)))
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    _drain(stream)
    with open(log, "ab") as writer:
        os.rename(log, ws / "oos.log.1")
        writer.write(
            _pipe(5, title="5") + _pipe(6, title="6")
        )  # the producer's open handle: the old file
    log.write_bytes(_pipe(7, title="7"))  # the producer reopens oos.log
    update = stream.step()
    assert [e.message for e in update.events] == ["5", "6", "7"] and not update.errors
    assert _fresh_messages(stream)[-3:] == ["5", "6", "7"]  # none read back as an empty line
    stream.close()


def test_rotated_generations_stay_readable_under_their_new_names(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    log = ws / "oos.log"
    log.write_bytes(_pipe(0, title="0"))
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    _drain(stream)
    n = 1
    for _rotation in range(3):
        for k in range(3, 0, -1):  # .2 -> .3, .1 -> .2, then oos.log -> .1
            older = ws / f"oos.log.{k}"
            if older.exists():
                os.rename(older, ws / f"oos.log.{k + 1}")
        os.rename(log, ws / "oos.log.1")
        stream.step()  # caught up when it was renamed: nothing more to drain
        log.write_bytes(_pipe(n, title=str(n)) + _pipe(n + 1, title=str(n + 1)))
        n += 2
        stream.step()
    messages = _fresh_messages(stream)
    assert sorted(messages, key=int) == [str(i) for i in range(n)], messages
    stream.close()


# -- rotation: every generation stays readable by path --------------------------------------


def _afresh(view) -> list[str]:
    """Every record of ``view`` read by a new reader, which opens each file by its path."""
    reader = RecordReader()
    try:
        return _messages(view, reader)
    finally:
        reader.close()


@pytest.mark.parametrize("last_end", [b"\n", b"\r\n", b""], ids=["newline", "crlf", "unterminated"])
def test_the_last_line_drained_from_a_renamed_file_reads_back_whole(
    tmp_path: Path, last_end: bytes
) -> None:
    """The writer's open handle adds two lines after the rename, then a new file starts.

    One poll drains the renamed file and switches to the new one: the renamed
    generation's last record must span its whole line (it read back as an
    empty line, its bytes lost), however that line ends.
    """
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=3600)
    _drain(stream)
    log = ws / "oos.log"
    with open(log, "ab") as producer:
        producer.write(_pipe(20, title="before"))
        producer.flush()
        assert [e.message for e in stream.step().events] == ["before"]  # caught up
        os.rename(log, ws / "oos.log.1")
        producer.write(_pipe(21, title="late 1") + _pipe(22, title="late 2")[:-1] + last_end)
    log.write_bytes(_pipe(23, title="new file"))
    update = stream.step()
    assert [e.message for e in update.events] == ["late 1", "late 2", "new file"]
    view = stream.step().view
    assert _afresh(view)[-4:] == ["before", "late 1", "late 2", "new file"]
    assert not [m for m in _afresh(view) if m.startswith("!")]
    old = next(f for f in view.files if f is not None and f.display == "oos.log.1")
    assert old.end == (ws / "oos.log.1").stat().st_size + (1 if not last_end else 0)
    assert not old.live
    stream.close()


def test_caught_up_rotations_keep_every_generation_readable_by_path(tmp_path: Path) -> None:
    """Three rotations as RotatingFileHandler does them (``.1`` → ``.2`` …), each caught up.

    The follower drains nothing from the renamed file, so no line names its new
    path: the stream must still follow each generation's inode to its new name,
    or a reader opening the files afresh (search, trace, the detail pane) finds
    another file there and gives up.
    """
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=3600)
    _drain(stream)
    log = ws / "oos.log"
    titles: list[str] = []
    n = 20
    for rotation in (1, 2, 3):
        with open(log, "ab") as fh:
            for k in range(2):
                titles.append(f"ROT-{rotation}{k}")
                fh.write(_pipe(n, title=titles[-1]))
                n += 1
        assert [e.message for e in stream.step().events] == titles[-2:]  # caught up
        for k in range(rotation - 1, 0, -1):
            os.rename(f"{log}.{k}", f"{log}.{k + 1}")
        os.rename(log, f"{log}.1")
        titles.append(f"ROT-{rotation}n")
        log.write_bytes(_pipe(n, title=titles[-1]))
        n += 1
        assert [e.message for e in stream.step().events] == titles[-1:]
    view = stream.step().view
    messages = _afresh(view)
    assert not [m for m in messages if m.startswith("!")]
    assert [m for m in messages if m.startswith("ROT-")] == titles
    paths = {f.display: f.path for f in view.files if f is not None and "oos.log" in f.display}
    assert paths == {
        name: str(ws / name) for name in ("oos.log", "oos.log.1", "oos.log.2", "oos.log.3")
    }
    live = [f.display for f in view.files if f is not None and f.live]
    assert sorted(live) == ["logs/worker.log", "oos.log"]
    result = Searcher().search(view, compile_query("ROT"))
    assert result.count == len(titles)
    stream.close()


def _with_a_rotated_file(tmp_path: Path) -> Path:
    ws = _workspace(tmp_path)
    (ws / "oos.log.1").write_bytes(b"".join(_pipe(i - 10, title=f"old {i}") for i in range(3)))
    return ws


def test_discovery_follows_a_known_file_to_its_new_name(tmp_path: Path) -> None:
    """A rotated file renamed again (``.1`` → ``.2``) is the same file: found by its inode."""
    ws = _with_a_rotated_file(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    view = _drain(stream).view
    assert _afresh(view)[:3] == ["old 0", "old 1", "old 2"]
    os.rename(ws / "oos.log.1", ws / "oos.log.2")
    update = stream.step()
    assert update.view.version > view.version  # the new name is published
    assert "oos.log.2" in {f.display for f in update.view.files if f is not None}
    assert _afresh(update.view)[:3] == ["old 0", "old 1", "old 2"]
    assert stream.step().view.total == view.total  # the same file, not a new one
    stream.close()


def test_a_hinted_rotated_name_triggers_discovery(tmp_path: Path) -> None:
    """The watcher names ``oos.log.2``: not ``*.log``, but a rotated log, looked at soon."""
    ws = _with_a_rotated_file(tmp_path)
    stream, now = _clocked_stream(ws)
    os.rename(ws / "oos.log.1", ws / "oos.log.2")
    now[0] += 1
    update = stream.step(hints=frozenset({os.path.realpath(ws / "oos.log.2")}))
    assert "oos.log.2" in {f.display for f in update.view.files if f is not None}
    assert _afresh(update.view)[:3] == ["old 0", "old 1", "old 2"]
    stream.close()


def _rotate(log: Path, lines: bytes) -> None:
    """Rotate as RotatingFileHandler does (``.k`` → ``.k+1``, the log → ``.1``), then write."""
    rotated = sorted(
        (int(p.name.rsplit(".", 1)[1]) for p in log.parent.glob(log.name + ".*")), reverse=True
    )
    for k in rotated:
        os.rename(f"{log}.{k}", f"{log}.{k + 1}")
    os.rename(log, f"{log}.1")
    log.write_bytes(lines)


def test_a_follower_two_rotations_behind_lists_each_line_once(tmp_path: Path) -> None:
    """Rotated twice between two polls: the file in between is the follower's to read.

    Discovery runs first in the step and finds ``oos.log.1``, which the follower
    will reach through the rotation: indexed as history too, it was listed twice.
    """
    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=0)
    _drain(stream)
    log = ws / "oos.log"
    _rotate(log, _pipe(20, title="second file"))
    _rotate(log, _pipe(21, title="third file"))
    seen = []
    for _ in range(3):
        seen += [e.message for e in stream.step().events]
    assert seen == ["second file", "third file"]
    messages = _afresh(stream.step().view)
    assert messages[-2:] == ["second file", "third file"]
    assert len(messages) == 12 and not [m for m in messages if m.startswith("!")]
    stream.close()


def test_lines_read_under_a_name_rotated_on_since_go_to_their_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer rotates again between the follower's read and the stream's look.

    Each line carries the name its file had when read (``oos.log.1``, ``oos.log``),
    which by then names another file: the lines must still go to the file they
    were read from (by inode), and each file be read back under its new name.
    """
    from oos_tui.sources.tail import Tailer

    ws = _workspace(tmp_path)
    stream = EventStream(load_settings(ws, env={}), include_store=False, rediscover_seconds=3600)
    _drain(stream)
    log = ws / "oos.log"
    with open(log, "ab") as producer:
        os.rename(log, ws / "oos.log.1")
        producer.write(_pipe(20, title="late in the first"))
    log.write_bytes(_pipe(21, title="second file"))
    real_poll = Tailer.poll

    def poll_then_rotate(self: Tailer):
        batch = real_poll(self)
        if self.path == log and batch.lines:
            monkeypatch.setattr(Tailer, "poll", real_poll)
            _rotate(log, _pipe(22, title="third file"))  # a writer, in the meantime
        return batch

    monkeypatch.setattr(Tailer, "poll", poll_then_rotate)
    update = stream.step()
    assert [e.message for e in update.events] == ["late in the first", "second file"]
    seen = [e.message for e in stream.step().events]
    assert seen == ["third file"]
    view = stream.step().view
    messages = _afresh(view)
    assert messages[-3:] == ["late in the first", "second file", "third file"]
    assert not [m for m in messages if m.startswith("!")]
    names = sorted(f.display for f in view.files if f is not None and "oos" in f.display)
    assert names == ["oos.log", "oos.log.1", "oos.log.2"]
    stream.close()
