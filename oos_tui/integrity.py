"""Store health: integrity checks run, recorded and read back, and the VACUUM advice.

The console remembers the result of every integrity check it runs (a
``quick_check`` from the Resources screen, the ``integrity_check`` of every
backup) in ``cache_dir/integrity.json``, outside the store, so the alert
engine and ``oos-tui status`` can say when the store last proved sound.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from oos_tui.models import iso
from oos_tui.timeutil import parse_ts

if TYPE_CHECKING:
    from oos_tui.config import Settings
    from oos_tui.store.reader import StoreHealth

__all__ = [
    "INTEGRITY_FILE",
    "VACUUM_FREELIST_RATIO",
    "CheckKind",
    "IntegrityRecord",
    "StoreHealthFigures",
    "check_store",
    "last_integrity",
    "record_integrity",
    "run_integrity_check",
    "store_health_figures",
]

INTEGRITY_FILE = "integrity.json"

VACUUM_FREELIST_RATIO = 0.25
"""The OOS policy: above this share of free pages, the store should be vacuumed."""

CheckKind = Literal["quick_check", "integrity_check", "backup"]
_KINDS = ("quick_check", "integrity_check", "backup")

# SQLite's progress handler counts virtual-machine instructions, not pages; these
# ratios were measured on a store of the contract's schema (60k events, 30k tasks).
_OPS_PER_PAGE = {"quick_check": 300.0, "integrity_check": 520.0}
_PROGRESS_EVERY = 20_000

Progress = Callable[[float], bool | None]
"""Called with an estimated fraction done (0..1); returning True cancels the check."""


@dataclass(frozen=True, slots=True)
class IntegrityRecord:
    """The outcome of one integrity check, as recorded."""

    ok: bool
    at: float
    detail: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        """The shape stored in ``integrity.json`` and printed by ``status --json``."""
        return {"ok": self.ok, "at": iso(self.at), "detail": self.detail, "kind": self.kind}


def _path(settings: Settings) -> Path:
    return settings.cache_dir / INTEGRITY_FILE


def record_integrity(
    settings: Settings, ok: bool, detail: str, kind: CheckKind, at: float | None = None
) -> IntegrityRecord:
    """Record the result of a check so the alert engine sees it.

    Written to a temporary file, fsynced and renamed over the old one, so a
    reader never sees half a record and a crash leaves the previous one.

    Raises:
        ValueError: ``kind`` is not one of the three kinds.
        OSError: the cache directory cannot be created or written.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown integrity check kind {kind!r}; known: {', '.join(_KINDS)}")
    # Stored to the millisecond: keep the returned record equal to the one read back.
    stamp = parse_ts(iso(time.time() if at is None else float(at)))
    record = IntegrityRecord(bool(ok), stamp if stamp is not None else 0.0, detail, kind)
    target = _path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".integrity.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(record.to_json(), option=orjson.OPT_APPEND_NEWLINE))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return record


