"""The alert engine: the OOS system's alert rules over snapshots, firing and resolving.

An :class:`AlertEngine` is fed :class:`AlertInputs` (a store snapshot, a host
sample, the last integrity check, the newest verified backup, recent error
counts) and answers with an :class:`AlertReport`: what fires now, what
started or stopped firing since the last call, and what resolved recently.
It keeps the little state some rules need (how long the load has been high,
dead-letter counts over a window), takes "now" from its inputs, and reads no
clock and no file, so every rule is tested with synthetic inputs and a fake
clock. The same engine serves the console (fed every few seconds) and the
one-shot ``oos-tui status`` (fed once; see each rule for what it uses then).

A rule that cannot be evaluated (no host sample yet, store unreadable, no
backup information) neither fires nor resolves: its alerts hold, and the
report says why in ``unevaluated``.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from oos_tui.integrity import IntegrityRecord, last_integrity, record_integrity
from oos_tui.models import iso

if TYPE_CHECKING:
    from oos_tui.config import AlertSettings, Settings
    from oos_tui.sources.system import HostSample
    from oos_tui.store.reader import StoreSnapshot

__all__ = [
    "DISK_CRITICAL_PERCENT",
    "RULES",
    "RULE_IDS",
    "Alert",
    "AlertEngine",
    "AlertInputs",
    "AlertReport",
    "BackupFacts",
    "RuleInfo",
    "backup_facts",
    "count_dead_letters_since",
    "last_integrity",
    "record_integrity",
]

AlertSeverity = Literal["warning", "critical"]

DISK_CRITICAL_PERCENT = 95.0
"""Disk use above this (or above ``disk_percent`` if that is higher) is critical."""

HOST_STALE_SECONDS = 300.0
"""A host sample older than this says nothing about now: host rules hold."""

LOAD_GAP_SECONDS = 120.0
"""Host samples further apart than this break the "load high for N minutes" run."""

EVENTS_QUERY = "severity>=error since:10m"
"""Where the error-spike alert points: the event stream's recent errors."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One alert rule, as documented in the README's table."""

    rule: str
    condition: str
    severity: str
    target: str
    one_shot: str
    """How ``oos-tui status`` (one run, no history) evaluates it."""


RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        "queue_depth",
        "a queue has more than `queue_pending` (1000) pending tasks; one alert per queue",
        "warning",
        "queues (the queue)",
        "the same, on one snapshot",
    ),
    RuleInfo(
        "breaker_open",
        "a circuit breaker is `open`; one alert per breaker (half-open does not fire)",
        "warning",
        "breakers (the breaker)",
        "the same, on one snapshot",
    ),
    RuleInfo(
        "dead_letter_growth",
        "more than `dead_letter_growth` (50) new dead letters within "
        "`dead_letter_window_minutes` (10)",
        "warning",
        "queues (dead letters)",
        "counts rows whose `failed_at` is inside the window",
    ),
    RuleInfo(
        "disk_full",
        "the workspace's filesystem is more than `disk_percent` (80 %) full",
        f"warning; critical above {DISK_CRITICAL_PERCENT:.0f} %",
        "resources (disk)",
        "the same, on one sample",
    ),
    RuleInfo(
        "load_high",
        "the 1-minute load is over `load1` (4.0) for `load_minutes` (5) minutes",
        "warning",
        "resources (host)",
        "1-minute load and the 5-minute load average both over `load1`",
    ),
    RuleInfo(
        "memory_low",
        "available memory is under `memory_available_percent` (10 %)",
        "critical",
        "resources (memory)",
        "the same, on one sample",
    ),
    RuleInfo(
        "integrity_failed",
        "the last recorded integrity check (quick_check, integrity_check or a backup's) failed",
        "critical",
        "resources (store)",
        "reads the record in `.oos-tui/integrity.json`",
    ),
    RuleInfo(
        "store_unreadable",
        "the store exists but cannot be read (corrupt, not a database, permissions)",
        "critical; warning when it is only locked",
        "resources (store)",
        "the same, on one snapshot",
    ),
    RuleInfo(
        "backup_stale",
        "no verified backup in the last `backup_max_age_hours` (24), or none at all",
        "warning",
        "backups",
        "the same; without backup information, fires only when there is no backup file",
    ),
    RuleInfo(
        "error_spike",
        "errors in the last minute are at least `error_spike_min_per_minute` (5) and more "
        "than `error_spike_factor` (3) x the mean of the hour before",
        "warning",
        f"events (`{EVENTS_QUERY}`)",
        "reads the last hour of every log backwards, and the store's events",
    ),
)
RULE_IDS: tuple[str, ...] = tuple(r.rule for r in RULES)
_SEVERITY_RANK = {"critical": 0, "warning": 1}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert instance: fires, holds (``last_seen`` advances), resolves.

    ``id`` is stable for as long as the condition holds (``queue_depth:ingest``,
    ``breaker_open:dep_x``); after it resolves, the same condition firing
    again is a new instance with a new ``first_seen``.
    """

    id: str
    rule: str
    severity: AlertSeverity
    summary: str
    """One line, for the status bar, lists and notifications."""
    detail: str
    """What it means and what to look at."""
    target: str
    """The console mode that explains it: queues, breakers, resources, backups, events."""
    target_arg: str
    """What to select there: a queue or breaker name, a section, or an events query."""
    first_seen: float
    last_seen: float
    resolved_at: float | None = None

    @property
    def firing(self) -> bool:
        """True until the alert resolves."""
        return self.resolved_at is None

    def to_json(self) -> dict[str, Any]:
        """The ``alerts`` entries of ``oos-tui status --json``."""
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "summary": self.summary,
            "detail": self.detail,
            "target": self.target,
            "target_arg": self.target_arg,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "resolved_at": iso(self.resolved_at) if self.resolved_at is not None else None,
        }


