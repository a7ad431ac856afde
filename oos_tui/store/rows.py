"""Tolerant converters from store rows to the core's frozen models.

The producer owns the store and SQLite types are advisory, so a row may hold
a NULL, a number where text was meant, an odd timestamp or broken JSON. A
converter never raises on such a row: a bad timestamp becomes ``None`` (or
NaN where the model needs a float), bad JSON stays the raw string, and a
missing number takes the contract's default. Rows are read positionally in
the order of :data:`oos_tui.store.schema.COLUMNS`; :func:`select_list` builds
that order for any store, including a newer one that lacks a column.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from oos_tui.models import (
    AuditEntry,
    Breaker,
    DeadLetter,
    Event,
    Severity,
    SourceKind,
    StoreEvent,
    Task,
    iso,
)
from oos_tui.store.schema import COLUMNS
from oos_tui.timeutil import parse_ts

__all__ = [
    "audit_from_row",
    "breaker_from_row",
    "dead_letter_from_row",
    "event_item_id",
    "jd_to_ts",
    "parse_json",
    "select_list",
    "store_event_from_row",
    "store_event_to_event",
    "task_from_row",
    "to_ts",
]

_JD_UNIX_EPOCH = 2440587.5


def select_list(table: str, present: Collection[str] | None = None, *, rowid: bool = False) -> str:
    """The SELECT list that reads ``table`` in the converters' column order.

    Args:
        table: a table of :data:`COLUMNS`.
        present: the columns the store actually has; a known column that is
            missing (a newer or foreign schema) is read as NULL rather than
            failing the whole query. None means "all of them".
        rowid: put ``rowid`` first (the events table is tailed by rowid).
    """
    parts = ["rowid"] if rowid else []
    for name in COLUMNS[table]:
        parts.append(f'"{name}"' if present is None or name in present else f'NULL AS "{name}"')
    return ", ".join(parts)


def to_ts(value: Any) -> float | None:
    """Epoch seconds from a stored timestamp, or None when it is NULL or unreadable.

    ISO text is the contract; a bare number is taken as epoch seconds because
    some producers store ``time.time()`` directly.
    """
    if type(value) is str:
        return parse_ts(value) if value[-1:] not in (" ", "\t", "\n") else parse_ts(value.strip())
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, bytes):
        return parse_ts(value.decode("utf-8", "replace").strip())
    if isinstance(value, str):
        return parse_ts(value.strip())
    return None


def jd_to_ts(value: Any) -> float | None:
    """Epoch seconds from an SQLite ``julianday()`` result (None stays None)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return (float(value) - _JD_UNIX_EPOCH) * 86400.0


def parse_json(value: Any) -> Any:
    """The parsed JSON of a column, or the raw value itself when it is not JSON.

    Keeping the raw string (instead of None) lets the operator still see what
    the producer wrote.
    """
    if value is None or not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _str(value: Any, default: str = "") -> str:
    if type(value) is str:
        return value
    if value is None:
        return default
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any, default: int = 0) -> int:
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return int(number) if math.isfinite(number) else default


def _opt_int(value: Any) -> int | None:
    sentinel = -(2**63) - 1
    number = _int(value, sentinel)
    return None if number == sentinel else number


def task_from_row(row: Sequence[Any]) -> Task:
    """A :class:`Task` from a row in ``COLUMNS["tasks"]`` order."""
    return Task(
        id=_int(row[0]),
        queue=_str(row[1]),
        task_type=_str(row[2]),
        payload=_str(row[3], "{}"),
        status=_str(row[4]),
        priority=_int(row[5]),
        attempts=_int(row[6]),
        max_attempts=_int(row[7], 10),
        next_attempt_at=to_ts(row[8]),
        worker_id=_opt_str(row[9]),
        last_error=_opt_str(row[10]),
        created_at=to_ts(row[11]),
        updated_at=to_ts(row[12]),
    )


def dead_letter_from_row(row: Sequence[Any]) -> DeadLetter:
    """A :class:`DeadLetter` from a row in ``COLUMNS["dead_letter"]`` order."""
    return DeadLetter(
        id=_int(row[0]),
        task_id=_int(row[1]),
        queue=_str(row[2]),
        task_type=_str(row[3]),
        payload=_str(row[4], "{}"),
        attempts=_int(row[5]),
        error=_str(row[6]),
        worker_id=_opt_str(row[7]),
        failed_at=to_ts(row[8]),
    )


