"""The alert engine: every rule fires, holds, resolves and re-fires on synthetic inputs."""

from __future__ import annotations

import dataclasses
import types
from functools import partial
from typing import Any

import pytest

from oos_tui.alerts import (
    RULE_IDS,
    RULES,
    AlertEngine,
    AlertInputs,
    AlertReport,
    BackupFacts,
)
from oos_tui.clock import FrozenClock
from oos_tui.config import AlertSettings
from oos_tui.integrity import IntegrityRecord
from oos_tui.models import Breaker, QueueStats
from oos_tui.sources.system import HostSample
from oos_tui.store.reader import StoreHealth, StoreSnapshot

T0 = 1_800_000_000.0
GiB = 1024**3
HOST_STALE = 300.0


def health(**over: Any) -> StoreHealth:
    base: dict[str, Any] = dict(
        path="/ws/data/oos.db",
        present=True,
        readable=True,
        schema_version=1,
        newer_schema=False,
        journal_mode="wal",
        size_bytes=4096 * 100,
        wal_bytes=0,
        page_size=4096,
        page_count=100,
        freelist_count=0,
        missing_tables=(),
        message=None,
    )
    base.update(over)
    return StoreHealth(**base)


def snapshot(
    now: float,
    *,
    queues: dict[str, int] | None = None,
    breakers: dict[str, str] | None = None,
    dead: int = 0,
    data_version: int | None = 1,
    **health_over: Any,
) -> StoreSnapshot:
    return StoreSnapshot(
        taken_at=now,
        data_version=data_version,
        health=health(**health_over),
        queues=tuple(
            QueueStats(queue=q, pending=n, processing=2, oldest_pending_at=now - 600)
            for q, n in (queues or {}).items()
        ),
        task_counts=types.MappingProxyType({}),
        dead_letter_count=dead,
        breakers=tuple(
            Breaker(name, state, 10, 10, 10, 5, now - 60, now + 60, "boom\nmore", now)
            for name, state in (breakers or {}).items()
        ),
        backing_off=(),
        latest_event_rowid=0,
        audit_count=0,
    )


def host(
    ts: float,
    *,
    load1: float = 0.5,
    load5: float = 0.5,
    load15: float = 0.5,
    avail_pct: float = 50.0,
    disk_pct: float = 40.0,
) -> HostSample:
    total = 16 * GiB
    return HostSample(
        ts=ts,
        cpu_percent=10.0,
        per_cpu=(10.0, 10.0),
        load1=load1,
        load5=load5,
        load15=load15,
        mem_total=total,
        mem_available=int(total * avail_pct / 100),
        mem_percent=100 - avail_pct,
        swap_percent=0.0,
        disk_path="/ws",
        disk_total=1000 * GiB,
        disk_used=int(1000 * GiB * disk_pct / 100),
        disk_percent=disk_pct,
        disk_read_bps=None,
        disk_write_bps=None,
        self_cpu_percent=1.0,
        self_rss=50_000_000,
        self_threads=4,
    )


BACKED_UP = BackupFacts(True, T0 - 3600, 3, "/ws/data/backups")


class Harness:
    """An engine, a fake clock and healthy defaults for every input."""

    def __init__(self, **settings: Any) -> None:
        self.clock = FrozenClock(T0)
        self.engine = AlertEngine(AlertSettings(**settings))
        self.defaults: dict[str, Any] = {}

    def inputs(self, **over: Any) -> AlertInputs:
        now = self.clock.now()
        values: dict[str, Any] = dict(
            now=now,
            store=snapshot(now),
            host=host(now),
            integrity=None,
            backups=dataclasses.replace(BACKED_UP, newest_verified_at=now - 3600),
            error_counts=(0,) * 60,
            dead_letters_in_window=None,
        )
        values.update(self.defaults)
        values.update(over)
        if callable(values["store"]):
            values["store"] = values["store"](now)
        if callable(values["host"]):
            values["host"] = values["host"](now)
        return AlertInputs(**values)

    def update(self, advance: float = 0.0, **over: Any) -> AlertReport:
        self.clock.advance(advance)
        return self.engine.update(self.inputs(**over))


def ids(alerts: Any) -> list[str]:
    return [a.id for a in alerts]


# ------------------------------------------------------------- the cycle


def test_quiet_workspace_fires_nothing() -> None:
    h = Harness()
    report = h.update()
    assert report.firing == () and report.level == "ok" and report.exit_code == 0
    assert dict(report.unevaluated) == {}


