"""Run an operator action as one transaction with its audit row, or not at all.

Every action of CONTRACT §5 goes through :func:`run_action`:

1. Read-only mode, a missing store or a newer schema: refused before anything
   is opened for writing (no audit row can or should be written).
2. ``BEGIN IMMEDIATE`` takes the write lock up front, waiting at most
   ``busy_timeout`` seconds while the producer holds it; past that the action
   is refused with "store busy, nothing changed".
3. The action's body runs on the connection and returns what it did; its
   ``operator_actions`` row is inserted in the same transaction; ``COMMIT``.
4. Any failure rolls back, then a separate short transaction records the
   attempt with outcome ``error`` (best effort: a busy store is said so).

The body never commits; it may raise :class:`Refused` to end with outcome
``refused`` (for example "already retried"), which is audited too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from oos_tui.actions.audit import insert_audit, operator_identity
from oos_tui.models import ActionResult
from oos_tui.store.connection import describe_error, error_kind, open_rw
from oos_tui.store.schema import SCHEMA_VERSION

__all__ = ["ActionOutcome", "Refused", "run_action"]

DEFAULT_BUSY_TIMEOUT = 5.0


class Refused(Exception):
    """The action cannot proceed for a reason the operator must hear (audited as refused)."""

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.detail = dict(detail or {})


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What an action body reports back: a one-line message and the audit detail."""

    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)


Body = Callable[[aiosqlite.Connection], Awaitable[ActionOutcome]]


async def _schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def run_action(
    store: Path,
    *,
    action: str,
    target: str,
    body: Body,
    read_only: bool = False,
    operator: str | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> ActionResult:
    """Run ``body`` in one write transaction with its audit row; never raises for store trouble."""
    who = operator or operator_identity()
    if read_only:
        return ActionResult(action, target, "refused", "read-only mode: nothing changed")
    if not store.exists():
        return ActionResult(action, target, "refused", f"no store at {store}: nothing changed")
    try:
        conn = await open_rw(store, busy_timeout_ms=int(busy_timeout * 1000))
    except (sqlite3.Error, OSError) as exc:
        return ActionResult(
            action, target, "error", f"cannot open the store: {describe_error(exc)}"
        )
    try:
        return await _run(conn, action, target, body, who)
    finally:
        await conn.close()


async def _run(
    conn: aiosqlite.Connection, action: str, target: str, body: Body, who: str
) -> ActionResult:
    try:
        version = await _schema_version(conn)
    except sqlite3.Error as exc:
        return ActionResult(action, target, "error", describe_error(exc))
    if version > SCHEMA_VERSION:
        return ActionResult(
            action,
            target,
            "refused",
            f"store schema v{version} is newer than this console (v{SCHEMA_VERSION}): "
            "actions refused, nothing changed",
        )
    try:
        await conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        if error_kind(exc) == "busy":
            return ActionResult(
                action,
                target,
                "refused",
                "store busy (the producer holds the write lock): nothing changed",
            )
        return ActionResult(action, target, "error", describe_error(exc))
    outcome = "ok"
    try:
        # The body runs inside a savepoint: a refusal undoes its changes but
        # keeps the write lock, so the audit row lands in the same transaction.
        await conn.execute("SAVEPOINT action_body")
        try:
            result = await body(conn)
            message, detail = result.message, dict(result.detail)
            await conn.execute("RELEASE action_body")
        except Refused as refused:
            outcome, message, detail = "refused", str(refused), refused.detail
            await conn.execute("ROLLBACK TO action_body")
            await conn.execute("RELEASE action_body")
        detail.setdefault("result", message)
        audit_id = await insert_audit(
            conn, action=action, target=target, detail=detail, outcome=outcome, operator=who
        )
        await conn.execute("COMMIT")
    except BaseException as exc:
        await _rollback(conn)
        if not isinstance(exc, Exception):
            raise
        message = (
            describe_error(exc)
            if isinstance(exc, sqlite3.Error)
            else f"{type(exc).__name__}: {exc}"
        )
        audit_id = await _audit_failure(conn, action, target, who, message)
        suffix = "" if audit_id else " (the failure could not be audited: store busy)"
        return ActionResult(
            action, target, "error", f"{message}: nothing changed{suffix}", {}, audit_id
        )
    return ActionResult(action, target, outcome, message, detail, audit_id)


async def _rollback(conn: aiosqlite.Connection) -> None:
    try:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the connection is closed next; SQLite rolls back on close


async def _audit_failure(
    conn: aiosqlite.Connection, action: str, target: str, who: str, message: str
) -> int | None:
    try:
        await conn.execute("BEGIN IMMEDIATE")
        audit_id = await insert_audit(
            conn,
            action=action,
            target=target,
            detail={"error": message},
            outcome="error",
            operator=who,
        )
        await conn.execute("COMMIT")
        return audit_id
    except sqlite3.Error:
        await _rollback(conn)
        return None
