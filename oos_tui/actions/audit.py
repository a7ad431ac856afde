"""Who is acting, and the ``operator_actions`` row every action writes (CONTRACT §3, §5)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import orjson

__all__ = ["ACTIONS", "OUTCOMES", "insert_audit", "now_iso", "operator_identity"]

ACTIONS = ("retry", "retry_all", "purge", "reset_breaker", "backup")
OUTCOMES = ("ok", "refused", "error")


def operator_identity(env: Mapping[str, str] | None = None) -> str:
    """The OS user, with the SSH client address when the session came over SSH.

    ``$SSH_CLIENT`` is ``"addr port localport"``; ``$SSH_CONNECTION`` has the
    same first field. Without either, the user alone.
    """
    env = os.environ if env is None else env
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = env.get("USER") or env.get("LOGNAME") or f"uid{os.getuid()}"
    ssh = env.get("SSH_CLIENT") or env.get("SSH_CONNECTION") or ""
    addr = ssh.split()[0] if ssh.split() else ""
    return f"{user}@{addr}" if addr else user


def now_iso(ts: float | None = None) -> str:
    """A store timestamp: ISO-8601 UTC with milliseconds and ``Z``."""
    dt = datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _json(detail: Mapping[str, Any]) -> str:
    return orjson.dumps(detail, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


async def insert_audit(
    conn: aiosqlite.Connection,
    *,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    outcome: str,
    operator: str,
    at: str | None = None,
) -> int:
    """Insert one ``operator_actions`` row on ``conn`` (inside the caller's transaction)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    cur = await conn.execute(
        "INSERT INTO operator_actions(at, operator, action, target, detail, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (at or now_iso(), operator, action, target, _json(detail), outcome),
    )
    return int(cur.lastrowid or 0)
