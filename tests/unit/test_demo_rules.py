"""The demo's pipeline rules: backoff ladder, breaker transitions, error signatures."""

from __future__ import annotations

import dataclasses

from oos_tui.demo.rules import (
    Breaker,
    admit,
    backoff_seconds,
    headline,
    record_failure,
    record_success,
    signature,
)
from oos_tui.formats.base import format_ts

T0 = 1_735_689_600.0  # 2025-01-01T00:00:00Z
CLOSED = Breaker("dep_x", "closed", 0, 10, 0, 0, None, None, None, format_ts(T0))


def test_backoff_follows_the_contract_ladder() -> None:
    got = [backoff_seconds(n) for n in range(1, 12)]
    assert got == [1, 2, 4, 8, 16, 32, 64, 120, 300, 300, 300]


def _fail(row: Breaker, n: int, t: float = T0) -> Breaker:
    for _ in range(n):
        row = record_failure(row, t, "HTTPError: 503", 30.0)
    return row


def test_breaker_opens_at_the_threshold_and_not_before() -> None:
    nine = _fail(CLOSED, 9)
    assert nine.state == "closed"
    assert (nine.consecutive_failures, nine.total_failures) == (9, 9)
    ten = record_failure(nine, T0 + 1, "HTTPError: 503", 30.0)
    assert ten.state == "open"
    assert ten.opened_at == format_ts(T0 + 1)
    assert ten.retry_at == format_ts(T0 + 31)
    assert ten.last_error == "HTTPError: 503"


def test_open_breaker_refuses_until_retry_at_then_goes_half_open() -> None:
    opened = _fail(CLOSED, 10)
    assert admit(opened, T0 + 29.9) == (False, None)
    allowed, changed = admit(opened, T0 + 30)
    assert allowed
    assert changed is not None and changed.state == "half_open"
    assert admit(CLOSED, T0) == (True, None)


def test_half_open_trial_closes_on_success_and_reopens_on_failure() -> None:
    half = dataclasses.replace(_fail(CLOSED, 10), state="half_open")
    closed = record_success(half, T0 + 40)
    assert closed.state == "closed"
    assert (closed.consecutive_failures, closed.opened_at, closed.retry_at) == (0, None, None)
    assert closed.total_successes == 1
    reopened = record_failure(half, T0 + 40, "boom", 30.0)
    assert reopened.state == "open"
    assert reopened.retry_at == format_ts(T0 + 70)
    assert reopened.consecutive_failures == 11


def test_success_in_flight_while_open_is_counted_only() -> None:
    opened = _fail(CLOSED, 10)
    after = record_success(opened, T0 + 5)
    assert after.state == "open"
    assert after.consecutive_failures == 10
    assert after.total_successes == 1


def test_success_resets_consecutive_failures_only() -> None:
    row = record_success(_fail(CLOSED, 4), T0)
    assert (row.consecutive_failures, row.total_failures, row.total_successes) == (0, 4, 1)


def test_retry_at_written_by_another_program_is_understood() -> None:
    opened = dataclasses.replace(_fail(CLOSED, 10), retry_at="2025-01-01 00:01:00+00:00")
    assert admit(opened, T0 + 59)[0] is False
    assert admit(opened, T0 + 60)[0] is True
    unreadable = dataclasses.replace(opened, retry_at="soon")
    assert admit(unreadable, T0)[0] is True


def test_signature_groups_errors_of_one_cause() -> None:
    a = "HTTPError: 503 Service Unavailable for url: https://badfeed.example.net/rss?page=1"
    b = "HTTPError: 503 Service Unavailable for url: https://badfeed.example.net/rss?page=3"
    assert signature(a) == signature(b)
    c = "MapperParsingError: failed to parse field [published_at] of Archive_000137"
    d = "MapperParsingError: failed to parse field [published_at] of Archive_002355"
    assert signature(c) == signature(d) != signature(a)
    trace = "Traceback (most recent call last):\n  File \"/x.py\", line 3, in run\nKeyError: 'x'"
    assert headline(trace) == "KeyError: 'x'"
    assert signature(trace) == signature("KeyError: 'y'")
