"""The console's state as one immutable value, and pure functions that advance it.

Feeds deliver snapshots and batches; the app folds each into a new
:class:`ConsoleState` with the ``with_*`` functions here and hands the value
down to the screen. Nothing in here knows about Textual, so every rule (queue
history, error counts, refresh age) is unit-tested without a UI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from oos_tui.models import Event, Severity
from oos_tui.pipeline import PipelineStats
from oos_tui.sources.system import HostSample

__all__ = ["ConsoleState", "StatusLine", "refresh_age_label", "status_line"]

_QUEUE_HISTORY = 120
_LATEST_ERRORS = 50
_HOST_HISTORY = 900
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ConsoleState:
    """Everything the screens show, at one moment."""

    workspace: str
    read_only: bool
    store: Any = None  # StoreSnapshot | None (kept loose: the store reader is optional)
    host: tuple[HostSample, ...] = ()
    queue_history: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: _EMPTY)
    pipeline: PipelineStats | None = None
    pipeline_scan: float | None = None  # history scan progress 0..1, None when done
    latest_errors: tuple[Event, ...] = ()
    alerts: tuple[Any, ...] = ()
    stream: Any = None  # the event stream's latest immutable view (StreamView)
    history_unreadable: int = 0
    alert_report: Any = None  # the alert engine's last AlertReport
    jobs: Any = None  # JobsSnapshot
    processes: tuple[Any, ...] = ()  # ProcInfo, the pipeline's processes and the console
    sizes: Any = None  # WorkspaceSizes
    size_rates: Mapping[str, float | None] = field(default_factory=lambda: _EMPTY)
    producer_history: Any = None  # ProducerHistory from ai_events.log
    backups: tuple[Any, ...] | None = None  # BackupInfo, newest first (None: not listed yet)
    breaker_history: tuple[Any, ...] = ()  # Transition, oldest first
    feed_errors: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    unreadable_lines: int = 0
    data_errors: int = 0
    last_refresh: float | None = None
    extras: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    # -- folding functions -------------------------------------------------

    def with_store(self, snapshot: Any, now: float) -> ConsoleState:
        """A new store snapshot: refresh time, and one more point of queue history."""
        history = dict(self.queue_history)
        for q in getattr(snapshot, "queues", ()):
            points = (*history.get(q.queue, ()), q.pending)[-_QUEUE_HISTORY:]
            history[q.queue] = points
        errors = dict(self.feed_errors)
        health = getattr(snapshot, "health", None)
        message = getattr(health, "message", None)
        if message and not getattr(health, "readable", True):
            errors["store"] = message
        else:
            errors.pop("store", None)
        return dataclasses.replace(
            self,
            store=snapshot,
            queue_history=MappingProxyType(history),
            feed_errors=MappingProxyType(errors),
            last_refresh=now,
        )

    def with_store_unchanged(self, now: float) -> ConsoleState:
        """A poll that found nothing new still proves the view is fresh."""
        errors = dict(self.feed_errors)
        errors.pop("store", None)
        return dataclasses.replace(self, last_refresh=now, feed_errors=MappingProxyType(errors))

    def with_host(self, sample: HostSample) -> ConsoleState:
        """One more host sample, history bounded."""
        return dataclasses.replace(self, host=(*self.host, sample)[-_HOST_HISTORY:])

    def with_events(self, events: Iterable[Event], unreadable: int = 0) -> ConsoleState:
        """New events: keep the latest errors, count unreadable lines."""
        errors = [e for e in events if e.severity >= Severity.ERROR]
        if not errors and not unreadable:
            return self
        latest = (*self.latest_errors, *errors)[-_LATEST_ERRORS:]
        return dataclasses.replace(
            self,
            latest_errors=latest,
            unreadable_lines=self.unreadable_lines + unreadable,
        )

    def with_stream(self, update: Any) -> ConsoleState:
        """A step of the event stream: its view, live errors, unreadable lines."""
        state = self.with_events(update.events, len(update.errors))
        view = update.view
        history = sum(getattr(f, "suspect", 0) for f in view.files if f is not None)
        return dataclasses.replace(state, stream=view, history_unreadable=history)

    def with_pipeline(self, stats: PipelineStats, progress: float | None) -> ConsoleState:
        """New pipeline counters from oos.log."""
        return dataclasses.replace(self, pipeline=stats, pipeline_scan=progress)

    def with_feed_error(self, source: str, message: str | None) -> ConsoleState:
        """Record (or clear, with None) a failing source's one-line error."""
        if self.feed_errors.get(source) == message:
            return self
        errors = dict(self.feed_errors)
        if message:
            errors[source] = message
        else:
            errors.pop(source, None)
        return dataclasses.replace(self, feed_errors=MappingProxyType(errors))

    def with_alerts(self, report: Any) -> ConsoleState:
        """The alert engine's latest report (its firing alerts are what the panels show)."""
        return dataclasses.replace(self, alerts=tuple(report.firing), alert_report=report)

    def with_jobs(self, snapshot: Any) -> ConsoleState:
        """A new scan of ``out/``."""
        return dataclasses.replace(self, jobs=snapshot)

    def with_resources(self, message: Any) -> ConsoleState:
        """Processes, and when measured: sizes with growth rates and the producer's history."""
        changes: dict[str, Any] = {}
        if message.processes is not None:
            changes["processes"] = tuple(message.processes)
        if message.sizes is not None:
            changes["sizes"] = message.sizes
            changes["size_rates"] = MappingProxyType(dict(message.size_rates or {}))
        if message.history is not None:
            changes["producer_history"] = message.history
        return dataclasses.replace(self, **changes) if changes else self

    def with_backups(self, backups: tuple[Any, ...]) -> ConsoleState:
        """The backups list, newest first."""
        return dataclasses.replace(self, backups=tuple(backups))

    def with_breaker_history(self, transitions: tuple[Any, ...]) -> ConsoleState:
        """Breaker transitions observed so far."""
        return dataclasses.replace(self, breaker_history=transitions)

    def with_extra(self, key: str, value: Any) -> ConsoleState:
        """Attach a value a later screen needs (jobs, backups) without widening this class."""
        extras = dict(self.extras)
        extras[key] = value
        return dataclasses.replace(self, extras=MappingProxyType(extras))