def test_fire_hold_resolve_refire_cycle_keeps_instances_apart() -> None:
    h = Harness()
    over = partial(snapshot, queues={"ingest": 1500, "asr": 10})
    r1 = h.update(store=over)
    assert ids(r1.fired) == ["queue_depth:ingest"] and ids(r1.firing) == ["queue_depth:ingest"]
    first = r1.firing[0]
    assert first.first_seen == first.last_seen == T0 and first.resolved_at is None
    assert first.target == "queues" and first.target_arg == "ingest"
    assert "1,500 pending" in first.summary and first.severity == "warning"

    r2 = h.update(30, store=over)
    held = r2.firing[0]
    assert r2.fired == () and held.first_seen == T0 and held.last_seen == T0 + 30

    r3 = h.update(30)
    assert r3.firing == () and ids(r3.resolved) == ["queue_depth:ingest"]
    gone = r3.resolved[0]
    assert gone.resolved_at == T0 + 60 and gone.first_seen == T0 and not gone.firing
    assert ids(r3.recent) == ["queue_depth:ingest"]

    r4 = h.update(30, store=over)
    again = r4.fired[0]
    assert again.id == "queue_depth:ingest" and again.first_seen == T0 + 90
    assert ids(r4.recent) == ["queue_depth:ingest"]  # the old instance, still recent


def test_recently_resolved_expire_after_the_keep_window() -> None:
    h = Harness()
    h.engine = AlertEngine(AlertSettings(), keep_resolved_seconds=100)
    h.update(store=lambda now: snapshot(now, breakers={"dep_x": "open"}))
    assert ids(h.update(10).recent) == ["breaker_open:dep_x"]
    assert h.update(150).recent == ()


def test_unevaluated_rules_hold_their_alerts() -> None:
    h = Harness()
    h.update(host=lambda now: host(now, avail_pct=5))
    # Without a new sample, the latest one still stands while it is fresh.
    report = h.update(10, host=None)
    assert ids(report.firing) == ["memory_low:host"] and "memory_low" not in report.unevaluated
    stale = h.update(HOST_STALE + 1, host=None)
    assert "old" in stale.unevaluated["memory_low"] and "disk_full" in stale.unevaluated
    assert ids(stale.firing) == ["memory_low:host"]
    assert stale.firing[0].last_seen == T0 + 10  # held, not advanced
    assert stale.resolved == ()
    fresh = h.update(1, host=lambda now: host(now, avail_pct=50))
    assert ids(fresh.resolved) == ["memory_low:host"]


def test_firing_is_ordered_critical_first_and_levels() -> None:
    h = Harness()
    report = h.update(
        store=lambda now: snapshot(now, breakers={"b": "open"}),
        host=lambda now: host(now, avail_pct=3),
    )
    assert [a.severity for a in report.firing] == ["critical", "warning"]
    assert report.level == "critical" and report.exit_code == 2 and report.critical == 1
    only_warning = Harness().update(store=lambda now: snapshot(now, breakers={"b": "open"}))
    assert only_warning.level == "warning" and only_warning.exit_code == 1


def test_disabled_rules_and_instances() -> None:
    h = Harness(disabled=["breaker_open:noisy", "queue_depth", "no_such_rule"])
    report = h.update(
        store=lambda now: snapshot(
            now, queues={"ingest": 5000}, breakers={"noisy": "open", "db": "open"}
        )
    )
    assert ids(report.firing) == ["breaker_open:db"]
    assert h.engine.unknown_disabled == ("no_such_rule",)


def test_disabling_a_firing_rule_resolves_it() -> None:
    h = Harness()
    over = partial(snapshot, breakers={"x": "open"})
    h.update(store=over)
    h.engine.configure(AlertSettings(disabled=["breaker_open"]))
    report = h.update(5, store=over)
    assert ids(report.resolved) == ["breaker_open:x"]


def test_rule_table_documents_every_rule() -> None:
    assert [r.rule for r in RULES] == sorted({c[0] for c in RULE_CASES}, key=RULE_IDS.index)
    assert len(RULES) == 10
    for info in RULES:
        assert info.condition and info.severity and info.target and info.one_shot


# ------------------------------------------------------------- the rules


def test_queue_depth_threshold_from_config() -> None:
    h = Harness(queue_pending=10)
    assert h.update(store=lambda now: snapshot(now, queues={"q": 10})).firing == ()
    fired = h.update(1, store=lambda now: snapshot(now, queues={"q": 11})).firing
    assert ids(fired) == ["queue_depth:q"] and "over 10" in fired[0].summary


