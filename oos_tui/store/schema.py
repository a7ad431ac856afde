"""The store's schema (CONTRACT §3) in code, and ``init_store`` for a fresh workspace."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
from importlib import resources
from pathlib import Path

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "StoreError",
    "StoreExistsError",
    "init_store",
    "schema_sql",
]

SCHEMA_VERSION = 1
"""The ``PRAGMA user_version`` this console understands; a higher one is read-only."""

TABLES: tuple[str, ...] = (
    "tasks",
    "dead_letter",
    "circuit_breakers",
    "events",
    "operator_actions",
)
"""Every table of schema version 1, in the order ``schema.sql`` creates them."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "tasks": (
        "id",
        "queue",
        "task_type",
        "payload",
        "status",
        "priority",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "worker_id",
        "last_error",
        "created_at",
        "updated_at",
    ),
    "dead_letter": (
        "id",
        "task_id",
        "queue",
        "task_type",
        "payload",
        "attempts",
        "error",
        "worker_id",
        "failed_at",
    ),
    "circuit_breakers": (
        "name",
        "state",
        "consecutive_failures",
        "failure_threshold",
        "total_failures",
        "total_successes",
        "opened_at",
        "retry_at",
        "last_error",
        "updated_at",
    ),
    "events": (
        "id",
        "timestamp",
        "system",
        "event_type",
        "severity",
        "title",
        "description",
        "data",
        "tags",
        "correlation_id",
        "source_component",
        "duration_ms",
        "metadata",
    ),
    "operator_actions": ("id", "at", "operator", "action", "target", "detail", "outcome"),
}
"""The columns of each table in version 1: a newer store is read through these only."""


class StoreError(Exception):
    """A store problem the faces show as one line (never a traceback)."""


class StoreExistsError(StoreError):
    """``init`` was asked to create a store where something already exists."""


def schema_sql() -> str:
    """The contract's DDL, shipped as package data so tests and ``init`` share one copy."""
    return resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


def init_store(path: Path) -> None:
    """Create an empty version-1 store at ``path``, in WAL mode.

    The store is built under a temporary name in the same directory and then
    linked into place, so a crash or a failure never leaves a half-made file
    under the real name. Nothing that already exists is ever overwritten:
    even an empty file may be a producer that is just starting, and a stray
    ``-wal`` or ``-journal`` would be replayed into the new file.

    Raises:
        StoreExistsError: something (file, directory, link, stale journal) is at ``path``.
        StoreError: the store could not be created (permissions, disk full...).
    """
    path = Path(path)
    for taken in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        if os.path.lexists(taken):
            raise StoreExistsError(f"refusing to initialise: {taken} already exists")
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.init"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _build(tmp)
        _place(tmp, path)
    except StoreError:
        raise
    except FileExistsError as exc:
        raise StoreExistsError(f"refusing to initialise: {path} already exists") from exc
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot create {path}: {_reason(exc)}") from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    _fsync_dir(path.parent)


def _build(tmp: Path) -> None:
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot create a WAL store here (journal mode stays {mode})")
        conn.executescript(
            f"BEGIN;\n{schema_sql()}\nPRAGMA user_version={SCHEMA_VERSION};\nCOMMIT;"
        )
        # Fold the WAL into the main file: only that file is moved into place.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())


def _place(tmp: Path, path: Path) -> None:
    try:
        # link() fails if the name was taken meanwhile, where rename() would clobber it.
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from exc
        os.rename(tmp, path)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