def breaker_from_row(row: Sequence[Any]) -> Breaker:
    """A :class:`Breaker` from a row in ``COLUMNS["circuit_breakers"]`` order."""
    return Breaker(
        name=_str(row[0]),
        state=_str(row[1]),
        consecutive_failures=_int(row[2]),
        failure_threshold=_int(row[3], 10),
        total_failures=_int(row[4]),
        total_successes=_int(row[5]),
        opened_at=to_ts(row[6]),
        retry_at=to_ts(row[7]),
        last_error=_opt_str(row[8]),
        updated_at=to_ts(row[9]),
    )


def _tags(value: Any) -> tuple[str, ...]:
    parsed = parse_json(value)
    if isinstance(parsed, list):
        return tuple(_str(tag) for tag in parsed if tag is not None)
    if isinstance(parsed, str) and parsed:
        # Not a JSON array: a bare word or a comma list is still worth filtering on.
        return tuple(part.strip() for part in parsed.split(",") if part.strip())
    return ()


def store_event_from_row(row: Sequence[Any]) -> StoreEvent:
    """A :class:`StoreEvent` from ``rowid`` followed by ``COLUMNS["events"]``.

    An unreadable timestamp becomes NaN (the model needs a float); ``iso``
    shows it as ``-``.
    """
    ts = to_ts(row[2])
    return StoreEvent(
        id=_str(row[1]),
        rowid=_int(row[0]),
        ts=math.nan if ts is None else ts,
        system=_str(row[3]),
        event_type=_str(row[4]),
        severity=_str(row[5]),
        title=_str(row[6]),
        description=_str(row[7]),
        data=parse_json(row[8]),
        tags=_tags(row[9]),
        correlation_id=_opt_str(row[10]),
        source_component=_opt_str(row[11]),
        duration_ms=_opt_int(row[12]),
        metadata=parse_json(row[13]),
    )


def audit_from_row(row: Sequence[Any]) -> AuditEntry:
    """An :class:`AuditEntry` from a row in ``COLUMNS["operator_actions"]`` order."""
    return AuditEntry(
        id=_int(row[0]),
        at=to_ts(row[1]),
        operator=_str(row[2]),
        action=_str(row[3]),
        target=_str(row[4]),
        detail=parse_json(row[5]),
        outcome=_str(row[6]),
    )


def event_item_id(data: Any) -> str | None:
    """The pipeline item an event is about: ``data.item_id`` when present."""
    if isinstance(data, dict):
        value = data.get("item_id")
        if isinstance(value, str):
            return value or None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _first_line(text: str) -> str:
    for part in text.splitlines():
        if part.strip():
            return part.strip()
    return ""


def _compact_json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


def store_event_to_event(event: StoreEvent) -> Event:
    """The store's event in the one shape every view, filter and trace uses.

    ``data`` is the event's own JSON object with ``system``, ``description``,
    ``metadata`` and ``duration_ms`` added under those names where the object
    does not already use them, so the query language reaches them like any
    other field while the producer's own keys always win. Data that is not an
    object is kept whole under ``"data"``.
    """
    title = event.title.strip()
    detail = _first_line(event.description)
    if not title:
        message = detail
    elif detail and event.description.strip() != title:
        message = f"{title} — {detail}"
    else:
        message = title
    extras = {
        "system": event.system,
        "description": event.description,
        "metadata": event.metadata,
        "duration_ms": event.duration_ms,
    }
    if isinstance(event.data, dict):
        data: dict[str, Any] = dict(event.data)
        for key, value in extras.items():
            data.setdefault(key, value)
    else:
        data = {"data": event.data, **extras}
    raw = _compact_json(
        {
            "rowid": event.rowid,
            "id": event.id,
            "timestamp": _iso_or_none(event.ts),
            "system": event.system,
            "event_type": event.event_type,
            "severity": event.severity,
            "title": event.title,
            "description": event.description,
            "data": event.data,
            "tags": list(event.tags),
            "correlation_id": event.correlation_id,
            "source_component": event.source_component,
            "duration_ms": event.duration_ms,
            "metadata": event.metadata,
        }
    )
    return Event(
        ts=event.ts,
        severity=Severity.parse(event.severity),
        kind=SourceKind.STORE.value,
        source=event.source_component or event.system,
        event_type=event.event_type,
        message=message,
        item_id=event_item_id(event.data),
        correlation_id=event.correlation_id,
        data=data,
        file="events",
        line=None,
        offset=event.rowid,
        raw=raw,
        tags=event.tags,
    )


def _iso_or_none(ts: float) -> str | None:
    if math.isnan(ts):
        return None
    try:
        return iso(ts)
    except (OverflowError, OSError, ValueError):
        return None
