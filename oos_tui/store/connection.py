"""Opening the store read-only or for actions, and saying what went wrong in one line.

Every connection here runs in autocommit (``isolation_level=None``): the
caller issues ``BEGIN`` itself, so a read snapshot or an action's write lock
spans exactly the statements it means to. aiosqlite connections own a
non-daemon thread each: close them (``async with`` or ``await close()``) or
interpreter exit hangs.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import aiosqlite

__all__ = [
    "describe_error",
    "error_kind",
    "open_ro",
    "open_ro_sync",
    "open_rw",
    "ro_uri",
    "rw_uri",
    "store_files",
]


def _uri(path: str | os.PathLike[str], mode: str) -> str:
    absolute = os.path.abspath(os.fspath(path))
    # quote() leaves "/" alone but escapes "?", "#" and "%", which SQLite would
    # otherwise read as the query, the fragment or an escape.
    return f"file:{quote(absolute, safe='/')}?mode={mode}"


def ro_uri(path: str | os.PathLike[str]) -> str:
    """The ``file:`` URI that opens ``path`` read-only (never creating it)."""
    return _uri(path, "ro")


def rw_uri(path: str | os.PathLike[str]) -> str:
    """The ``file:`` URI that opens ``path`` read-write but never creates it.

    An action must not turn a mistyped path into a new, empty store.
    """
    return _uri(path, "rw")


async def open_ro(
    path: str | os.PathLike[str], busy_timeout_ms: int = 2000
) -> aiosqlite.Connection:
    """Open the store read-only for the live reader.

    Args:
        path: the store file; it must exist (a read-only open never creates it).
        busy_timeout_ms: how long a statement waits on another process's lock
            before failing with "database is locked".

    Raises:
        sqlite3.Error: the file cannot be opened; pass it to :func:`describe_error`.
    """
    # sqlite3's timeout is SQLite's busy timeout.
    return await aiosqlite.connect(
        ro_uri(path), uri=True, isolation_level=None, timeout=busy_timeout_ms / 1000
    )


async def open_rw(
    path: str | os.PathLike[str], busy_timeout_ms: int = 5000
) -> aiosqlite.Connection:
    """Open the store for an operator action.

    Foreign keys stay off whatever the build's default: the producer may not
    enforce them, and an action must behave exactly as the producer's own
    writes do. The connection never creates a missing store.

    Args:
        path: the store file.
        busy_timeout_ms: how long ``BEGIN IMMEDIATE`` waits for the producer's
            write lock before the action reports the store busy.

    Raises:
        sqlite3.Error: the file cannot be opened; pass it to :func:`describe_error`.
    """
    conn = await aiosqlite.connect(
        rw_uri(path), uri=True, isolation_level=None, timeout=busy_timeout_ms / 1000
    )
    try:
        await conn.execute_fetchall("PRAGMA foreign_keys=OFF")
    except BaseException:
        await conn.close()
        raise
    return conn


def open_ro_sync(path: str | os.PathLike[str], busy_timeout_ms: int = 2000) -> sqlite3.Connection:
    """Open the store read-only with plain :mod:`sqlite3` (backups, CLI health checks).

    Raises:
        sqlite3.Error: the file cannot be opened; pass it to :func:`describe_error`.
    """
    return sqlite3.connect(
        ro_uri(path),
        uri=True,
        isolation_level=None,
        timeout=busy_timeout_ms / 1000,
        check_same_thread=False,
    )


_KINDS: dict[int, str] = {
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_NOTADB: "corrupt",
    sqlite3.SQLITE_READONLY: "readonly",
    sqlite3.SQLITE_CANTOPEN: "cantopen",
    sqlite3.SQLITE_PERM: "permission",
    sqlite3.SQLITE_AUTH: "permission",
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_IOERR: "ioerror",
    sqlite3.SQLITE_NOMEM: "nomem",
}


def error_kind(exc: BaseException) -> str:
    """A stable word for the class of a store failure.

    One of ``busy``, ``corrupt``, ``readonly``, ``cantopen``, ``permission``,
    ``full``, ``ioerror``, ``nomem``, ``missing`` (no such file), ``schema``
    (no such table or column) or ``error``. Callers branch on it: a busy
    store is worth retrying, a corrupt one is not.
    """
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, OSError):
        return "ioerror"
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        kind = _KINDS.get(code & 0xFF)
        if kind is not None:
            return kind
    text = str(exc).lower()
    if "database is locked" in text or "database table is locked" in text:
        return "busy"
    if "malformed" in text or "not a database" in text:
        return "corrupt"
    if "readonly database" in text or "read-only" in text:
        return "readonly"
    if "unable to open database" in text:
        return "cantopen"
    if text.startswith(("no such table", "no such column")):
        return "schema"
    return "error"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """One line for an operator, from an :mod:`sqlite3` (or OS) exception.

    SQLite's own words ("database is locked", "attempt to write a readonly
    database") are accurate but say nothing about what to do; these say what
    state the store is in.
    """
    kind = error_kind(exc)
    detail = _first_line(exc)
    if kind == "busy":
        return "store busy (locked by another process)"
    if kind == "corrupt":
        if "not a database" in detail.lower():
            return "store is corrupt: file is not a database"
        return f"store is corrupt: {detail}"
    if kind == "readonly":
        return "store is read-only"
    if kind == "cantopen":
        return f"cannot open store: {detail}"
    if kind == "permission":
        return f"permission denied on store: {getattr(exc, 'strerror', None) or detail}"
    if kind == "full":
        return "disk full: the store cannot grow"
    if kind == "ioerror":
        return f"I/O error on store: {getattr(exc, 'strerror', None) or detail}"
    if kind == "nomem":
        return "out of memory reading the store"
    if kind == "missing":
        return f"store not found: {getattr(exc, 'filename', None) or detail}"
    return detail


def store_files(path: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """The store file and its ``-wal`` and ``-shm`` companions."""
    base = os.fspath(path)
    return Path(base), Path(f"{base}-wal"), Path(f"{base}-shm")
