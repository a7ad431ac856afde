"""Pipeline counters from oos.log lifecycles."""

from __future__ import annotations

from oos_tui.pipeline import PipelineCounter

T0 = 1_759_111_200.0  # a minute boundary


def test_lifecycle_counts_by_item() -> None:
    c = PipelineCounter()
    c.feed("DISCOVER", "A", "i1", T0)
    c.feed("DISCOVER", "A", "i2", T0)
    c.feed("DISCOVER", "B", "i3", T0)
    c.feed("PROCESS", "A", "i1", T0 + 1)
    c.feed("PROCESS", "A", "i2", T0 + 1)
    c.feed("COMPLETE", "A", "i1", T0 + 2)
    c.feed("FAIL", "A", "i2", T0 + 3)
    s = c.snapshot(T0 + 30)
    assert (s.discovered, s.processing, s.completed, s.failed) == (1, 0, 1, 1)
    c.feed("RETRY", "A", "i2", T0 + 4)
    s = c.snapshot(T0 + 30)
    assert (s.processing, s.failed, s.retries) == (1, 0, 1)
    rates = {r.source: r.success_rate for r in s.by_source}
    assert rates == {"A": 0.5}


def test_throughput_window_is_the_last_hour() -> None:
    c = PipelineCounter()
    for minute in range(90):
        for _ in range(minute % 3):
            c.feed("COMPLETE", "A", None, T0 + minute * 60)
    s = c.snapshot(T0 + 89 * 60 + 5)
    assert len(s.completed_per_minute) == 60
    assert s.completed_per_minute[-1] == 89 % 3
    assert s.completed_last_hour == sum(m % 3 for m in range(30, 90))


def test_memory_is_bounded() -> None:
    c = PipelineCounter(max_tracked=100)
    for i in range(1000):
        c.feed("DISCOVER", "A", f"i{i}", T0)
    s = c.snapshot(T0)
    assert 90 <= s.discovered <= 100  # the oldest tenth is forgotten at once


def test_forgetting_drops_the_least_recently_touched_and_keeps_counts_true() -> None:
    c = PipelineCounter(max_tracked=10)
    for i in range(10):
        c.feed("DISCOVER", "A", f"i{i}", T0)
    c.feed("FAIL", "A", "i0", T0 + 1)  # touched: now the newest
    c.feed("DISCOVER", "A", "i10", T0 + 2)  # the 11th: i1 (the oldest) is forgotten
    s = c.snapshot(T0 + 3)
    assert (s.discovered, s.failed) == (9, 1)
    c.feed("COMPLETE", "A", "i0", T0 + 4)  # still known: leaves the failed count
    c.feed("COMPLETE", "A", "i1", T0 + 4)  # forgotten: nothing to take away
    s = c.snapshot(T0 + 5)
    assert (s.discovered, s.failed, s.completed) == (9, 0, 2)


def test_raw_history_lines_count_as_their_events_would() -> None:
    """feed_lines (the history's fast path) must agree with feed, state for state."""
    import random

    from oos_tui.formats import PIPE, pipe

    rng = random.Random(7)
    kinds = ["DISCOVER", "PROCESS", "RETRY", "COMPLETE", "FAIL", "NOTE"]
    lines = []
    for i in range(3000):
        item = "" if i % 97 == 0 else f"it\u00e9m{rng.randrange(400)}"
        kind = rng.choice(kinds)
        lines.append(pipe.write_line(T0 + i, kind, "podcast", f"S{i % 5}", item, {"n": i})[:-1])
    lines += [b"no fields here", b"", b"2025-09-29T02:00:00Z|COMPLETE|x|S9|i\xff|{}"]
    stamps = [T0 + i for i in range(len(lines))]
    raw = PipelineCounter(max_tracked=150)
    raw.feed_lines(lines, stamps)
    one = PipelineCounter(max_tracked=150)
    for line, ts in zip(lines, stamps, strict=True):
        parts = line.split(b"|", 5)
        if len(parts) == 6:
            ev = PIPE.parse(line, "oos.log", 1)
            source = getattr(ev, "source", parts[3].decode("utf-8", "replace"))
            item = getattr(ev, "item_id", parts[4].decode("utf-8", "replace") or None)
            one.feed(parts[1].decode(), source, item, ts)
    assert raw.snapshot(T0 + 4000) == one.snapshot(T0 + 4000)
    assert raw.snapshot(T0 + 4000).events == 3001
