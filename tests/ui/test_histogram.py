"""The Events histogram's counting (pure functions of the widget module)."""

from __future__ import annotations

import numpy as np

from oos_tui.widgets.histogram import SortedTimes, bucket

T0 = 1_759_111_200.0  # on a whole hour
NONE = SortedTimes.of(np.empty(0))


def test_bucket_counts_per_round_step_and_leaves_out_untimed_records() -> None:
    every = SortedTimes.of(np.array([0.0, 0.0, T0 + 1, T0 + 59, T0 + 60, T0 + 61, T0 + 179]))
    warn = SortedTimes.of(np.array([T0 + 60]))
    err = SortedTimes.of(np.array([T0 - 3600, T0 + 179]))  # before the first event: not drawn
    data = bucket(every, warn, err, width=10, cursor_ts=None)
    assert data is not None
    assert (data.start, data.step) == (T0, 60.0)
    assert data.total.tolist() == [2, 2, 1]
    assert data.warnings.tolist() == [0, 1, 0]
    assert data.errors.tolist() == [0, 0, 1]
    assert data.cursor is None
    assert bucket(SortedTimes.of(np.zeros(3)), NONE, NONE, 10, None) is None
    assert bucket(NONE, NONE, NONE, 10, None) is None


def test_bucket_picks_a_coarser_step_and_caps_the_columns() -> None:
    ts = T0 + np.arange(0, 7200, 10.0)  # two hours
    data = bucket(SortedTimes.of(ts), NONE, NONE, width=30, cursor_ts=None)
    assert data is not None and data.step == 300.0  # 24 columns of 5 minutes
    assert data.total.tolist() == [30] * 24
    data = bucket(SortedTimes.of(ts), NONE, NONE, width=10, cursor_ts=None)
    assert data is not None and data.step == 900.0 and data.total.tolist() == [90] * 8


def test_bucket_reads_a_few_times_not_every_one() -> None:
    ts = T0 + np.sort(np.random.default_rng(1).uniform(0, 86400, 2_000_000))
    reads = []

    def at(positions: np.ndarray) -> np.ndarray:
        reads.append(positions.shape[0])
        return ts[positions]

    data = bucket(SortedTimes(ts.shape[0], at), NONE, NONE, width=150, cursor_ts=None)
    assert data is not None and data.step == 600.0
    edges = data.start + data.step * np.arange(data.total.shape[0] + 1)
    assert data.total.tolist() == np.histogram(ts, bins=edges)[0].tolist()
    assert sum(reads) < 150 * 25  # ~log2(2,000,000) reads per column edge


def test_cursor_moves_without_recounting() -> None:
    ts = SortedTimes.of(T0 + np.arange(0, 600, 1.0))
    data = bucket(ts, NONE, NONE, width=20, cursor_ts=T0 + 130)
    assert data is not None and data.cursor == 2
    moved = data.at(T0 + 590)
    assert moved.cursor == 9 and moved.total is data.total  # the same counts, shared
    assert data.at(T0 + 135) is data
    assert data.at(T0 + 99_999).cursor is None and data.at(float("nan")).cursor is None
    assert data.at(None).cursor is None
