"""Timestamp parsing: every shape the contract's formats write, and garbage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oos_tui.timeutil import format_duration, parse_ts

BASE = datetime(2025, 9, 29, 2, 0, 19, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-29T02:00:19Z", BASE),
        ("2025-09-29T02:00:19.480Z", BASE + 0.48),
        ("2025-09-29T02:00:19.480", BASE + 0.48),  # naive is UTC
        ("2025-09-29 02:00:19,480", BASE + 0.48),  # Python logging
        ("2025-09-29T04:00:19+02:00", BASE),
        ("2025-09-29T04:00:19+0200", BASE),
        ("2025-09-29T00:00:19-02:00", BASE),
        ("2025-09-29T02:00:19.1234567Z", BASE + 0.123456),
    ],
)
def test_shapes(text: str, expected: float) -> None:
    assert parse_ts(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "2025-13-01T00:00:00Z",
        "2025-09-29T25:00:00Z",
        "2025-09-29T02:00:1x",
        "2025-09-29T02:00:²²Z",
        "not-a-timestamp-at-all",
        "2025-09-29T02:00:19ZZ",
    ],
)
def test_garbage_is_none_never_an_exception(text: str) -> None:
    assert parse_ts(text) is None


def test_format_duration() -> None:
    assert format_duration(None) == "-"
    assert format_duration(5.9) == "5s"
    assert format_duration(65) == "1m05s"
    assert format_duration(3 * 3600 + 7 * 60) == "3h07m"
    assert format_duration(2 * 86400 + 4 * 3600) == "2d04h"
    assert format_duration(-65) == "-1m05s"