@dataclass(frozen=True, slots=True)
class BackupFacts:
    """What is known about the store's backups, for the ``backup_stale`` rule."""

    known: bool
    """False when the newest verified backup cannot be asked (no backup module)."""
    newest_verified_at: float | None
    count: int
    """Backup files (``oos-*.db``) in the backups directory, verified or not."""
    directory: str = ""
    reason: str | None = None
    """Why ``known`` is False."""

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``backups`` object of ``oos-tui status --json``."""
        newest = self.newest_verified_at
        return {
            "available": self.known,
            "reason": self.reason,
            "directory": self.directory,
            "count": self.count,
            "newest_verified_at": iso(newest) if newest is not None else None,
            "newest_verified_age_hours": (
                round((now - newest) / 3600.0, 2) if newest is not None else None
            ),
        }


@dataclass(frozen=True, slots=True)
class AlertInputs:
    """Everything the rules read, at one moment; fields left None are "not known"."""

    now: float
    store: StoreSnapshot | None = None
    host: HostSample | None = None
    host_history: tuple[HostSample, ...] = ()
    """Optional earlier samples (oldest first) for the load rule; already seen ones are skipped."""
    dead_letters_in_window: int | None = None
    """Dead letters whose ``failed_at`` is inside the growth window, when queried."""
    integrity: IntegrityRecord | None = None
    backups: BackupFacts | None = None
    error_counts: tuple[int, ...] | None = None
    """Errors per minute over the last hour, oldest first, the last minute last."""


@dataclass(frozen=True, slots=True)
class AlertReport:
    """The engine's answer to one update."""

    at: float
    firing: tuple[Alert, ...]
    """Critical first, then oldest first."""
    fired: tuple[Alert, ...]
    """Started firing in this update (notify)."""
    resolved: tuple[Alert, ...]
    """Stopped firing in this update."""
    changed: tuple[Alert, ...]
    """Still firing, with a different severity than before (notify again)."""
    recent: tuple[Alert, ...]
    """Resolved within the engine's keep window, newest first."""
    unevaluated: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Rule id to why it could not be evaluated (its alerts hold)."""

    @property
    def critical(self) -> int:
        """How many firing alerts are critical."""
        return sum(1 for a in self.firing if a.severity == "critical")

    @property
    def level(self) -> str:
        """``ok``, ``warning`` or ``critical``: the worst firing severity."""
        if self.critical:
            return "critical"
        return "warning" if self.firing else "ok"

    @property
    def exit_code(self) -> int:
        """The monitoring convention ``oos-tui status`` exits with: 0, 1 or 2."""
        return {"ok": 0, "warning": 1, "critical": 2}[self.level]


@dataclass(frozen=True, slots=True)
class _Finding:
    key: str
    severity: AlertSeverity
    summary: str
    detail: str
    target: str
    target_arg: str


class _Unknown(str):
    """A rule's result when it cannot be evaluated: the reason."""


_Result = list[_Finding] | _Unknown


