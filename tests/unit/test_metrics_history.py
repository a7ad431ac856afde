"""The producer's system_metrics history: gaps, malformed lines, rotations, bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oos_tui.formats import ai
from oos_tui.formats.ai import AI
from oos_tui.models import Event, iso
from oos_tui.sources.metrics_history import (
    MetricSample,
    ProducerHistory,
    numeric_metrics,
    read_metrics_history,
    sample_from_event,
)

NOW = float(int(time.time()))


def metric(ts: float, cpu: float = 10.0, mem: float = 40.0, **more: object) -> bytes:
    sample = {"cpu_percent": cpu, "memory_percent": mem, **more}
    return ai.write_line(ts, "metric", "system", "svc", {"action": "tick"}, sample)


def plain(ts: float) -> bytes:
    return ai.write_line(ts, "decision", "ai", "svc", {"message": "chose"})


def test_samples_in_order_with_every_numeric_key(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    log.write_bytes(
        metric(NOW - 30, 11.0, 41.0)
        + plain(NOW - 25)
        + metric(NOW - 20, 12.0, 42.0, disk={"percent": 70.5, "mount": "/"}, gpu=True)
        + metric(NOW - 10, 13.0, 43.0, load=1.5)
    )
    h = read_metrics_history(log, NOW)
    assert [s.ts for s in h.samples] == [NOW - 30, NOW - 20, NOW - 10]
    assert [s.cpu_percent for s in h.samples] == [11.0, 12.0, 13.0]
    assert h.samples[1].values["disk.percent"] == 70.5 and "gpu" not in h.samples[1].values
    assert h.keys == ("cpu_percent", "memory_percent", "disk.percent", "load")
    assert h.median_interval == 10.0 and h.gaps == 0 and h.malformed == 0
    assert h.series("load") == ((NOW - 30, None), (NOW - 20, None), (NOW - 10, 1.5))


def test_gaps_are_marked_and_break_the_series(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    times = [NOW - 3000 + 10 * i for i in range(20)] + [NOW - 1000 + 10 * i for i in range(20)]
    log.write_bytes(b"".join(metric(t, cpu=float(i)) for i, t in enumerate(times)))
    h = read_metrics_history(log, NOW, gap_factor=5.0)
    assert h.median_interval == 10.0 and h.gaps == 1
    assert [s.gap_before for s in h.samples].index(True) == 20
    series = h.series("cpu_percent")
    assert len(series) == 41 and series[20] == ((times[19] + times[20]) / 2, None)
    assert series[21] == (times[20], 20.0)


def test_malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    log.write_bytes(
        metric(NOW - 50)
        + b"garbage\n"
        + b'{"timestamp": "2027-01-01T00:00:00", "system_metrics": {"cpu_percent": 3\n'
        + b'{"timestamp": "never", "system_metrics": {"cpu_percent": 3}}\n'
        + f'{{"timestamp": "{iso(NOW - 40)}", "system_metrics": "cpu 5%"}}\n'.encode()
        + b'{"timestamp": "2027-01-01T00:00:00", "system_metrics": null}\n'
        + b"\n"
        + metric(NOW - 30)
        + b'{"timestamp": "2027-01-01T00:00:00", "system_metrics": {"cpu_percent": "high"}}\n'
        + metric(NOW - 20)[:-1]  # partial last line: not read yet
    )
    h = read_metrics_history(log, NOW)
    assert [s.ts for s in h.samples] == [NOW - 50, NOW - 30]
    assert h.malformed == 4


def test_rotations_are_read_newest_first_until_the_window_ends(tmp_path: Path) -> None:
    live = tmp_path / "ai_events.log"
    (tmp_path / "ai_events.log.2").write_bytes(metric(NOW - 30 * 3600))
    (tmp_path / "ai_events.log.1").write_bytes(metric(NOW - 25 * 3600) + metric(NOW - 3600))
    live.write_bytes(metric(NOW - 60))
    h = read_metrics_history(live, NOW, hours=24)
    assert [s.ts for s in h.samples] == [NOW - 3600, NOW - 60]
    assert [Path(f).name for f in h.files] == ["ai_events.log", "ai_events.log.1"]


def test_missing_log_is_an_empty_history(tmp_path: Path) -> None:
    h = read_metrics_history(tmp_path / "ai_events.log", NOW)
    assert h.samples == () and h.files == () and h.keys == ()


def test_count_bound_keeps_the_newest(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    log.write_bytes(b"".join(metric(NOW - 2000 + i, cpu=float(i)) for i in range(2000)))
    h = read_metrics_history(log, NOW, max_samples=100)
    assert len(h.samples) == 100 and h.truncated
    assert h.samples[-1].cpu_percent == 1999.0 and h.samples[0].cpu_percent == 1900.0


def test_huge_log_reads_only_the_window(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    old = metric(NOW - 48 * 3600)
    with open(log, "wb") as fh:
        fh.write(old * 100_000)  # ~21 MB two days old
        for i in range(200):
            fh.write(metric(NOW - 3600 + 10 * i))
    h = read_metrics_history(log, NOW, hours=6)
    assert len(h.samples) == 200 and not h.truncated
    assert h.bytes_read <= 128 * 1024 < log.stat().st_size // 100


def test_extended_with_live_samples(tmp_path: Path) -> None:
    log = tmp_path / "ai_events.log"
    log.write_bytes(b"".join(metric(NOW - 100 + 10 * i) for i in range(5)))
    h = read_metrics_history(log, NOW)
    later = [MetricSample(NOW - 50, {"cpu_percent": 1.0}), MetricSample(NOW + 500, {"x": 2.0})]
    h2 = h.extended([*later, MetricSample(NOW - 90, {"cpu_percent": 9.0})], NOW + 500)
    assert [s.ts for s in h2.samples][-2:] == [NOW - 50, NOW + 500]
    assert h2.samples[-1].gap_before and not h2.samples[-2].gap_before
    assert "x" in h2.keys and h.extended([], NOW) is h


def test_extended_stays_bounded() -> None:
    h = ProducerHistory(max_samples=3)
    h = h.extended((MetricSample(NOW + i, {"a": 1.0}) for i in range(10)), NOW + 10)
    assert [s.ts for s in h.samples] == [NOW + 7, NOW + 8, NOW + 9]


def test_sample_from_a_live_event() -> None:
    ev = AI.parse(metric(NOW, cpu=55.0).rstrip(b"\n"), "ai_events.log", 1)
    assert isinstance(ev, Event)
    s = sample_from_event(ev)
    assert s is not None and s.ts == NOW and s.cpu_percent == 55.0
    no_metrics = AI.parse(plain(NOW).rstrip(b"\n"), "ai_events.log", 2)
    assert isinstance(no_metrics, Event) and sample_from_event(no_metrics) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1, "b": 2.5, "c": True, "d": "3", "e": float("nan")}, {"a": 1.0, "b": 2.5}),
        ({"n": {"x": 1, "y": {"deep": 2}}}, {"n.x": 1.0}),
        ([1, 2], None),
        ("text", None),
        ({}, {}),
    ],
)
def test_numeric_metrics(value: object, expected: dict[str, float] | None) -> None:
    assert numeric_metrics(value) == expected