def refresh_age_label(last: float | None, now: float) -> str:
    """The refresh age in coarse steps, so an idle console does not repaint each second."""
    if last is None:
        return "never"
    age = max(0.0, now - last)
    if age < 5:
        return "<5s"
    if age < 60:
        return f"{int(age // 10 * 10)}s+"
    if age < 3600:
        return f"{int(age // 60)}m+"
    return f"{int(age // 3600)}h+"


@dataclass(frozen=True, slots=True)
class StatusLine:
    """The status bar's fields, already reduced to what is shown."""

    workspace: str
    mode: str  # "read-only" | "read-write"
    schema: str  # "v1", "v2 (newer)", "none"
    refresh: str
    stale: bool
    unreadable: int
    data_errors: int
    alerts: int
    alerts_critical: int
    self_cpu: str
    self_mem: str
    problem: str | None  # the first failing source, one line


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}M"


def status_line(state: ConsoleState, now: float, stale_after: float = 10.0) -> StatusLine:
    """Reduce the state to the status bar's fields (pure; tested without a UI)."""
    store = state.store
    health = getattr(store, "health", None)
    version = getattr(health, "schema_version", None)
    if health is None or not getattr(health, "present", False):
        schema = "no store"
    elif version is None:
        schema = "schema ?"
    elif getattr(health, "newer_schema", False):
        schema = f"schema v{version} (newer)"
    else:
        schema = f"schema v{version}"
    host = state.host[-1] if state.host else None
    crit = sum(1 for a in state.alerts if getattr(a, "severity", "") == "critical")
    problem = next(iter(state.feed_errors.values()), None)
    if problem is None and health is not None and getattr(health, "message", None):
        problem = health.message
    age = None if state.last_refresh is None else now - state.last_refresh
    return StatusLine(
        workspace=state.workspace,
        mode="read-only" if state.read_only else "read-write",
        schema=schema,
        refresh=refresh_age_label(state.last_refresh, now),
        stale=age is not None and age > stale_after,
        unreadable=state.unreadable_lines + state.history_unreadable,
        data_errors=state.data_errors,
        alerts=len(state.alerts),
        alerts_critical=crit,
        self_cpu=f"{host.self_cpu_percent:.0f}%" if host else "…",
        self_mem=_mib(host.self_rss) if host else "",
        problem=problem,
    )
