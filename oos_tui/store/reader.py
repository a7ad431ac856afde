"""The live read-only reader: one poll, one read transaction, one frozen snapshot.

The producer writes the store all the time; the console only watches. A
:class:`StoreReader` keeps one read-only connection open, because SQLite's
``PRAGMA data_version`` only reports other connections' commits to a
connection that stays open: an idle poll is then a ``stat`` and one pragma.
Everything the store can do wrong (be missing, locked, corrupt, of a newer
schema, without some tables) comes back as a snapshot whose health says so in
one line, never as an exception, so the faces never need a try block.

Time windows ("completed in the last hour", "backing off") compare stored ISO
text with the clock through ``julianday()``, which reads every ISO variant the
producer may write (``T`` or space, with or without fraction, ``Z`` or an
offset), behind a cheap text pre-filter on the date that never drops a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sqlite3
import stat
import types
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from oos_tui.clock import Clock, SystemClock
from oos_tui.models import AuditEntry, Breaker, DeadLetter, QueueStats, StoreEvent, Task
from oos_tui.store.connection import describe_error, error_kind, open_ro
from oos_tui.store.rows import (
    audit_from_row,
    breaker_from_row,
    dead_letter_from_row,
    select_list,
    store_event_from_row,
    task_from_row,
    to_ts,
)
from oos_tui.store.schema import SCHEMA_VERSION, TABLES, StoreError

__all__ = [
    "BACKING_OFF_LIMIT",
    "StoreHealth",
    "StoreReader",
    "StoreSnapshot",
    "dead_letter_where",
    "iso_day_floor",
    "julian_day",
    "newer_schema_message",
]

BACKING_OFF_LIMIT = 500
"""At most this many backing-off tasks travel in one snapshot."""

_T = TypeVar("_T")
_EMPTY: Mapping[str, int] = types.MappingProxyType({})
_QUEUE_IN_MAX = 200
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """What state the store file is in, as of one poll."""

    path: str
    present: bool
    readable: bool
    schema_version: int | None
    newer_schema: bool
    journal_mode: str | None
    size_bytes: int
    wal_bytes: int
    page_size: int | None
    page_count: int | None
    freelist_count: int | None
    missing_tables: tuple[str, ...]
    message: str | None
    """One readable line when something is wrong; None when the store is healthy."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with the store."""
        return self.message is None


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Every figure of one poll, read in one transaction so they agree with each other."""

    taken_at: float
    data_version: int | None
    health: StoreHealth
    queues: tuple[QueueStats, ...]
    task_counts: Mapping[str, int]
    dead_letter_count: int
    breakers: tuple[Breaker, ...]
    backing_off: tuple[Task, ...]
    latest_event_rowid: int
    audit_count: int

    def queue(self, name: str) -> QueueStats | None:
        """The stats of one queue, or None when the store has no such queue."""
        for stats in self.queues:
            if stats.queue == name:
                return stats
        return None


def newer_schema_message(version: int) -> str:
    """The warning shown (and the reason actions give) for a store of a newer schema."""
    return (
        f"schema version {version} is newer than this console ({SCHEMA_VERSION}): "
        "read-only view, actions refused"
    )


def julian_day(ts: float) -> float:
    """Epoch seconds as the Julian day number SQLite's ``julianday()`` returns."""
    return ts / 86400.0 + 2440587.5


def iso_day_floor(ts: float, days: float = 1.0) -> str:
    """``YYYY-MM-DD`` of ``ts`` minus ``days``: a text bound no ISO form of ``ts`` is below.

    Comparing stored text against it (``col >= floor``) can use an index and
    is cheap, and is safe whether the producer writes ``T`` or a space, UTC
    or a local offset (at most a day away), so exact ``julianday()`` tests
    only run on the few rows it lets through.
    """
    return datetime.fromtimestamp(ts - days * 86400.0, UTC).strftime("%Y-%m-%d")


def _json_plain(text: str) -> bool:
    # True when no JSON encoder would escape anything in text, so a raw
    # substring search of the stored JSON cannot miss it.
    return text.isascii() and text.isprintable() and not any(c in text for c in '"\\/')


