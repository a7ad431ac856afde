"""Finding unreadable lines (no UI): the gapped order, the quick guess, the finder on real files.

The truth every test compares with is the stream's own record reader: a ref
is unreadable when :class:`RecordReader` gives a :class:`ParseError` for it,
which is what the Events list draws as ``???``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oos_tui.config import load_settings
from oos_tui.eventlog import unreadable
from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.chunked import Chunked, Run
from oos_tui.eventlog.search import SearchCancelled
from oos_tui.eventlog.stream import REF_SHIFT, EventStream, StreamView
from oos_tui.eventlog.unreadable import GappedOrder, UnreadableFinder, suspect_records
from oos_tui.formats import ai, get_format, pipe
from oos_tui.formats.base import format_ts
from oos_tui.models import ParseError

T0 = 1_759_111_200.0


def _good(i: int) -> bytes:
    return pipe.write_line(T0 + i, "PROCESS", "podcast", "Src", f"item{i}", {"title": f"t{i}"})


BROKEN_JSON = f'{format_ts(T0 + 3.5)}|PROCESS|podcast|Src|x|{{"title":"no",}}\n'.encode()
"""The right shape, time and ending for ``oos.log``: only a parse finds it unreadable."""

BAD_LINES = [
    b"not a pipe line at all\n",
    f"{format_ts(T0 + 1.5)};PROCESS;podcast;Src|x|{{}}\n".encode(),  # wrong separators
    f'{format_ts(T0 + 2.5)}|PROCESS|podcast|Src|x|{{"title":"cut\n'.encode(),
    f'{format_ts(T0 + 2.7)}|PROCESS|podcast|Src|x|{{"title":"\x1b[31m"}}\n'.encode(),
    b"\n",
    BROKEN_JSON,
]


def _drain(stream: EventStream) -> StreamView:
    update = stream.step()
    while update.more or not update.view.ready:
        update = stream.step()
    return update.view


def _truth(view: StreamView) -> tuple[list[int], list[int]]:
    """(unreadable refs sorted, the order without them) read record by record."""
    reader = RecordReader()
    try:
        order = view.order.array().tolist()
        bad = {ref for ref in order if isinstance(reader.record(view, ref), ParseError)}
    finally:
        reader.close()
    return sorted(bad), [ref for ref in order if ref not in bad]


def _workspace(tmp_path: Path) -> Path:
    """``oos.log`` with good lines and every kind of bad one, ``ai_events.log`` likewise."""
    ws = tmp_path / "ws"
    ws.mkdir()
    lines: list[bytes] = []
    for i in range(10):
        lines.append(_good(i))
        if i < len(BAD_LINES):
            lines.append(BAD_LINES[i])
    (ws / "oos.log").write_bytes(b"".join(lines))
    (ws / "ai_events.log").write_bytes(
        ai.write_line(T0 + 0.5, "decision", "ai", "router", {"message": "fine"})
        + f'{{"timestamp":"{format_ts(T0 + 4.5)}","message":"cut"\n'.encode()
        + b'["not", "an", "object"]\n'
        + ai.write_line(T0 + 6.5, "decision", "ai", "router", {"message": "fine"})
    )
    return ws


def _stream(ws: Path) -> EventStream:
    return EventStream(load_settings(ws, env={}), include_store=False)


# -- the gapped order ---------------------------------------------------------------------


def _orders() -> list[tuple[str, Chunked | Run]]:
    values = np.arange(1000, 1300, dtype=np.int64)
    values[[10, 11]] = values[[11, 10]]
    run = Run.of(values)
    assert run is not None
    return [("chunked", Chunked.of(values)), ("run", run)]


@pytest.mark.parametrize("name,order", _orders())
@pytest.mark.parametrize(
    "holes",
    [[], [0], [299], [0, 1, 2, 150, 298, 299], list(range(0, 300, 7)), list(range(300))],
)
def test_gapped_order_reads_like_the_order_without_its_holes(
    name: str, order: Chunked | Run, holes: list[int]
) -> None:
    gapped = GappedOrder(order, np.asarray(holes, dtype=np.int64))
    expected = np.delete(order.array(), holes).tolist()
    assert gapped.length == len(gapped) == len(expected)
    assert gapped.array().tolist() == expected
    assert [gapped[i] for i in range(len(expected))] == expected
    if expected:
        assert gapped[-1] == expected[-1]
        assert order[gapped.position(len(expected) - 1)] == expected[-1]
    for lo, hi in ((0, 5), (3, 40), (140, 160), (290, 400), (-5, 2), (7, 7), (9, 3)):
        assert gapped.slice(lo, hi).tolist() == expected[max(0, lo) : max(0, hi)], (lo, hi)
    with pytest.raises(IndexError):
        gapped[len(expected)]


def test_gapped_order_is_what_the_event_list_can_read() -> None:
    # The list reads its rows through ``length``, ``[row]`` and ``slice``.
    gapped = GappedOrder(Chunked.of(np.arange(10, dtype=np.int64)), np.array([2, 5]))
    assert hasattr(gapped, "length") and hasattr(gapped, "slice")
    assert int(gapped[2]) == 3 and gapped.slice(1, 4).tolist() == [1, 3, 4]


# -- the quick guess --------------------------------------------------------------------------


def _spans(lines: list[bytes]) -> tuple[bytes, np.ndarray, np.ndarray]:
    data = b"".join(lines)
    starts, stops, at = [], [], 0
    for line in lines:
        starts.append(at)
        stops.append(at + len(line) - 1)  # without the newline
        at += len(line)
    return data, np.asarray(starts), np.asarray(stops)


def test_quick_guess_flags_broken_shapes_and_passes_good_lines() -> None:
    crlf = _good(7)[:-1] + b"\r\n"
    lines = [_good(0), *BAD_LINES[:5], crlf, BROKEN_JSON, _good(9)]
    data, starts, stops = _spans(lines)
    flagged = suspect_records(get_format("pipe"), data, starts, stops).tolist()
    # Every broken shape is flagged; good lines (CRLF too) are not; the broken
    # JSON of the right shape is not either: that is what the thorough pass is for.
    assert flagged == [False, True, True, True, True, True, False, False, False]


def test_quick_guess_for_json_lines() -> None:
    good = ai.write_line(T0, "decision", "ai", "router", {"message": "m"})
    lines = [good, b'{"timestamp":"2025-09-29T02:00:00Z"\n', b"[1, 2]\n", b" \n", good]
    data, starts, stops = _spans(lines)
    flagged = suspect_records(get_format("ai"), data, starts, stops).tolist()
    assert flagged == [False, True, True, True, False]


def test_every_flagged_line_is_confirmed_by_parsing_before_it_counts(tmp_path: Path) -> None:
    # A good line that only looks odd (its data a JSON string) is suspect but readable.
    ws = tmp_path / "ws"
    ws.mkdir()
    odd = pipe.write_line(T0 + 1, "PROCESS", "podcast", "Src", "x", "just text")
    (ws / "oos.log").write_bytes(_good(0) + odd + _good(2))
    data, starts, stops = _spans([_good(0), odd, _good(2)])
    assert suspect_records(get_format("pipe"), data, starts, stops).tolist()[1]
    stream = _stream(ws)
    view = _drain(stream)
    result = UnreadableFinder().find(view)
    assert result.count == 0 and result.complete and result.rows.length == 3
    stream.close()


# -- the finder on real files ------------------------------------------------------------------


def test_finder_quick_pass_then_thorough_pass_equals_parsing_every_line(
    tmp_path: Path, monkeypatch
) -> None:
    stream = _stream(_workspace(tmp_path))
    view = _drain(stream)
    truth_refs, truth_rows = _truth(view)
    assert len(truth_refs) == len(BAD_LINES) + 2

    # As for a big file: a call that read many new lines returns after its quick pass.
    monkeypatch.setattr(unreadable, "_QUICK_ALONE", 10)
    finder = UnreadableFinder()
    quick = finder.find(view)
    # The quick pass alone: every bad line but the broken JSON of the right shape.
    assert not quick.complete and quick.checked == 0
    assert quick.count == len(truth_refs) - 1
    assert set(quick.refs.tolist()) < set(truth_refs)

    full = finder.find(view)  # nothing new: the thorough pass (one call, a small file)
    assert full.complete and full.checked == 1.0
    assert full.refs.tolist() == truth_refs
    assert full.rows.array().tolist() == truth_rows
    assert full.view is view and full.version == view.version
    stream.close()


def test_thorough_pass_works_in_bounded_slices_and_keeps_its_progress(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(unreadable, "_SLICE", 3)
    ticks = iter(range(10_000))
    # Each look at the clock is a second later; one second per call: one slice a call.
    finder = UnreadableFinder(thorough_seconds=1, clock=lambda: float(next(ticks)))
    stream = _stream(_workspace(tmp_path))
    view = _drain(stream)
    truth_refs, truth_rows = _truth(view)
    checked: list[float] = []
    result = finder.find(view)
    while not result.complete:
        checked.append(result.checked)
        result = finder.find(view)
    assert len(checked) >= 4 and checked == sorted(checked)
    assert result.refs.tolist() == truth_refs
    assert result.rows.array().tolist() == truth_rows
    stream.close()


def test_a_cancelled_call_raises_and_the_next_one_goes_on(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(unreadable, "_CHUNK_BYTES", 300)  # a few lines per chunk
    stream = _stream(_workspace(tmp_path))
    view = _drain(stream)
    truth_refs, _ = _truth(view)
    finder = UnreadableFinder()
    asked = [0]

    def cancelled() -> bool:
        asked[0] += 1
        return asked[0] > 3

    with pytest.raises(SearchCancelled):
        finder.find(view, cancelled=cancelled)
    done = sum(scan.quick for scan in finder._files.values())
    assert 0 < done < sum(f.count for f in view.files if f is not None)
    result = finder.find(view)
    assert result.complete and result.refs.tolist() == truth_refs
    stream.close()


@pytest.mark.parametrize("locate_max", [0, 2048], ids=["order scan", "by time"])
def test_following_reads_only_new_lines_and_keeps_the_rows_right(
    tmp_path: Path, monkeypatch, locate_max: int
) -> None:
    monkeypatch.setattr(unreadable, "_LOCATE_MAX", locate_max)
    ws = _workspace(tmp_path)
    stream = _stream(ws)
    view = _drain(stream)
    finder = UnreadableFinder()
    first = finder.find(view)
    assert first.complete and first.scanned == sum(f.count for f in view.files if f is not None)
    log = ws / "oos.log"
    appended = [
        [_good(20), b"junk after 20\n", _good(21)],
        [BROKEN_JSON.replace(b"T02:00:03.500Z", b"T02:00:22.000Z"), _good(23)],
        # Older than the newest lines: the order's tail is sorted again.
        [_good(12), b"junk after 12\n"],
        [_good(30)],
    ]
    for batch in appended:
        with open(log, "ab") as fh:
            fh.write(b"".join(batch))
        view = stream.step().view
        result = finder.find(view)
        truth_refs, truth_rows = _truth(view)
        assert result.complete
        assert result.scanned == len(batch), "only the new lines are read"
        assert result.refs.tolist() == truth_refs
        assert result.rows.array().tolist() == truth_rows
    assert result.count == len(BAD_LINES) + 2 + 3
    stream.close()


def test_a_file_replaced_in_its_slot_is_read_again(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    stream = _stream(ws)
    view = _drain(stream)
    finder = UnreadableFinder()
    assert finder.find(view).count == len(BAD_LINES) + 2
    stream.close()
    # Another stream over another file (a reload): the same slot names other
    # records, more of them than before, so only the file's identity tells.
    # (Written beside it first: the new file cannot reuse the old one's inode.)
    (ws / "new.tmp").write_bytes(b"".join(_good(i) for i in range(30)) + b"junk\n")
    (ws / "new.tmp").replace(ws / "oos.log")
    stream = _stream(ws)
    view = _drain(stream)
    truth_refs, truth_rows = _truth(view)
    result = finder.find(view)
    assert result.refs.tolist() == truth_refs and len(truth_refs) == 3
    assert result.rows.array().tolist() == truth_rows
    stream.close()


def test_refs_are_per_source(tmp_path: Path) -> None:
    stream = _stream(_workspace(tmp_path))
    view = _drain(stream)
    result = UnreadableFinder().find(view)
    srcs = {ref >> REF_SHIFT for ref in result.refs.tolist()}
    names = {view.files[src].display for src in srcs}  # type: ignore[union-attr]
    assert names == {"oos.log", "ai_events.log"}
    stream.close()


def test_a_file_gone_since_it_was_indexed_counts_as_unreadable(tmp_path: Path) -> None:
    # The list draws each record of a file it can no longer read as "???"
    # (file rotated away or unreadable): those rows are hidden too.
    ws = _workspace(tmp_path)
    stream = _stream(ws)
    view = _drain(stream)
    (ws / "ai_events.log").unlink()
    truth_refs, truth_rows = _truth(view)
    result = UnreadableFinder().find(view)
    assert result.complete
    assert result.refs.tolist() == truth_refs
    assert result.rows.array().tolist() == truth_rows
    ai_src = next(f.src for f in view.files if f is not None and f.display == "ai_events.log")
    assert sum(1 for ref in truth_refs if ref >> REF_SHIFT == ai_src) == 4
    stream.close()