def test_breaker_open_per_breaker_half_open_does_not_fire() -> None:
    h = Harness()
    r = h.update(store=lambda now: snapshot(now, breakers={"a": "open", "b": "half_open"}))
    assert ids(r.firing) == ["breaker_open:a"]
    a = r.firing[0]
    assert a.severity == "warning" and a.target == "breakers" and a.target_arg == "a"
    assert "boom" in a.detail and "more" not in a.detail
    r = h.update(30, store=lambda now: snapshot(now, breakers={"a": "half_open"}))
    assert ids(r.resolved) == ["breaker_open:a"]


def test_store_unreadable_is_critical_and_holds_store_rules() -> None:
    h = Harness()
    h.update(store=lambda now: snapshot(now, breakers={"a": "open"}))
    bad = partial(
        snapshot,
        data_version=None,
        readable=False,
        message="store is corrupt: file is not a database",
    )
    r = h.update(5, store=bad)
    assert ids(r.fired) == ["store_unreadable:store"]
    assert r.fired[0].severity == "critical" and r.fired[0].target == "resources"
    assert "breaker_open" in r.unevaluated and ids(r.resolved) == []
    assert "breaker_open:a" in ids(r.firing)


def test_store_busy_is_a_warning() -> None:
    h = Harness()
    busy = partial(snapshot, readable=False, message="store busy (locked by another process)")
    r = h.update(store=busy)
    assert [(a.id, a.severity) for a in r.firing] == [("store_unreadable:store", "warning")]


def test_absent_store_resolves_store_rules_and_needs_no_backup() -> None:
    h = Harness()
    h.update(store=lambda now: snapshot(now, breakers={"a": "open"}))
    absent = partial(
        snapshot, data_version=None, present=False, readable=False, message="store not found"
    )
    r = h.update(5, store=absent, backups=BackupFacts(True, None, 0))
    assert r.firing == () and ids(r.resolved) == ["breaker_open:a"]


def test_disk_full_warning_then_critical_is_one_instance() -> None:
    h = Harness()
    assert h.update(host=lambda now: host(now, disk_pct=80.0)).firing == ()
    r = h.update(10, host=lambda now: host(now, disk_pct=85.0))
    assert [(a.id, a.severity) for a in r.fired] == [("disk_full:workspace", "warning")]
    r = h.update(10, host=lambda now: host(now, disk_pct=96.0))
    assert r.fired == () and [a.severity for a in r.changed] == ["critical"]
    assert r.firing[0].first_seen == T0 + 10
    r = h.update(10, host=lambda now: host(now, disk_pct=70.0))
    assert ids(r.resolved) == ["disk_full:workspace"]


def test_disk_threshold_from_config() -> None:
    h = Harness(disk_percent=97.0)
    assert h.update(host=lambda now: host(now, disk_pct=96.0)).firing == ()
    r = h.update(1, host=lambda now: host(now, disk_pct=98.0))
    assert r.firing[0].severity == "critical"


def test_memory_low_is_critical() -> None:
    h = Harness(memory_available_percent=20.0)
    assert h.update(host=lambda now: host(now, avail_pct=25)).firing == ()
    r = h.update(2, host=lambda now: host(now, avail_pct=15))
    assert [(a.id, a.severity, a.target_arg) for a in r.firing] == [
        ("memory_low:host", "critical", "memory")
    ]
    assert ids(h.update(2, host=lambda now: host(now, avail_pct=30)).resolved) == [
        "memory_low:host"
    ]


def test_load_needs_five_minutes_over_the_limit() -> None:
    h = Harness()
    # A quiet first sample starts the observation: from then on only a
    # sustained run of samples can fire.
    h.update(host=lambda now: host(now, load1=1.0, load5=1.0))
    for _ in range(15):  # over from T0+20 to T0+300: 280 s, not yet
        r = h.update(20, host=lambda now: host(now, load1=6.0, load5=5.0))
        assert r.firing == ()
    r = h.update(20, host=lambda now: host(now, load1=6.0, load5=5.0))
    assert ids(r.fired) == ["load_high:host"] and "for 5 min+" in r.fired[0].summary
    first = r.fired[0].first_seen
    r = h.update(20, host=lambda now: host(now, load1=5.0, load5=5.0))
    assert r.firing[0].first_seen == first and r.firing[0].last_seen == h.clock.now()
    r = h.update(20, host=lambda now: host(now, load1=3.0, load5=5.0))
    assert ids(r.resolved) == ["load_high:host"]
    # One dip restarts the count.
    for _ in range(10):
        assert h.update(20, host=lambda now: host(now, load1=6.0, load5=6.0)).firing == ()