class _LoadTracker:
    """How long the 1-minute load has been over the limit, from the samples seen."""

    def __init__(self) -> None:
        self.latest: HostSample | None = None
        self.observed_since: float | None = None
        self.over_since: float | None = None

    def feed(self, samples: Iterable[HostSample], limit: float) -> None:
        for s in sorted(samples, key=lambda s: s.ts):
            last = self.latest
            if last is not None and s.ts <= last.ts:
                continue
            over = s.load1 > limit
            if last is None or s.ts - last.ts > LOAD_GAP_SECONDS:
                self.observed_since = s.ts
                self.over_since = s.ts if over else None
            elif not over:
                self.over_since = None
            elif self.over_since is None:
                self.over_since = s.ts
            self.latest = s


def _load_average(sample: HostSample, minutes: float) -> tuple[str, float]:
    """The load average whose window best stands for "over the last ``minutes``"."""
    if minutes <= 1:
        return "1-min average", sample.load1
    if minutes <= 5:
        return "5-min average", sample.load5
    return "15-min average", sample.load15


def _fmt_minutes(minutes: float) -> str:
    return f"{minutes:g} min"


def _store_usable(snap: StoreSnapshot | None) -> _Unknown | bool:
    """True: judge the figures; False: no store, nothing to judge; or why it cannot be told."""
    if snap is None:
        return _Unknown("no store snapshot yet")
    if not snap.health.present:
        return False
    if snap.data_version is None:
        return _Unknown(snap.health.message or "store unreadable")
    return True