def last_integrity(settings: Settings) -> IntegrityRecord | None:
    """The last recorded check, or None when there is none or the file is unreadable.

    A corrupt or foreign file reads as "unknown" rather than as a failure:
    it says nothing about the store itself.
    """
    try:
        data = orjson.loads(_path(settings).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    ok, at, detail, kind = (data.get(k) for k in ("ok", "at", "detail", "kind"))
    ts = parse_ts(at) if isinstance(at, str) else None
    if not isinstance(ok, bool) or ts is None:
        return None
    return IntegrityRecord(
        ok,
        ts,
        detail if isinstance(detail, str) else "",
        kind if kind in _KINDS else "quick_check",
    )


def run_integrity_check(
    store: str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    full: bool = False,
    busy_timeout_ms: int = 2000,
) -> tuple[bool, str]:
    """Run ``PRAGMA quick_check`` (or ``integrity_check``) on a read-only connection.

    Blocking: run it in a thread worker. ``progress`` is driven by SQLite's
    progress handler, so it is called while the pragma runs, with a fraction
    estimated from the page count (capped below 1 until the check ends).

    Returns:
        ``(ok, summary)``: ``"ok"``, the first problem (with how many more),
        ``"cancelled"`` when ``progress`` asked to stop, or why the store
        could not be checked. Never raises for the store's state.
    """
    from oos_tui.store.connection import describe_error, open_ro_sync

    pragma = "integrity_check" if full else "quick_check"
    if not os.path.isfile(store):
        return False, f"store not found: {os.fspath(store)}"
    cancelled = False
    try:
        conn = open_ro_sync(store, busy_timeout_ms)
    except sqlite3.Error as exc:
        return False, describe_error(exc)
    try:
        pages = max(1, int(conn.execute("PRAGMA page_count").fetchone()[0]))
        expected = pages * _OPS_PER_PAGE[pragma]
        if progress is not None:
            done = 0

            def handler() -> int:
                nonlocal done, cancelled
                done += _PROGRESS_EVERY
                if progress(min(0.99, done / expected)):
                    cancelled = True
                    return 1
                return 0

            conn.set_progress_handler(handler, _PROGRESS_EVERY)
        rows = conn.execute(f"PRAGMA {pragma}(100)").fetchall()
    except sqlite3.Error as exc:
        if cancelled:
            return False, "cancelled"
        return False, describe_error(exc)
    finally:
        conn.close()
    if progress is not None:
        progress(1.0)
    # SQLite may pack several problems into one row, under a "*** in database" header.
    problems = [
        line.strip()
        for r in rows
        for line in str(r[0]).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if problems == ["ok"]:
        return True, "ok"
    if not problems:
        return False, f"{pragma} returned nothing"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return False, problems[0] + more


def check_store(
    settings: Settings,
    progress: Progress | None = None,
    *,
    full: bool = False,
    clock: Any = None,
) -> tuple[IntegrityRecord, str | None]:
    """Check the workspace's store read-only and record the result (the Resources key).

    A cancelled check is not recorded: it proved nothing either way.

    Returns:
        The check's outcome, and None once it is recorded, or why it could
        not be (the cache directory is not writable): the outcome stands
        either way, so the face shows both.
    """
    started = clock.now() if clock is not None else time.time()
    ok, detail = run_integrity_check(settings.store_path, progress, full=full)
    kind: CheckKind = "integrity_check" if full else "quick_check"
    record = IntegrityRecord(ok, started, detail, kind)
    if detail == "cancelled":
        return record, "cancelled: not recorded"
    try:
        return record_integrity(settings, ok, detail, kind, started), None
    except OSError as exc:
        return record, f"cannot record the result in {_path(settings)}: {exc.strerror or exc}"


@dataclass(frozen=True, slots=True)
class StoreHealthFigures:
    """The store-health figures of the Resources screen and ``status --json``."""

    page_count: int | None
    page_size: int | None
    freelist_count: int | None
    freelist_ratio: float | None
    vacuum_recommended: bool
    size_bytes: int
    wal_bytes: int
    last_check: IntegrityRecord | None

    @property
    def advice(self) -> str | None:
        """One line an operator can act on, or None."""
        if self.vacuum_recommended and self.freelist_ratio is not None:
            return (
                f"{self.freelist_ratio:.0%} of pages are free "
                f"(over {VACUUM_FREELIST_RATIO:.0%}): the OOS policy recommends a VACUUM"
            )
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``store_health`` object of ``status --json``."""
        return {
            "page_count": self.page_count,
            "page_size": self.page_size,
            "freelist_count": self.freelist_count,
            "freelist_ratio": (
                None if self.freelist_ratio is None else round(self.freelist_ratio, 4)
            ),
            "vacuum_recommended": self.vacuum_recommended,
            "advice": self.advice,
            "size_bytes": self.size_bytes,
            "wal_bytes": self.wal_bytes,
            "last_check": self.last_check.to_json() if self.last_check else None,
        }


def store_health_figures(
    health: StoreHealth, last_check: IntegrityRecord | None
) -> StoreHealthFigures:
    """Derive the freelist ratio and the VACUUM advice from one snapshot's health."""
    ratio = None
    if health.page_count and health.freelist_count is not None:
        ratio = health.freelist_count / health.page_count
    return StoreHealthFigures(
        page_count=health.page_count,
        page_size=health.page_size,
        freelist_count=health.freelist_count,
        freelist_ratio=ratio,
        vacuum_recommended=ratio is not None and ratio > VACUUM_FREELIST_RATIO,
        size_bytes=health.size_bytes,
        wal_bytes=health.wal_bytes,
        last_check=last_check,
    )
