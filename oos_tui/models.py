"""Immutable records that cross from the core into the CLI and the TUI.

Every value here is a frozen dataclass: workers build them, faces only read
them, so a record can be handed between threads without locks (STYLE §3).
Timestamps are UTC epoch seconds as ``float`` because they are compared and
sorted millions of times; :func:`iso` turns one back into text for display.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "SEVERITY_WORDS",
    "ActionResult",
    "AuditEntry",
    "Breaker",
    "DeadLetter",
    "Event",
    "Job",
    "ParseError",
    "QueueStats",
    "Severity",
    "SourceKind",
    "Stage",
    "StageFile",
    "StoreEvent",
    "Task",
    "iso",
]


class Severity(enum.IntEnum):
    """Severity of an event; ordered so ``severity>=warning`` is a comparison."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50

    @property
    def word(self) -> str:
        """The lower-case name shown to operators and written in JSON."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str | None, default: Severity | None = None) -> Severity:
        """Map a level word from any of the contract's formats to a severity.

        Accepts the Python logging names, the store's lower-case words and
        the usual aliases (``warn``, ``err``, ``fatal``). Unknown text gives
        ``default`` (INFO when not given) so a strange level never drops a line.
        """
        if text:
            found = _SEVERITY_ALIASES.get(text.strip().lower())
            if found is not None:
                return found
        return default if default is not None else cls.INFO


_SEVERITY_ALIASES: dict[str, Severity] = {
    "debug": Severity.DEBUG,
    "trace": Severity.DEBUG,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "notice": Severity.INFO,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "error": Severity.ERROR,
    "err": Severity.ERROR,
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
}

SEVERITY_WORDS: tuple[str, ...] = tuple(s.word for s in Severity)


class SourceKind(enum.StrEnum):
    """Which family of source an event came from (the query's ``kind:``)."""

    OOS = "oos"  # oos.log, pipe-delimited processing events
    AI = "ai"  # ai_events.log, system and AI events
    APP = "app"  # logs/*.log, JSON application logs
    STORE = "store"  # the store's events table
    JOB = "job"  # plain-text job and stage logs under out/


def iso(ts: float | None) -> str:
    """Format epoch seconds as ISO-8601 UTC with milliseconds and a ``Z``."""
    if ts is None or math.isnan(ts):
        return "-"
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Event:
    """One event from any source, in the single shape every view uses.

    ``data`` is the parsed JSON payload (a dict for every JSON format); treat
    it as read-only. ``raw`` is the line (or multi-line record) as decoded
    from the file, before any sanitising: faces must pass it through
    :mod:`oos_tui.sanitize` before it reaches a terminal.
    """

    ts: float
    severity: Severity
    kind: str
    source: str
    event_type: str
    message: str
    item_id: str | None = None
    correlation_id: str | None = None
    data: Any = None
    file: str | None = None
    line: int | None = None
    offset: int | None = None
    raw: str = ""
    tags: tuple[str, ...] = ()

    @property
    def timestamp(self) -> datetime:
        """The event time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.ts, UTC)

    def to_json(self) -> dict[str, Any]:
        """The record as the CLI's ``--json`` line (a stable public shape)."""
        return {
            "timestamp": iso(self.ts),
            "severity": self.severity.word,
            "kind": self.kind,
            "source": self.source,
            "event_type": self.event_type,
            "message": self.message,
            "item_id": self.item_id,
            "correlation_id": self.correlation_id,
            "file": self.file,
            "line": self.line,
            "offset": self.offset,
            "tags": list(self.tags),
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class ParseError:
    """A line that did not parse: kept, counted and shown, never fatal."""

    file: str
    line: int
    reason: str
    raw: str
    offset: int | None = None
    kind: str = ""

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape for an unreadable line."""
        return {
            "kind": "parse_error",
            "source_kind": self.kind,
            "file": self.file,
            "line": self.line,
            "offset": self.offset,
            "reason": self.reason,
            "raw": self.raw,
        }


@dataclass(frozen=True, slots=True)
class Task:
    """A row of the store's ``tasks`` table (CONTRACT §3)."""

    id: int
    queue: str
    task_type: str
    payload: str
    status: str
    priority: int
    attempts: int
    max_attempts: int
    next_attempt_at: float | None
    worker_id: str | None
    last_error: str | None
    created_at: float | None
    updated_at: float | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A row of ``dead_letter``: a task that used up its attempts."""

    id: int
    task_id: int
    queue: str
    task_type: str
    payload: str
    attempts: int
    error: str
    worker_id: str | None
    failed_at: float | None

    @property
    def error_first_line(self) -> str:
        """The first non-empty line of the error, for one-row tables."""
        for part in self.error.splitlines():
            if part.strip():
                return part.strip()
        return ""


@dataclass(frozen=True, slots=True)
class Breaker:
    """A row of ``circuit_breakers``: one worker or guarded dependency."""

    name: str
    state: str  # closed | open | half_open
    consecutive_failures: int
    failure_threshold: int
    total_failures: int
    total_successes: int
    opened_at: float | None
    retry_at: float | None
    last_error: str | None
    updated_at: float | None

    @property
    def failure_rate(self) -> float | None:
        """Failures over all calls, or None before the first call."""
        total = self.total_failures + self.total_successes
        return self.total_failures / total if total else None


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """A row of the central ``events`` table, before it becomes an :class:`Event`."""

    id: str
    rowid: int
    ts: float
    system: str
    event_type: str
    severity: str
    title: str
    description: str
    data: Any
    tags: tuple[str, ...]
    correlation_id: str | None
    source_component: str | None
    duration_ms: int | None
    metadata: Any


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Counts for one queue, read in one transaction with the rest of a snapshot."""

    queue: str
    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    dead_letters: int = 0
    oldest_pending_at: float | None = None
    completed_last_hour: int = 0

    @property
    def depth(self) -> int:
        """Queue depth is the count of pending tasks (CONTRACT §3)."""
        return self.pending


@dataclass(frozen=True, slots=True)
class StageFile:
    """One input or output of a pipeline stage (CONTRACT §2.5)."""

    path: str
    type: str | None = None
    format: str | None = None
    size_mb: float | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage directory of a job, described by its manifest."""

    name: str  # directory name, e.g. "05_asr"
    order: int  # the NN_ prefix
    stage: str  # the manifest's "stage"
    status: str  # success | failed | skipped | running | missing | malformed
    started_at: float | None = None
    duration_seconds: float | None = None
    inputs: tuple[StageFile, ...] = ()
    outputs: tuple[StageFile, ...] = ()
    errors: tuple[Mapping[str, Any], ...] = ()
    warnings: tuple[Mapping[str, Any], ...] = ()
    resources: Mapping[str, Any] = field(default_factory=dict)
    manifest_error: str | None = None
    log_path: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One ``out/<job-id>/`` directory and its stages in order."""

    id: str
    path: str
    status: str  # running | success | failed
    stages: tuple[Stage, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    output_bytes: int = 0
    pipeline_log: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What one operator action did to one target; one per CLI ``--json`` line."""

    action: str  # retry | retry_all | purge | reset_breaker | backup
    target: str  # e.g. dead_letter:42, breaker:worker_1, store
    outcome: str  # ok | refused | error
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    audit_id: int | None = None

    @property
    def ok(self) -> bool:
        """True when the action took effect."""
        return self.outcome == "ok"

    def to_json(self) -> dict[str, Any]:
        """The public ``--json`` shape of an action result."""
        return {
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "message": self.message,
            "audit_id": self.audit_id,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A row of ``operator_actions``."""

    id: int
    at: float | None
    operator: str
    action: str
    target: str
    detail: Any
    outcome: str


def _twin_of(cls: type) -> type:
    # A mutable slots dataclass with the exact slot layout of ``cls``: its
    # plain __init__ stores slots directly, and CPython lets an instance then
    # be re-labelled as ``cls`` because the layouts are identical.
    from dataclasses import fields, make_dataclass

    return make_dataclass(
        f"_{cls.__name__}Builder", [(f.name, f.type) for f in fields(cls)], slots=True
    )


_EventBuilder = _twin_of(Event)


def _new_event(
    ts: float,
    severity: Severity,
    kind: str,
    source: str,
    event_type: str,
    message: str,
    item_id: str | None,
    correlation_id: str | None,
    data: Any,
    file: str | None,
    line: int | None,
    offset: int | None,
    raw: str,
    tags: tuple[str, ...],
) -> Event:
    """Build an :class:`Event` about 3x faster than its frozen ``__init__``.

    For the log parsers' hot path only (millions of lines): every field is
    positional and required, nothing is checked. A frozen dataclass
    ``__init__`` pays ``object.__setattr__`` per field (~1.5 µs for 14);
    this costs ~0.45 µs. The result is an ordinary ``Event``: same type,
    equality, hash, immutability and pickling.
    """
    obj = _EventBuilder(
        ts, severity, kind, source, event_type, message, item_id, correlation_id,
        data, file, line, offset, raw, tags,
    )  # fmt: skip
    obj.__class__ = Event
    return obj  # type: ignore[no-any-return]


try:
    _new_event(0.0, Severity.INFO, "", "", "", "", None, None, None, None, None, None, "", ())
except TypeError:  # Event's layout changed (no longer plain slots): use the real constructor.
    _new_event = Event  # type: ignore[assignment]