class AlertEngine:
    """Evaluates the rules on each :meth:`update` and keeps alert instances across calls.

    Not thread-safe: call it from one worker. Deterministic: time comes from
    ``AlertInputs.now`` and the samples' own timestamps.
    """

    def __init__(
        self,
        settings: AlertSettings,
        *,
        keep_resolved_seconds: float = 3600.0,
        max_resolved: int = 100,
    ) -> None:
        """Set up an engine with no alerts firing.

        Args:
            settings: thresholds and ``disabled`` rules, from ``oos-tui.toml [alerts]``.
            keep_resolved_seconds: how long a resolved alert stays in ``recent``.
            max_resolved: at most this many resolved alerts are kept.
        """
        self.settings = settings
        self._disabled = frozenset(settings.disabled)
        self._keep = keep_resolved_seconds
        self._firing: dict[str, Alert] = {}
        self._resolved: deque[Alert] = deque(maxlen=max_resolved)
        self._load = _LoadTracker()
        self._dead: deque[tuple[float, int]] = deque()
        self._rules: tuple[tuple[str, Callable[[AlertInputs], _Result]], ...] = (
            ("store_unreadable", self._store_unreadable),
            ("integrity_failed", self._integrity_failed),
            ("memory_low", self._memory_low),
            ("disk_full", self._disk_full),
            ("load_high", self._load_high),
            ("queue_depth", self._queue_depth),
            ("breaker_open", self._breaker_open),
            ("dead_letter_growth", self._dead_letter_growth),
            ("error_spike", self._error_spike),
            ("backup_stale", self._backup_stale),
        )

    def configure(self, settings: AlertSettings) -> None:
        """Take new thresholds (a reloaded ``oos-tui.toml``), keeping the alerts and history.

        Alerts of a rule disabled now resolve on the next update.
        """
        self.settings = settings
        self._disabled = frozenset(settings.disabled)

    @property
    def unknown_disabled(self) -> tuple[str, ...]:
        """Entries of ``disabled`` that name no rule and no rule's instance (typos)."""
        return tuple(sorted(d for d in self._disabled if d.partition(":")[0] not in RULE_IDS))

    @property
    def firing(self) -> tuple[Alert, ...]:
        """The alerts firing after the last update, critical first."""
        return _ordered(self._firing.values())

    def update(self, inputs: AlertInputs) -> AlertReport:
        """Evaluate every rule on ``inputs`` and advance the alert instances."""
        now = inputs.now
        samples = (*inputs.host_history, *((inputs.host,) if inputs.host else ()))
        self._load.feed(samples, self.settings.load1)
        self._track_dead_letters(inputs)
        unevaluated: dict[str, str] = {}
        fired: list[Alert] = []
        changed: list[Alert] = []
        resolved: list[Alert] = []
        for rule, evaluate in self._rules:
            result = [] if rule in self._disabled else evaluate(inputs)
            mine = {k: a for k, a in self._firing.items() if a.rule == rule}
            if isinstance(result, _Unknown):
                unevaluated[rule] = str(result)
                continue
            seen: set[str] = set()
            for f in result:
                alert_id = f"{rule}:{f.key}"
                if alert_id in self._disabled or alert_id in seen:
                    continue
                seen.add(alert_id)
                before = mine.get(alert_id)
                if before is None:
                    alert = Alert(
                        alert_id,
                        rule,
                        f.severity,
                        f.summary,
                        f.detail,
                        f.target,
                        f.target_arg,
                        first_seen=now,
                        last_seen=now,
                    )
                    fired.append(alert)
                else:
                    alert = replace(
                        before,
                        severity=f.severity,
                        summary=f.summary,
                        detail=f.detail,
                        target_arg=f.target_arg,
                        last_seen=max(before.last_seen, now),
                    )
                    if alert.severity != before.severity:
                        changed.append(alert)
                self._firing[alert_id] = alert
            for alert_id, before in mine.items():
                if alert_id not in seen:
                    gone = replace(before, resolved_at=now)
                    del self._firing[alert_id]
                    self._resolved.append(gone)
                    resolved.append(gone)
        recent = tuple(
            sorted(
                (a for a in self._resolved if (a.resolved_at or 0.0) >= now - self._keep),
                key=lambda a: (-(a.resolved_at or 0.0), a.id),
            )
        )
        return AlertReport(
            at=now,
            firing=self.firing,
            fired=_ordered(fired),
            resolved=tuple(resolved),
            changed=_ordered(changed),
            recent=recent,
            unevaluated=MappingProxyType(unevaluated),
        )

    # ------------------------------------------------------------ state

    def _track_dead_letters(self, inputs: AlertInputs) -> None:
        snap = inputs.store
        usable = _store_usable(snap)
        if usable is False:
            self._dead.clear()
            return
        newer = snap is not None and (not self._dead or snap.taken_at > self._dead[-1][0])
        if usable is True and snap is not None and newer:
            self._dead.append((snap.taken_at, snap.dead_letter_count))
        window = self.settings.dead_letter_window_minutes * 60.0
        # Keep the newest sample at or before the window's start as the baseline.
        while len(self._dead) > 1 and self._dead[1][0] <= inputs.now - window:
            self._dead.popleft()

    # ------------------------------------------------------------ rules

    def _host(self, inputs: AlertInputs) -> HostSample | _Unknown:
        host = inputs.host or self._load.latest
        if host is None:
            return _Unknown("no host sample yet")
        if inputs.now - host.ts > HOST_STALE_SECONDS:
            return _Unknown(f"host sample is {inputs.now - host.ts:.0f} s old")
        return host

    def _store_unreadable(self, inputs: AlertInputs) -> _Result:
        snap = inputs.store
        if snap is None:
            return _Unknown("no store snapshot yet")
        h = snap.health
        if not h.present or h.readable:
            return []
        message = h.message or "store unreadable"
        busy = message.startswith("store busy")
        return [
            _Finding(
                "store",
                "warning" if busy else "critical",
                message,
                (
                    "Another process holds the store's lock; figures shown are from the last "
                    "good read. It clears when the lock is released."
                    if busy
                    else f"{h.path} cannot be read: every figure from the store is missing. "
                    "Check the file, its permissions and the newest verified backup."
                ),
                "resources",
                "store",
            )
        ]

    def _integrity_failed(self, inputs: AlertInputs) -> _Result:
        rec = inputs.integrity
        if rec is None or rec.ok:
            return []
        what = "a backup's integrity_check" if rec.kind == "backup" else rec.kind
        return [
            _Finding(
                "store",
                "critical",
                f"last integrity check failed ({what}, {iso(rec.at)}): {rec.detail}",
                "The store may be corrupt. Run a full integrity_check from Resources; if it "
                "fails, stop the producer and restore the newest verified backup.",
                "resources",
                "store",
            )
        ]

    def _memory_low(self, inputs: AlertInputs) -> _Result:
        host = self._host(inputs)
        if isinstance(host, _Unknown):
            return host
        if not host.mem_total:
            return _Unknown("memory figures unavailable")
        limit = self.settings.memory_available_percent
        avail = host.mem_available_percent
        if avail >= limit:
            return []
        return [
            _Finding(
                "host",
                "critical",
                f"available memory {avail:.1f}% (under {limit:g}%)",
                f"{host.mem_available / 2**20:,.0f} MiB of {host.mem_total / 2**20:,.0f} MiB "
                f"available, swap {host.swap_percent:.0f}% used. Look at the processes' RSS.",
                "resources",
                "memory",
            )
        ]

    def _disk_full(self, inputs: AlertInputs) -> _Result:
        host = self._host(inputs)
        if isinstance(host, _Unknown):
            return host
        if not host.disk_total:
            return _Unknown("disk figures unavailable")
        limit = self.settings.disk_percent
        pct = host.disk_percent
        if pct <= limit:
            return []
        critical = pct > max(DISK_CRITICAL_PERCENT, limit)
        free = (host.disk_total - host.disk_used) / 2**30
        return [
            _Finding(
                "workspace",
                "critical" if critical else "warning",
                f"disk {pct:.1f}% full at {host.disk_path} (over {limit:g}%)",
                f"{free:,.1f} GiB free. The store, its WAL, logs, backups and job outputs "
                "share this filesystem: see their sizes and growth in Resources.",
                "resources",
                "disk",
            )
        ]

    def _load_high(self, inputs: AlertInputs) -> _Result:
        host = self._host(inputs)
        if isinstance(host, _Unknown):
            return host
        limit = self.settings.load1
        minutes = self.settings.load_minutes
        tracker = self._load
        latest = tracker.latest
        if latest is None or latest.load1 <= limit:
            return []
        span = minutes * 60.0
        over_since = tracker.over_since
        observed = latest.ts - (tracker.observed_since or latest.ts)
        # Over since the first sample watched: the run may have begun before the
        # engine started to watch, and the load average says whether it did.
        unseen_start = over_since is not None and over_since == tracker.observed_since
        if over_since is not None and latest.ts - over_since >= span:
            summary = f"load {latest.load1:.2f} over {limit:g} for {_fmt_minutes(minutes)}+"
        elif unseen_start and observed < span:
            label, average = _load_average(latest, minutes)
            if average <= limit:
                return []
            summary = f"load {latest.load1:.2f} ({label} {average:.2f}) over {limit:g}"
        else:
            return []
        return [
            _Finding(
                "host",
                "warning",
                summary,
                f"Load {latest.load1:.2f} / {latest.load5:.2f} / {latest.load15:.2f} on "
                f"{len(latest.per_cpu) or '?'} CPUs. See which processes use the CPU.",
                "resources",
                "host",
            )
        ]

    def _queue_depth(self, inputs: AlertInputs) -> _Result:
        usable = _store_usable(inputs.store)
        if isinstance(usable, _Unknown):
            return usable
        if not usable or inputs.store is None:
            return []
        limit = self.settings.queue_pending
        return [
            _Finding(
                q.queue,
                "warning",
                f"queue {q.queue}: {q.pending:,} pending (over {limit:,})",
                f"{q.processing} processing, {q.completed_last_hour} completed in the last "
                f"hour, oldest pending since {iso(q.oldest_pending_at)}. Workers are behind "
                "or stopped: check their breakers.",
                "queues",
                q.queue,
            )
            for q in inputs.store.queues
            if q.pending > limit
        ]

    def _breaker_open(self, inputs: AlertInputs) -> _Result:
        usable = _store_usable(inputs.store)
        if isinstance(usable, _Unknown):
            return usable
        if not usable or inputs.store is None:
            return []
        out = []
        for b in inputs.store.breakers:
            if b.state != "open":
                continue
            error = (b.last_error or "").strip().splitlines()
            retry = f", retry at {iso(b.retry_at)}" if b.retry_at is not None else ""
            out.append(
                _Finding(
                    b.name,
                    "warning",
                    f"breaker {b.name} is open ({b.consecutive_failures} consecutive failures)",
                    f"Opened {iso(b.opened_at)}{retry}. Last error: "
                    f"{error[0][:200] if error else 'none recorded'}.",
                    "breakers",
                    b.name,
                )
            )
        return out

    def _dead_letter_growth(self, inputs: AlertInputs) -> _Result:
        usable = _store_usable(inputs.store)
        if usable is False:
            return []
        from_history = self._dead[-1][1] - min(n for _, n in self._dead) if self._dead else None
        in_window = inputs.dead_letters_in_window
        if from_history is None and in_window is None:
            return usable if isinstance(usable, _Unknown) else _Unknown("no dead-letter counts")
        growth = max(from_history or 0, in_window or 0)
        limit = self.settings.dead_letter_growth
        minutes = self.settings.dead_letter_window_minutes
        if growth <= limit:
            return []
        return [
            _Finding(
                "store",
                "warning",
                f"{growth:,} new dead letters in {_fmt_minutes(minutes)} (over {limit:,})",
                "Tasks are using up their attempts. Group the dead letters by error to find "
                "the cause before retrying them.",
                "queues",
                "dead-letters",
            )
        ]

    def _error_spike(self, inputs: AlertInputs) -> _Result:
        counts = inputs.error_counts
        if counts is None:
            return _Unknown("no recent error counts")
        if len(counts) < 2:
            return _Unknown("too few minutes of error counts")
        current = counts[-1]
        before = counts[:-1]
        mean = sum(before) / len(before)
        floor = self.settings.error_spike_min_per_minute
        factor = self.settings.error_spike_factor
        if current < floor or current <= factor * mean:
            return []
        return [
            _Finding(
                "events",
                "warning",
                f"{current} errors in the last minute ({mean:.1f}/min over the hour before)",
                f"Over {factor:g}x the hour's mean and at least {floor:g} a minute. See the "
                "recent errors in the event stream.",
                "events",
                EVENTS_QUERY,
            )
        ]

    def _backup_stale(self, inputs: AlertInputs) -> _Result:
        facts = inputs.backups
        if facts is None:
            return _Unknown("no backup information")
        if inputs.store is None:
            return _Unknown("no store snapshot yet")
        if not inputs.store.health.present:
            return []  # nothing to back up yet
        hours = self.settings.backup_max_age_hours
        newest = facts.newest_verified_at
        if facts.known and newest is not None:
            age = (inputs.now - newest) / 3600.0
            if age <= hours:
                return []
            summary = f"newest verified backup is {age:.1f} h old (over {hours:g} h)"
        elif facts.known and facts.count:
            summary = f"no verified backup among {facts.count} backup files"
        elif facts.count == 0:
            summary = "no backup of the store at all"
        else:
            return _Unknown(facts.reason or "backup information unavailable")
        return [
            _Finding(
                "store",
                "warning",
                summary,
                f"Backups in {facts.directory or 'the backups directory'}. Take one now "
                "(online, while the producer writes) and check the schedule.",
                "backups",
                "",
            )
        ]