def _ids_json(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


def dead_letter_where(
    *,
    queue: str | None = None,
    task_type: str | None = None,
    error: str | None = None,
    ids: Sequence[int] | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (without ``WHERE``) and parameters of a dead-letter filter.

    Shared with the actions, so the rows an operator is shown and asked to
    confirm are exactly the rows a retry-all or purge then touches. ``error``
    matches a substring, case-insensitively for ASCII letters (SQLite's
    ``lower()``); an empty filter matches every row.
    """
    terms: list[str] = []
    params: list[Any] = []
    if queue is not None:
        terms.append("queue = ?")
        params.append(queue)
    if task_type is not None:
        terms.append("task_type = ?")
        params.append(task_type)
    if error:
        terms.append("instr(lower(error), ?) > 0")
        params.append(error.translate(_ASCII_LOWER))
    if ids is not None:
        terms.append("id IN (SELECT value FROM json_each(?))")
        params.append(_ids_json(ids))
    return (" AND ".join(terms) or "1"), params


def _file_identity(path: Path) -> tuple[os.stat_result | None, OSError | None]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, exc
    if not stat.S_ISREG(st.st_mode):
        return None, IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
    return st, None


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class _Figures:
    """The mutable working set of one read, frozen into a snapshot at the end."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.oldest: dict[str, float | None] = {}
        self.completed_hour: dict[str, int] = {}
        self.dead: dict[str, int] = {}
        self.breakers: tuple[Breaker, ...] = ()
        self.backing_off: tuple[Task, ...] = ()
        self.latest_event_rowid = 0
        self.audit_count = 0
        self.notes: list[str] = []


class StoreReader:
    """Polls the store read-only and turns each poll into a :class:`StoreSnapshot`.

    Polls and queries are serialised on one connection, so they never overlap
    (STYLE §4). Use it as an async context manager, or ``await close()``: the
    connection's thread would otherwise hold up interpreter exit.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock | None = None,
        busy_timeout_ms: int = 2000,
        refresh_after: float = 30.0,
    ) -> None:
        """Set up a reader; nothing is opened until the first poll.

        Args:
            path: the store file (it may not exist yet).
            clock: where "now" comes from for the time windows and ``taken_at``.
            busy_timeout_ms: how long one read waits on another process's lock.
            refresh_after: seconds after which a poll reads again even if the
                store did not change, because "completed in the last hour"
                and "backing off" move with the clock.
        """
        self.path = Path(path)
        self._clock: Clock = clock or SystemClock()
        self._busy_timeout_ms = busy_timeout_ms
        self._refresh_after = refresh_after
        self._lock = asyncio.Lock()
        self._conn: aiosqlite.Connection | None = None
        self._ident: tuple[int, int] | None = None
        self._schema_version: int | None = None
        self._columns: dict[str, frozenset[str]] = {}
        self._last: StoreSnapshot | None = None
        self._good: StoreSnapshot | None = None
        self._settled = False
        self._expires_at = 0.0

    async def __aenter__(self) -> StoreReader:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def last(self) -> StoreSnapshot | None:
        """The snapshot the last poll returned (polls that returned None keep it)."""
        return self._last

    async def close(self) -> None:
        """Close the connection; the reader reopens it if polled again."""
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._ident = None
        self._schema_version = None
        self._columns = {}
        self._settled = False
        if conn is not None:
            await conn.close()

    # ----------------------------------------------------------------- poll

    async def poll(self, *, force: bool = False) -> StoreSnapshot | None:
        """Read the store once, or return None when nothing changed since the last poll.

        "Nothing changed" means the same file (device and inode) and the same
        ``PRAGMA data_version`` on the same connection, which costs a ``stat``
        and one pragma. ``force`` reads in full regardless. Never raises for
        the store's state: a missing, locked, corrupt or foreign store gives a
        snapshot whose ``health.message`` says so; a locked store keeps the
        previous figures (with their ``taken_at``) under the new health.
        """
        async with self._lock:
            now = self._clock.now()
            st, stat_error = _file_identity(self.path)
            if st is None:
                await self._drop()
                self._good = None
                return self._emit(self._absent(now, stat_error), force)
            ident = (st.st_dev, st.st_ino)
            if self._conn is not None and ident != self._ident:
                await self._drop()
                self._good = None
            try:
                if self._conn is None:
                    self._conn = await open_ro(self.path, self._busy_timeout_ms)
                    self._ident = ident
                good = self._good
                if self._settled and good is not None and not force and now < self._expires_at:
                    rows = await self._conn.execute_fetchall("PRAGMA data_version")
                    if next(iter(rows))[0] == good.data_version:
                        return None
                snapshot = await self._read(self._conn, now, st)
            except (sqlite3.Error, ValueError) as exc:
                return self._emit(await self._failed(now, st, exc), force)
            self._settled = True
            self._good = snapshot
            self._expires_at = now + self._refresh_after
            soonest = snapshot.backing_off[0].next_attempt_at if snapshot.backing_off else None
            if soonest is not None and soonest > now:
                self._expires_at = min(self._expires_at, soonest)
            return self._emit(snapshot, force)

    def _emit(self, snapshot: StoreSnapshot, force: bool) -> StoreSnapshot | None:
        last = self._last
        if not force and last is not None and replace(snapshot, taken_at=last.taken_at) == last:
            return None
        self._last = snapshot
        return snapshot

    def _empty(self, now: float, health: StoreHealth) -> StoreSnapshot:
        return StoreSnapshot(
            taken_at=now,
            data_version=None,
            health=health,
            queues=(),
            task_counts=_EMPTY,
            dead_letter_count=0,
            breakers=(),
            backing_off=(),
            latest_event_rowid=0,
            audit_count=0,
        )

    def _absent(self, now: float, error: OSError | None) -> StoreSnapshot:
        message = (
            f"store not found: {self.path}"
            if error is None
            else f"cannot read store: {error.strerror or error}"
        )
        health = StoreHealth(
            path=str(self.path),
            present=error is not None,
            readable=False,
            schema_version=None,
            newer_schema=False,
            journal_mode=None,
            size_bytes=0,
            wal_bytes=0,
            page_size=None,
            page_count=None,
            freelist_count=None,
            missing_tables=(),
            message=message,
        )
        return self._empty(now, health)

    async def _failed(
        self, now: float, st: os.stat_result, exc: sqlite3.Error | ValueError
    ) -> StoreSnapshot:
        kind = error_kind(exc)
        self._settled = False
        if kind != "busy":
            # A fresh connection next time: a corrupt or vanished file may
            # have been repaired or replaced under the same name.
            await self._drop()
        kept = self._good if kind == "busy" else None
        before = kept.health if kept is not None else None
        health = StoreHealth(
            path=str(self.path),
            present=True,
            readable=False,
            schema_version=before.schema_version if before else None,
            newer_schema=before.newer_schema if before else False,
            journal_mode=before.journal_mode if before else None,
            size_bytes=st.st_size,
            wal_bytes=_size(f"{self.path}-wal"),
            page_size=before.page_size if before else None,
            page_count=before.page_count if before else None,
            freelist_count=before.freelist_count if before else None,
            missing_tables=before.missing_tables if before else (),
            message=describe_error(exc),
        )
        if kept is not None:
            return replace(kept, health=health)
        return self._empty(now, health)

    async def _read(
        self, conn: aiosqlite.Connection, now: float, st: os.stat_result
    ) -> StoreSnapshot:
        try:
            await conn.execute_fetchall("BEGIN")
            # The first statement of the transaction fixes its snapshot, so
            # this data_version is the one every figure below belongs to.
            rows = await conn.execute_fetchall(
                "SELECT * FROM pragma_data_version, pragma_user_version, pragma_schema_version,"
                " pragma_page_size, pragma_page_count, pragma_freelist_count,"
                " pragma_journal_mode"
            )
            data_version, user_version, schema_version, page_size, page_count, freelist, mode = (
                next(iter(rows))
            )
            if schema_version != self._schema_version:
                await self._load_columns(conn)
                self._schema_version = schema_version
            figures = await self._figures(conn, now)
        finally:
            # Unconditional, and queued even when this poll is being cancelled:
            # statements run in order on the connection's thread, so this ends
            # the read transaction even if BEGIN has not run yet. A read left
            # open would pin the WAL (no checkpoint) and freeze data_version.
            with contextlib.suppress(sqlite3.Error, ValueError):
                await conn.execute_fetchall("ROLLBACK")
        return self._snapshot(
            now,
            st,
            figures,
            data_version=data_version,
            user_version=user_version,
            page_size=page_size,
            page_count=page_count,
            freelist=freelist,
            journal_mode=mode,
        )

    async def _load_columns(self, conn: aiosqlite.Connection) -> None:
        marks = ", ".join("?" * len(TABLES))
        rows = await conn.execute_fetchall(
            "SELECT m.name, p.name FROM sqlite_schema AS m"
            " JOIN pragma_table_info(m.name) AS p"
            f" WHERE m.type = 'table' AND m.name IN ({marks})",
            TABLES,
        )
        found: dict[str, set[str]] = {}
        for table, column in rows:
            found.setdefault(table, set()).add(column)
        self._columns = {table: frozenset(cols) for table, cols in found.items()}

    def _lacks(self, table: str, *columns: str) -> list[str]:
        present = self._columns.get(table)
        if present is None:
            return list(columns)
        return [c for c in columns if c not in present]

    async def _figure(
        self,
        figures: _Figures,
        table: str,
        needs: Sequence[str],
        read: Callable[[], Awaitable[None]],
    ) -> None:
        if table not in self._columns:
            return
        lacking = self._lacks(table, *needs)
        if lacking:
            note = f"{table} lacks {', '.join(lacking)}"
            if note not in figures.notes:
                figures.notes.append(note)
            return
        try:
            await read()
        except sqlite3.OperationalError as exc:
            if error_kind(exc) != "schema":
                raise
            figures.notes.append(f"{table}: {exc}")

    async def _figures(self, conn: aiosqlite.Connection, now: float) -> _Figures:
        f = _Figures()
        tasks_cols = self._columns.get("tasks")

        async def counts() -> None:
            rows = await conn.execute_fetchall(
                "SELECT queue, status, count(*) FROM tasks GROUP BY queue, status"
            )
            for queue, status, n in rows:
                f.counts[(str(queue), str(status))] = n

        await self._figure(f, "tasks", ("queue", "status"), counts)
        queues = sorted({q for q, _ in f.counts})
        by_queue, queue_params = _queue_filter(queues)
        day_floor = iso_day_floor(now - 3600)

        async def oldest() -> None:
            if not any(s == "pending" for _, s in f.counts):
                return
            rows = await conn.execute_fetchall(
                "SELECT queue, created_at, min(julianday(created_at)) FROM tasks"
                f" WHERE {by_queue} status = 'pending' GROUP BY queue",
                queue_params,
            )
            for queue, created_at, _ in rows:
                f.oldest[str(queue)] = to_ts(created_at)

        await self._figure(f, "tasks", ("queue", "status", "created_at"), oldest)

        async def completed_hour() -> None:
            completed = sum(n for (_, s), n in f.counts.items() if s == "completed")
            if not completed:
                return
            total = sum(f.counts.values())
            # Through the index every row is a b-tree seek (~3x a sequential
            # row): once completed tasks dominate, a plain scan is cheaper.
            if completed * 3 > total:
                source, where, params = "tasks NOT INDEXED", "", []
            else:
                source, where, params = "tasks", by_queue, list(queue_params)
            rows = await conn.execute_fetchall(
                f"SELECT queue, count(*) FROM {source}"
                f" WHERE {where} status = 'completed'"
                " AND updated_at >= ? AND julianday(updated_at) >= ? GROUP BY queue",
                [*params, day_floor, julian_day(now - 3600)],
            )
            for queue, n in rows:
                f.completed_hour[str(queue)] = n

        await self._figure(f, "tasks", ("queue", "status", "updated_at"), completed_hour)

        async def backing_off() -> None:
            if not any(s == "pending" for _, s in f.counts):
                return
            rows = await conn.execute_fetchall(
                f"SELECT {select_list('tasks', tasks_cols)} FROM tasks"
                f" WHERE {by_queue} status = 'pending' AND attempts > 0"
                " AND next_attempt_at >= ? AND julianday(next_attempt_at) > ?"
                " ORDER BY julianday(next_attempt_at), id LIMIT ?",
                [*queue_params, iso_day_floor(now), julian_day(now), BACKING_OFF_LIMIT],
            )
            f.backing_off = tuple(task_from_row(r) for r in rows)

        await self._figure(
            f, "tasks", ("queue", "status", "attempts", "next_attempt_at"), backing_off
        )

        async def dead() -> None:
            rows = await conn.execute_fetchall(
                "SELECT queue, count(*) FROM dead_letter GROUP BY queue"
            )
            for queue, n in rows:
                f.dead[str(queue)] = n

        await self._figure(f, "dead_letter", ("queue",), dead)

        async def breakers() -> None:
            cols = self._columns.get("circuit_breakers")
            rows = await conn.execute_fetchall(
                f"SELECT {select_list('circuit_breakers', cols)} FROM circuit_breakers"
                " ORDER BY name"
            )
            f.breakers = tuple(breaker_from_row(r) for r in rows)

        await self._figure(f, "circuit_breakers", ("name",), breakers)

        async def events() -> None:
            rows = await conn.execute_fetchall("SELECT max(rowid) FROM events")
            f.latest_event_rowid = next(iter(rows))[0] or 0

        await self._figure(f, "events", (), events)

        async def audit() -> None:
            rows = await conn.execute_fetchall("SELECT count(*) FROM operator_actions")
            f.audit_count = next(iter(rows))[0] or 0

        await self._figure(f, "operator_actions", (), audit)
        return f

    def _snapshot(
        self,
        now: float,
        st: os.stat_result,
        f: _Figures,
        *,
        data_version: int,
        user_version: int,
        page_size: int,
        page_count: int,
        freelist: int,
        journal_mode: str,
    ) -> StoreSnapshot:
        missing = tuple(t for t in TABLES if t not in self._columns)
        newer = user_version > SCHEMA_VERSION
        problems: list[str] = []
        if newer:
            problems.append(newer_schema_message(user_version))
        if len(missing) == len(TABLES):
            problems.append("no OOS tables in the store yet")
        elif missing:
            problems.append(f"tables not present: {', '.join(missing)}")
        problems.extend(f.notes)
        health = StoreHealth(
            path=str(self.path),
            present=True,
            readable=True,
            schema_version=user_version,
            newer_schema=newer,
            journal_mode=str(journal_mode).lower() if journal_mode is not None else None,
            size_bytes=st.st_size,
            wal_bytes=_size(f"{self.path}-wal"),
            page_size=page_size,
            page_count=page_count,
            freelist_count=freelist,
            missing_tables=missing,
            message="; ".join(problems) or None,
        )
        names = sorted({q for q, _ in f.counts} | set(f.dead))
        queues = tuple(
            QueueStats(
                queue=name,
                pending=f.counts.get((name, "pending"), 0),
                processing=f.counts.get((name, "processing"), 0),
                completed=f.counts.get((name, "completed"), 0),
                failed=f.counts.get((name, "failed"), 0),
                dead_letters=f.dead.get(name, 0),
                oldest_pending_at=f.oldest.get(name),
                completed_last_hour=f.completed_hour.get(name, 0),
            )
            for name in names
        )
        by_status: dict[str, int] = {}
        for (_, status), n in f.counts.items():
            by_status[status] = by_status.get(status, 0) + n
        return StoreSnapshot(
            taken_at=now,
            data_version=data_version,
            health=health,
            queues=queues,
            task_counts=types.MappingProxyType(dict(sorted(by_status.items()))),
            dead_letter_count=sum(f.dead.values()),
            breakers=f.breakers,
            backing_off=f.backing_off,
            latest_event_rowid=int(f.latest_event_rowid),
            audit_count=int(f.audit_count),
        )

    # -------------------------------------------------------------- queries

    async def _connection(self) -> aiosqlite.Connection:
        st, error = _file_identity(self.path)
        if st is None:
            await self._drop()
            if error is not None:
                raise StoreError(f"cannot read store: {error.strerror or error}")
            raise StoreError(f"store not found: {self.path}")
        ident = (st.st_dev, st.st_ino)
        if self._conn is not None and ident != self._ident:
            await self._drop()
        if self._conn is None:
            self._conn = await open_ro(self.path, self._busy_timeout_ms)
            self._ident = ident
        rows = await self._conn.execute_fetchall("PRAGMA schema_version")
        version = next(iter(rows))[0]
        if version != self._schema_version:
            await self._load_columns(self._conn)
            self._schema_version = version
        return self._conn

    async def _select(
        self,
        table: str,
        build: Callable[[frozenset[str]], tuple[str, Sequence[Any]]],
        convert: Callable[[Any], _T],
    ) -> list[_T]:
        """Run one query on ``table``; a missing table reads as no rows.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """
        async with self._lock:
            for attempt in (1, 2):
                try:
                    conn = await self._connection()
                    present = self._columns.get(table)
                    if present is None:
                        return []
                    sql, params = build(present)
                    rows = await conn.execute_fetchall(sql, params)
                    return [convert(row) for row in rows]
                except (sqlite3.Error, ValueError) as exc:
                    if error_kind(exc) == "schema" and attempt == 1:
                        # The producer changed the schema between our look and the query.
                        self._schema_version = None
                        continue
                    if error_kind(exc) not in ("busy", "schema"):
                        await self._drop()
                    raise StoreError(describe_error(exc)) from exc
        return []

    async def events_since(self, rowid: int, limit: int = 5000) -> tuple[list[StoreEvent], int]:
        """Events added after ``rowid``, oldest first, and the rowid to ask from next time.

        The tail is incremental by rowid; when a snapshot's
        ``latest_event_rowid`` drops below the cursor, the table was pruned
        from the top or vacuumed, and the caller should start again from 0.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """
        events = await self._select(
            "events",
            lambda cols: (
                f"SELECT {select_list('events', cols, rowid=True)} FROM events"
                " WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (rowid, limit),
            ),
            store_event_from_row,
        )
        return events, (events[-1].rowid if events else rowid)

    async def events_where(
        self,
        *,
        correlation_id: str | None = None,
        item_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 10000,
    ) -> list[StoreEvent]:
        """Events of one trace, oldest first (by rowid), for following an item or request.

        ``item_id`` is matched against ``data.item_id`` (text or number);
        ``since`` and ``until`` (epoch seconds, ``until`` exclusive) use the
        timestamp index through a date pre-filter.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """

        def build(cols: frozenset[str]) -> tuple[str, Sequence[Any]]:
            terms: list[str] = []
            params: list[Any] = []
            if correlation_id is not None:
                terms.append("correlation_id = ?")
                params.append(correlation_id)
            if item_id is not None:
                terms.extend(_json_item_terms("data", item_id, params))
            if since is not None:
                terms.append("timestamp >= ? AND julianday(timestamp) >= ?")
                params += [iso_day_floor(since), julian_day(since)]
            if until is not None:
                terms.append("timestamp < ? AND julianday(timestamp) < ?")
                params += [iso_day_floor(until, -2.0), julian_day(until)]
            where = " AND ".join(terms) or "1"
            return (
                f"SELECT {select_list('events', cols, rowid=True)} FROM events"
                f" WHERE {where} ORDER BY rowid LIMIT ?",
                [*params, limit],
            )

        return await self._select("events", build, store_event_from_row)

    async def dead_letters(
        self,
        *,
        queue: str | None = None,
        task_type: str | None = None,
        error: str | None = None,
        ids: Sequence[int] | None = None,
        limit: int | None = None,
    ) -> list[DeadLetter]:
        """Dead letters matching a filter (see :func:`dead_letter_where`), newest failure first.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """
        where, params = dead_letter_where(queue=queue, task_type=task_type, error=error, ids=ids)

        def build(cols: frozenset[str]) -> tuple[str, Sequence[Any]]:
            order = (
                "julianday(failed_at) DESC NULLS LAST, id DESC"
                if "failed_at" in cols
                else ("id DESC")
            )
            sql = (
                f"SELECT {select_list('dead_letter', cols)} FROM dead_letter"
                f" WHERE {where} ORDER BY {order}"
            )
            if limit is not None:
                return sql + " LIMIT ?", [*params, limit]
            return sql, params

        return await self._select("dead_letter", build, dead_letter_from_row)

    async def tasks(
        self,
        *,
        ids: Sequence[int] | None = None,
        item_id: str | None = None,
        limit: int = 1000,
    ) -> list[Task]:
        """Tasks by id, or the tasks of one pipeline item (``payload.item_id``), by id.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """

        def build(cols: frozenset[str]) -> tuple[str, Sequence[Any]]:
            terms: list[str] = []
            params: list[Any] = []
            if ids is not None:
                terms.append("id IN (SELECT value FROM json_each(?))")
                params.append(_ids_json(ids))
            if item_id is not None:
                terms.extend(_json_item_terms("payload", item_id, params))
            where = " AND ".join(terms) or "1"
            return (
                f"SELECT {select_list('tasks', cols)} FROM tasks WHERE {where} ORDER BY id LIMIT ?",
                [*params, limit],
            )

        return await self._select("tasks", build, task_from_row)

    async def audit(self, *, limit: int = 500) -> list[AuditEntry]:
        """The operator actions log, newest first.

        Raises:
            StoreError: the store is missing, locked, corrupt or unreadable.
        """
        return await self._select(
            "operator_actions",
            lambda cols: (
                f"SELECT {select_list('operator_actions', cols)} FROM operator_actions"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ),
            audit_from_row,
        )

    async def integrity(self, quick: bool = True) -> tuple[bool, str]:
        """Run SQLite's ``quick_check`` (or full ``integrity_check``): ``(ok, summary)``.

        It runs on a connection of its own so a long check never holds up
        polls. Never raises: a store that cannot be checked is not ok, and the
        summary says why.
        """
        st, error = _file_identity(self.path)
        if st is None:
            if error is not None:
                return False, f"cannot read store: {error.strerror or error}"
            return False, f"store not found: {self.path}"
        pragma = "quick_check" if quick else "integrity_check"
        try:
            conn = await open_ro(self.path, self._busy_timeout_ms)
        except (sqlite3.Error, ValueError) as exc:
            return False, describe_error(exc)
        try:
            rows = list(await conn.execute_fetchall(f"PRAGMA {pragma}(100)"))
        except (sqlite3.Error, ValueError) as exc:
            return False, describe_error(exc)
        finally:
            await conn.close()
        problems = [str(r[0]) for r in rows]
        if problems == ["ok"]:
            return True, "ok"
        if not problems:
            return False, f"{pragma} returned nothing"
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return False, problems[0] + more


def _queue_filter(queues: Collection[str]) -> tuple[str, list[Any]]:
    # An explicit IN list lets SQLite seek idx_tasks_queue_status(queue, status)
    # for a status alone; with very many queues a scan is as cheap.
    if not queues or len(queues) > _QUEUE_IN_MAX:
        return "", []
    return f"queue IN ({', '.join('?' * len(queues))}) AND", list(queues)


def _json_item_terms(column: str, item_id: str, params: list[Any]) -> list[str]:
    terms: list[str] = []
    if _json_plain(item_id):
        # A plain substring test first skips json_extract on almost every row.
        terms.append(f"instr({column}, ?) > 0")
        params.append(item_id)
    terms.append(
        f"CAST(CASE WHEN json_valid({column}) THEN json_extract({column}, '$.item_id') END"
        " AS TEXT) = ?"
    )
    params.append(item_id)
    return terms
