"""Console state folding and the status line, without a UI."""

from __future__ import annotations

from types import SimpleNamespace

from oos_tui.models import Event, Severity
from oos_tui.state import ConsoleState, refresh_age_label, status_line


def _snap(depths: dict[str, int], message: str | None = None, readable: bool = True):
    queues = tuple(SimpleNamespace(queue=q, pending=d) for q, d in depths.items())
    health = SimpleNamespace(
        message=message, readable=readable, present=True, schema_version=1, newer_schema=False
    )
    return SimpleNamespace(queues=queues, health=health)


def _event(sev: Severity) -> Event:
    return Event(ts=1.0, severity=sev, kind="oos", source="s", event_type="T", message="m")


def test_queue_history_grows_bounded() -> None:
    s = ConsoleState(workspace="/w", read_only=False)
    for i in range(200):
        s = s.with_store(_snap({"a": i}), now=float(i))
    assert s.queue_history["a"][-1] == 199
    assert len(s.queue_history["a"]) == 120
    assert s.last_refresh == 199.0


def test_store_error_shows_and_clears() -> None:
    s = ConsoleState(workspace="/w", read_only=False)
    s = s.with_store(_snap({}, "store busy (locked)", readable=False), now=1.0)
    assert s.feed_errors["store"] == "store busy (locked)"
    s = s.with_store(_snap({}), now=2.0)
    assert "store" not in s.feed_errors


def test_latest_errors_and_unreadable_counts() -> None:
    s = ConsoleState(workspace="/w", read_only=False)
    s2 = s.with_events([_event(Severity.INFO)], unreadable=0)
    assert s2 is s  # nothing to show: no new state, no repaint
    s3 = s.with_events([_event(Severity.ERROR), _event(Severity.INFO)], unreadable=2)
    assert len(s3.latest_errors) == 1 and s3.unreadable_lines == 2


def test_refresh_age_is_coarse() -> None:
    assert refresh_age_label(None, 10) == "never"
    assert refresh_age_label(10, 12) == refresh_age_label(10, 14.9) == "<5s"
    assert refresh_age_label(0, 25) == "20s+"
    assert refresh_age_label(0, 600) == "10m+"


def test_status_line_fields() -> None:
    s = ConsoleState(workspace="/srv/ws", read_only=True)
    s = s.with_store(_snap({"a": 1}), now=100.0).with_feed_error("logs", "permission denied")
    line = status_line(s, now=101.0)
    assert line.mode == "read-only" and line.schema == "schema v1"
    assert line.refresh == "<5s" and not line.stale
    assert line.problem == "permission denied"
    assert status_line(s, now=200.0).stale