def test_load_threshold_and_duration_from_config() -> None:
    h = Harness(load1=2.0, load_minutes=1.0)
    h.update(host=lambda now: host(now, load1=0.5))
    h.update(30, host=lambda now: host(now, load1=2.5))
    assert h.update(30, host=lambda now: host(now, load1=2.5)).firing == ()
    assert ids(h.update(30, host=lambda now: host(now, load1=2.5)).firing) == ["load_high:host"]


def test_load_on_a_fresh_engine_uses_the_load_average_as_evidence() -> None:
    high_now_and_before = Harness().update(host=lambda now: host(now, load1=6.0, load5=4.5))
    assert ids(high_now_and_before.firing) == ["load_high:host"]
    assert "5-min average 4.50" in high_now_and_before.firing[0].summary
    spike_only = Harness().update(host=lambda now: host(now, load1=6.0, load5=2.0))
    assert spike_only.firing == ()
    easing = Harness().update(host=lambda now: host(now, load1=3.0, load5=6.0))
    assert easing.firing == ()


def test_load_gap_in_samples_restarts_the_observation() -> None:
    h = Harness()
    h.update(host=lambda now: host(now, load1=1.0, load5=1.0))
    for _ in range(10):
        h.update(20, host=lambda now: host(now, load1=1.0, load5=1.0))
    # The console was suspended for 10 minutes: the load average decides again.
    r = h.update(600, host=lambda now: host(now, load1=6.0, load5=5.0))
    assert ids(r.firing) == ["load_high:host"]


def test_load_rule_reads_a_history_of_samples() -> None:
    h = Harness()
    history = tuple(host(T0 - 400 + 20 * i, load1=6.0, load5=1.0) for i in range(20))
    r = h.update(host_history=history, host=lambda now: host(now, load1=6.0, load5=1.0))
    assert ids(r.firing) == ["load_high:host"] and "for 5 min+" in r.firing[0].summary


def test_dead_letter_growth_from_counts_over_the_window() -> None:
    h = Harness(dead_letter_growth=50, dead_letter_window_minutes=10.0)
    assert h.update(store=lambda now: snapshot(now, dead=100)).firing == ()
    assert h.update(300, store=lambda now: snapshot(now, dead=140)).firing == ()
    r = h.update(240, store=lambda now: snapshot(now, dead=151))
    assert ids(r.fired) == ["dead_letter_growth:store"] and "51 new" in r.fired[0].summary
    assert r.fired[0].target == "queues"
    # 10 minutes later the baseline has moved up to 140, then 151: growth falls away.
    r = h.update(400, store=lambda now: snapshot(now, dead=151))
    assert ids(r.resolved) == ["dead_letter_growth:store"]


def test_dead_letter_growth_survives_a_purge_in_the_window() -> None:
    h = Harness(dead_letter_growth=50)
    h.update(store=lambda now: snapshot(now, dead=500))
    h.update(60, store=lambda now: snapshot(now, dead=0))
    r = h.update(60, store=lambda now: snapshot(now, dead=60))
    assert ids(r.firing) == ["dead_letter_growth:store"]


def test_dead_letter_growth_from_failed_at_in_one_run() -> None:
    h = Harness(dead_letter_growth=5)
    assert h.update(dead_letters_in_window=5).firing == ()
    assert ids(Harness(dead_letter_growth=5).update(dead_letters_in_window=6).firing) == [
        "dead_letter_growth:store"
    ]


def test_integrity_failed_is_critical_until_a_good_check() -> None:
    h = Harness()
    bad = IntegrityRecord(False, T0 - 50, "*** in database main *** page 4 ...", "quick_check")
    r = h.update(integrity=bad)
    assert [(a.id, a.severity, a.target) for a in r.firing] == [
        ("integrity_failed:store", "critical", "resources")
    ]
    assert "page 4" in r.firing[0].summary
    assert h.update(10, integrity=bad).firing[0].first_seen == T0
    good = IntegrityRecord(True, T0 + 20, "ok", "integrity_check")
    assert ids(h.update(10, integrity=good).resolved) == ["integrity_failed:store"]
    backup_bad = IntegrityRecord(False, T0 + 30, "row 3 missing", "backup")
    assert "backup" in h.update(10, integrity=backup_bad).firing[0].summary


