"""Stores, damage and hostile filesystems for the backup tests; run as a script, a backup to kill.

The tests import it with ``tests/helpers`` put on ``sys.path`` for the
import (tests are not a package).

Filesystem faults are made as real as this machine allows:

* a full disk is a tiny ``tmpfs`` mounted over the backups directory when
  ``mount`` works (root in a sandbox that allows it), else the caller falls
  back to ``RLIMIT_FSIZE`` (writes past the limit fail with ``EFBIG``);
* a read-only backups directory is a read-only bind mount of it, else
  ``chattr +i``, else (not root) ``chmod 0555``.

``python backup_support.py crash WORKSPACE`` takes a slow backup (small steps
with a pause between them), prints ``COPYING`` once the first step is done,
and is meant to be killed with SIGKILL in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from oos_tui.store.schema import init_store

HERE = Path(__file__).resolve()
WRITER = HERE.parent / "store_writer.py"


def make_store(db: Path, *, rows: int = 2000, blob: int = 450) -> Path:
    """A version-1 store with ``rows`` events of about ``2 * blob`` bytes each, WAL folded in."""
    init_store(db)
    fill(db, rows, blob)
    return db


def fill(db: Path, rows: int, blob: int = 450) -> None:
    """Add ``rows`` events (random text) in one transaction; about 2.3 kB each at blob=450."""
    con = sqlite3.connect(db)
    try:
        con.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO events SELECT hex(randomblob(16)), '2025-09-29T02:00:00Z', 'filler', "
            "'metric', 'info', 'filler', hex(randomblob(?)), '{}', '[]', NULL, NULL, 1, '{}' "
            "FROM n",
            (rows, blob),
        )
        con.commit()
    finally:
        con.close()


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one query on a read-only connection."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def audit_rows(db: Path) -> list[tuple[str, str, str, str]]:
    """``(action, target, outcome, detail)`` of every audit row, oldest first."""
    sql = "SELECT action, target, outcome, detail FROM operator_actions ORDER BY id"
    return [(r[0], r[1], r[2], r[3]) for r in rows(db, sql)]


def hashlib_sha256(path: Path) -> str:
    """The file's sha256, computed independently of the code under test."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page_size(db: Path) -> int:
    """The store's page size."""
    return int(rows(db, "PRAGMA page_size")[0][0])


def damage_page(db: Path, name: str = "idx_events_severity") -> int:
    """Scribble over the b-tree root page of ``name``; the file still opens. Returns the page."""
    (root,) = rows(db, "SELECT rootpage FROM sqlite_schema WHERE name = ?", (name,))[0]
    size = page_size(db)
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * size + 8)
        fh.write(b"\xff\xff\xff\xff")
        fh.seek((root - 1) * size + size // 2)
        fh.write(b"\xff" * 64)
    return int(root)


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Invert one byte (by default in the middle of the file)."""
    size = path.stat().st_size
    at = size // 2 if offset is None else offset
    with open(path, "r+b") as fh:
        fh.seek(at)
        b = fh.read(1)
        fh.seek(at)
        fh.write(bytes([b[0] ^ 0xFF]))


def valid_looking(directory: Path) -> list[str]:
    """Every file in ``directory`` that could pass for a backup or its sidecar."""
    if not directory.is_dir():
        return []
    return sorted(
        p.name for p in directory.iterdir() if p.suffix in (".db", ".json") or ".db" in p.name
    )


def _run(*cmd: str) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


@contextlib.contextmanager
def tiny_tmpfs(directory: Path, size: str = "1m") -> Iterator[bool]:
    """Mount a ``size`` tmpfs over ``directory``; yields False when mounting is not allowed."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    if not _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)):
        yield False
        return
    try:
        yield True
    finally:
        _run("umount", "-l", str(directory))


@contextlib.contextmanager
def read_only_dir(directory: Path) -> Iterator[str]:
    """Make ``directory`` unwritable; yields how (``ro-bind-mount``, ``chattr+i``, ``chmod``)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield "chmod"
        finally:
            directory.chmod(0o755)
        return
    if _run("mount", "--bind", str(directory), str(directory)):
        if _run("mount", "-o", "remount,bind,ro", str(directory)):
            try:
                yield "ro-bind-mount"
            finally:
                _run("umount", "-l", str(directory))
            return
        _run("umount", "-l", str(directory))
    if shutil.which("chattr") and _run("chattr", "+i", str(directory)):
        try:
            yield "chattr+i"
        finally:
            _run("chattr", "-i", str(directory))
        return
    raise RuntimeError("cannot make a directory read-only here")


def _crash(workspace: str) -> int:
    from oos_tui.actions.backup import take_backup
    from oos_tui.config import load_settings

    settings = load_settings(workspace)
    said = False

    def progress(remaining: int, total: int) -> None:
        nonlocal said
        if not said and remaining < total:
            print("COPYING", flush=True)
            said = True

    result = asyncio.run(
        take_backup(settings, progress=progress, pages_per_step=32, step_pause=0.01)
    )
    print("FINISHED", result.outcome, flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "crash":
        sys.exit(_crash(sys.argv[2]))
    sys.exit("usage: backup_support.py crash WORKSPACE")