def _ordered(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    return tuple(sorted(alerts, key=lambda a: (_SEVERITY_RANK[a.severity], a.first_seen, a.id)))


# ---------------------------------------------------------------- gathering


def backup_facts(settings: Settings) -> BackupFacts:
    """Ask the backups module for the newest verified backup, and count backup files.

    The backups module may not be installed in this build: that is reported
    as ``known=False`` with the reason, never as an error.
    """
    directory = settings.backups_dir
    count = 0
    try:
        with os.scandir(directory) as it:
            count = sum(
                1
                for e in it
                if e.name.startswith("oos-") and e.name.endswith(".db") and e.is_file()
            )
    except OSError:
        count = 0
    try:
        from oos_tui.actions.backup import newest_verified_at
    except ImportError:
        return BackupFacts(
            False,
            None,
            count,
            str(directory),
            "backup information unavailable (no backup module in this build)",
        )
    try:
        newest = newest_verified_at(settings)
    except OSError as exc:
        return BackupFacts(
            False, None, count, str(directory), f"cannot read backups: {exc.strerror or exc}"
        )
    return BackupFacts(True, newest, count, str(directory))


def count_dead_letters_since(store: str | os.PathLike[str], since: float) -> int | None:
    """Dead-letter rows whose ``failed_at`` is at or after ``since`` (a blocking read).

    What one run can know of "growth in the last 10 minutes": rows retried or
    purged meanwhile are gone, so this is a lower bound. None when the store
    cannot be read; 0 when it has no dead-letter table.
    """
    from oos_tui.store.connection import open_ro_sync
    from oos_tui.store.reader import iso_day_floor, julian_day

    if not Path(store).is_file():
        return None
    try:
        conn = open_ro_sync(store)
        try:
            row = conn.execute(
                "SELECT count(*) FROM dead_letter WHERE failed_at >= ?"
                " AND julianday(failed_at) >= ?",
                (iso_day_floor(since), julian_day(since)),
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if str(exc).startswith("no such table"):
            return 0
        return None
    return int(row[0]) if row and isinstance(row[0], int) else None