def test_backup_stale_after_max_age() -> None:
    h = Harness(backup_max_age_hours=24.0)
    fresh = BackupFacts(True, T0 - 23 * 3600, 4, "/ws/data/backups")
    assert h.update(backups=fresh).firing == ()
    r = h.update(2 * 3600, backups=fresh)
    assert ids(r.fired) == ["backup_stale:store"] and "25.0 h old" in r.fired[0].summary
    assert r.fired[0].target == "backups"
    newer = BackupFacts(True, h.clock.now() - 60, 5, "/ws/data/backups")
    assert ids(h.update(60, backups=newer).resolved) == ["backup_stale:store"]


def test_backup_stale_when_none_verified_or_none_at_all() -> None:
    unverified = Harness().update(backups=BackupFacts(True, None, 3, "/b"))
    assert "no verified backup among 3" in unverified.firing[0].summary
    nothing = Harness().update(backups=BackupFacts(True, None, 0, "/b"))
    assert "no backup" in nothing.firing[0].summary


def test_backup_information_unavailable() -> None:
    why = "backup information unavailable (no backup module in this build)"
    with_files = Harness().update(backups=BackupFacts(False, None, 2, "/b", why))
    assert with_files.firing == () and with_files.unevaluated["backup_stale"] == why
    without = Harness().update(backups=BackupFacts(False, None, 0, "/b", why))
    assert ids(without.firing) == ["backup_stale:store"]
    assert "backup_stale" in Harness().update(backups=None).unevaluated


def test_error_spike_needs_factor_and_minimum() -> None:
    h = Harness(error_spike_factor=3.0, error_spike_min_per_minute=5.0)
    quiet = (0,) * 59
    assert h.update(error_counts=(*quiet, 4)).firing == ()  # under the minimum
    r = h.update(60, error_counts=(*quiet, 5))
    assert ids(r.fired) == ["error_spike:events"]
    a = r.fired[0]
    assert a.target == "events" and a.target_arg == "severity>=error since:10m"
    busy = (4,) * 59  # mean 4/min: 12 is not over 3x
    assert ids(h.update(60, error_counts=(*busy, 12)).resolved) == ["error_spike:events"]
    assert ids(h.update(60, error_counts=(*busy, 13)).fired) == ["error_spike:events"]


def test_error_spike_without_counts_is_unevaluated() -> None:
    assert "error_spike" in Harness().update(error_counts=None).unevaluated
    assert "error_spike" in Harness().update(error_counts=(3,)).unevaluated


RULE_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("queue_depth", {"store": lambda n: snapshot(n, queues={"q": 2000})}, "warning", "queues"),
    (
        "breaker_open",
        {"store": lambda n: snapshot(n, breakers={"b": "open"})},
        "warning",
        "breakers",
    ),
    ("dead_letter_growth", {"dead_letters_in_window": 51}, "warning", "queues"),
    ("disk_full", {"host": lambda n: host(n, disk_pct=81)}, "warning", "resources"),
    ("load_high", {"host": lambda n: host(n, load1=5, load5=5)}, "warning", "resources"),
    ("memory_low", {"host": lambda n: host(n, avail_pct=9)}, "critical", "resources"),
    (
        "integrity_failed",
        {"integrity": IntegrityRecord(False, T0, "bad", "quick_check")},
        "critical",
        "resources",
    ),
    (
        "store_unreadable",
        {"store": lambda n: snapshot(n, data_version=None, readable=False, message="x")},
        "critical",
        "resources",
    ),
    ("backup_stale", {"backups": BackupFacts(True, T0 - 90000, 1)}, "warning", "backups"),
    ("error_spike", {"error_counts": (0,) * 59 + (9,)}, "warning", "events"),
]


@pytest.mark.parametrize(("rule", "over", "severity", "target"), RULE_CASES)
def test_each_rule_severity_and_target(
    rule: str, over: dict[str, Any], severity: str, target: str
) -> None:
    r = Harness().update(**over)
    mine = [a for a in r.firing if a.rule == rule]
    assert len(mine) == 1, r.firing
    assert mine[0].severity == severity and mine[0].target == target
    assert mine[0].id.startswith(f"{rule}:") and mine[0].summary and mine[0].detail
    assert mine[0].to_json()["first_seen"].endswith("Z")
