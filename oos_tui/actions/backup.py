"""Backups of the store that prove themselves: take, verify, list, retain, restore (CONTRACT §4).

A backup is ``BACKUPS/oos-<UTC yyyymmddTHHMMSSZ>.db`` with the sidecar
``oos-<stamp>.json`` beside it. The sidecar holds the contract's fields
(``created_at, source, bytes, sha256, integrity, duration_ms, operator``) and
this module's verification record: ``verified_at`` (ISO time of the last
successful verification, set at creation because the copy is checked before it
is named) and ``verify_ok``; a failed verification sets ``verify_ok`` false,
with ``verify_error`` and ``verify_failed_at``, and leaves ``verified_at`` alone.

Taking a backup, in this order (the order is the crash-safety argument):

1. Lock ``BACKUPS/.backup.lock`` (``flock``), so one backup or restore runs at a
   time, then delete every temporary file a crashed run left (all of them: no
   other run can own one while the lock is held) and every sidecar whose
   ``.db`` is missing.
2. Open the store read-only and hold one read transaction for the whole copy.
   Without it, SQLite's online backup restarts whenever another process
   commits between steps and, under a producer writing all the time, never
   ends (measured: 2,700 restarts in 4 s). In WAL mode the producer keeps
   writing meanwhile; only checkpoints wait, so the WAL grows for as long as
   the copy takes.
3. Copy in steps of ``pages_per_step`` pages into ``<name>.db.tmp-<hex>`` in
   the backups directory (the same filesystem as the final name, so the rename
   is atomic), reporting ``progress(remaining, total)`` after each step.
4. Switch the copy to ``journal_mode=DELETE`` (a backup is one self-contained
   file: opening it read-only needs no ``-wal`` or ``-shm``), fsync it, run
   ``PRAGMA integrity_check`` on it and hash it. Anything but ``ok`` fails the
   backup.
5. Write the sidecar to a temporary name, fsync it, rename it to its final
   name and fsync the directory; only then rename the ``.db`` into place and
   fsync the directory again. So a final-name ``.db`` always has a durable,
   valid sidecar, and a crash between the two renames leaves a sidecar
   without its ``.db``: it looks like no backup at all, and the next run
   removes it.
6. Retention deletes the oldest ``oos-*`` backups beyond ``[backup]
   retention``, each ``.db`` before its sidecar (the same invariant), then
   fsyncs the directory. ``pre-restore-*`` backups are never deleted by
   retention: each is the only copy of a store that a restore replaced.
7. One short transaction writes the ``operator_actions`` row (action
   ``backup``, target ``store``), whatever the outcome.

On any failure every temporary file is removed, the audit row says ``error``
(best effort: a store locked by another process cannot take it), and the
result carries one line saying what went wrong.

Restoring is deliberate and refuses unless the backup verifies, no pipeline
process is running and nothing else has the store open; see
:func:`restore_backup` for its own ordering.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from oos_tui.actions.audit import insert_audit, operator_identity
from oos_tui.models import ActionResult, iso
from oos_tui.store.connection import (
    describe_error,
    error_kind,
    open_ro_sync,
    open_rw,
    ro_uri,
    rw_uri,
    store_files,
)
from oos_tui.store.schema import SCHEMA_VERSION
from oos_tui.timeutil import parse_ts

if TYPE_CHECKING:
    from oos_tui.clock import Clock
    from oos_tui.config import Settings

__all__ = [
    "DEFAULT_PAGES_PER_STEP",
    "PRE_RESTORE_PREFIX",
    "RESTORE_AUDIT_ACTION",
    "SIDECAR_FIELDS",
    "BackupError",
    "BackupInfo",
    "VerifyReport",
    "backup_kind",
    "list_backups",
    "newest_verified_at",
    "producer_processes",
    "resolve_backup",
    "restore_backup",
    "take_backup",
    "verify_backup",
]

BACKUP_PREFIX = "oos"
PRE_RESTORE_PREFIX = "pre-restore"
DEFAULT_PAGES_PER_STEP = 1024
"""4 MiB per step at the default 4 KiB page: about 25 progress updates for 100 MB."""
DEFAULT_BUSY_TIMEOUT = 5.0
AUDIT_TIMEOUT = 5.0
"""How long an audit row waits for the write lock: a lock that made the backup fail is
often brief, and the failure should still be recorded."""
RESTORE_AUDIT_ACTION = "backup"
"""The audit action of a restore (target ``restore:<file>``).

CONTRACT §3 and ``audit.ACTIONS`` list no ``restore`` action; a restore is
recorded as the backup family's action until the contract names one.
"""
SIDECAR_FIELDS = ("created_at", "source", "bytes", "sha256", "integrity", "duration_ms", "operator")
"""The sidecar's contract fields (CONTRACT §4), never rewritten after creation."""

LOCK_NAME = ".backup.lock"
_STAMP = "%Y%m%dT%H%M%SZ"
_FINAL = re.compile(r"^(?P<prefix>oos|pre-restore)-(?P<stamp>\d{8}T\d{6}Z)\.db$")
_ORPHAN_SIDECAR = re.compile(r"^(?:oos|pre-restore)-\d{8}T\d{6}Z\.json$")
_TEMP = re.compile(
    r"^(?:oos|pre-restore)-\d{8}T\d{6}Z\.(?:db|json)\.tmp-[0-9a-f]+(?:-journal|-wal|-shm)?$"
)
_CHUNK = 1 << 20
_INTEGRITY_LIMIT = 100


class BackupError(Exception):
    """A backup or restore step failed; the message is one line for the operator.

    Attributes:
        stage: where it failed (``prepare``, ``lock``, ``copy``, ``check``,
            ``hash``, ``place``, ``restore``), for the audit detail.
        integrity: the copy's ``integrity_check`` result when it was run.
    """

    def __init__(self, message: str, stage: str, integrity: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.integrity = integrity


class _Refusal(Exception):
    """The operation must not proceed; nothing was changed."""


# ------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file as listed, from its sidecar and a ``stat`` (no hashing).

    Attributes:
        path: the ``.db`` file.
        sidecar: its ``.json`` sidecar (which may be missing).
        kind: ``backup`` (``oos-*``), ``pre-restore`` or ``other`` (any other
            ``.db`` in the directory).
        created_at: epoch seconds: the sidecar's, else the name's, else mtime.
        bytes: the file's size as recorded (the actual size without a sidecar).
        sha256: the recorded digest, None without a sidecar.
        integrity: ``ok``, the first problem, or ``unknown`` without a sidecar.
        duration_ms: how long taking it took.
        operator: who took it.
        source: the store it was taken from.
        verified_at: when it last verified (at creation, then each successful
            verify), None if never.
        verify_ok: the latest verification's result, None if never verified.
        problem: why it cannot be trusted apart from its integrity: sidecar
            missing or unreadable, size differs, last verification failed.
    """

    path: Path
    sidecar: Path
    kind: str
    created_at: float
    bytes: int
    sha256: str | None
    integrity: str
    duration_ms: int | None
    operator: str | None
    source: str | None
    verified_at: float | None
    verify_ok: bool | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Integrity ``ok`` and a consistent sidecar whose last verification passed."""
        return self.problem is None and self.integrity == "ok"

    @property
    def status(self) -> str:
        """One word or phrase for a list: ``ok``, the problem, or the integrity failure."""
        if self.problem is not None:
            return self.problem
        return "ok" if self.integrity == "ok" else f"integrity: {self.integrity}"

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        """The ``backup --list --json`` object."""
        return {
            "file": self.path.name,
            "path": str(self.path),
            "sidecar": str(self.sidecar),
            "kind": self.kind,
            "created_at": iso(self.created_at),
            "age_seconds": None if now is None else round(now - self.created_at, 3),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "integrity": self.integrity,
            "duration_ms": self.duration_ms,
            "operator": self.operator,
            "source": self.source,
            "verified_at": iso(self.verified_at) if self.verified_at is not None else None,
            "verify_ok": self.verify_ok,
            "ok": self.ok,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What verifying one backup found.

    Attributes:
        path: the ``.db`` verified.
        sidecar: its sidecar.
        checked_at: when the check ran (epoch seconds).
        bytes: the file's size, None if unreadable.
        sha256: the digest recomputed now.
        expected_sha256: the sidecar's digest.
        integrity: ``PRAGMA integrity_check``: ``ok`` or the first problem.
        row_counts: rows per table of the backup.
        schema_version: the backup's ``user_version``.
        errors: every reason it does not verify, one line each.
        recorded: whether the result was written into the sidecar.
        note: why it was not recorded, or None.
    """

    path: Path
    sidecar: Path
    checked_at: float
    bytes: int | None
    sha256: str | None
    expected_sha256: str | None
    integrity: str
    row_counts: Mapping[str, int] = field(default_factory=dict)
    schema_version: int | None = None
    errors: tuple[str, ...] = ()
    recorded: bool = False
    note: str | None = None

    @property
    def sha_ok(self) -> bool:
        """The recomputed digest equals the sidecar's."""
        return self.sha256 is not None and self.sha256 == self.expected_sha256

    @property
    def ok(self) -> bool:
        """The digest matches and ``integrity_check`` says ``ok``."""
        return not self.errors and self.sha_ok and self.integrity == "ok"

    @property
    def message(self) -> str:
        """One line: what verified, or the first reason it did not."""
        if self.ok:
            rows = sum(self.row_counts.values())
            return (
                f"{self.path.name} verifies: sha256 matches, integrity ok, "
                f"{len(self.row_counts)} tables, {rows} rows"
            )
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        first = self.errors[0] if self.errors else f"integrity: {self.integrity}"
        return f"{self.path.name} does not verify: {first}{more}"

    def to_json(self) -> dict[str, Any]:
        """The ``backup --verify --json`` object."""
        return {
            "file": self.path.name,
            "path": str(self.path),
            "ok": self.ok,
            "checked_at": iso(self.checked_at),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "expected_sha256": self.expected_sha256,
            "sha_ok": self.sha_ok,
            "integrity": self.integrity,
            "schema_version": self.schema_version,
            "row_counts": dict(self.row_counts),
            "errors": list(self.errors),
            "recorded": self.recorded,
            "note": self.note,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class _Made:
    path: Path
    sidecar: Path
    created_at: float
    bytes: int
    sha256: str
    duration_ms: int
    pages: int
    cleaned: tuple[str, ...] = ()

    def detail(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "path": str(self.path),
            "sidecar": str(self.sidecar),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "integrity": "ok",
            "duration_ms": self.duration_ms,
            "pages": self.pages,
            "cleaned": list(self.cleaned),
        }


# ------------------------------------------------------------ small helpers


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(_STAMP)


def _stamp_ts(stamp: str) -> float | None:
    try:
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _sidecar_of(path: Path) -> Path:
    return path.with_suffix(".json")


def backup_kind(path: Path) -> str:
    """``backup`` for ``oos-<stamp>.db``, ``pre-restore`` or ``other``."""
    m = _FINAL.match(path.name)
    if m is None:
        return "other"
    return "backup" if m["prefix"] == BACKUP_PREFIX else "pre-restore"


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make renames and unlinks in ``directory`` durable.

    Filesystems that cannot fsync a directory (EINVAL) order metadata
    themselves; any other error is real and raised.
    """
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _unlink_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            p.unlink()


def _companions(path: Path) -> tuple[Path, ...]:
    return tuple(Path(f"{path}{suffix}") for suffix in ("-journal", "-wal", "-shm"))


def _os_line(exc: OSError, where: Path, doing: str) -> str:
    """One line for an OS error while ``doing`` something (``"writing the sidecar"``)."""
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full {doing} in {where}"
    if code == errno.EFBIG:
        return f"file size limit reached {doing} in {where}"
    if code == errno.EROFS:
        return f"{where} is on a read-only filesystem"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied {doing} in {where}"
    if code in (errno.ENOTDIR, errno.EEXIST) and not where.is_dir():
        return f"{where} is not a directory"
    return f"error {doing} in {where}: {exc.strerror or exc}"


def _sqlite_dest_line(exc: sqlite3.Error, where: Path) -> str:
    kind = error_kind(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if kind == "full":
        return f"disk full writing the backup in {where}"
    if kind == "ioerror":
        return f"I/O error writing the backup in {where}: {text}"
    if kind in ("readonly", "cantopen", "permission"):
        return f"cannot write the backup in {where}: {text}"
    return text


def _sha256(path: Path) -> tuple[str, int]:
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        size = fh.tell()
    return digest.hexdigest(), size


def _write_json_atomically(path: Path, obj: Mapping[str, Any]) -> None:
    """Temporary name, fsync, rename over ``path``, fsync the directory."""
    tmp = path.with_name(f"{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        with open(tmp, "xb") as fh:
            fh.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_dir(path.parent)


def _read_sidecar(path: Path) -> dict[str, Any]:
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _integrity_of(path: Path) -> str:
    """``ok``, or the first problem (with how many more) of an immutable file."""
    try:
        conn = sqlite3.connect(f"{ro_uri(path)}&immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return describe_error(exc)
    try:
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({_INTEGRITY_LIMIT})")]
    except sqlite3.Error as exc:
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    finally:
        conn.close()
    if rows == ["ok"]:
        return "ok"
    # One row may hold several problems, one per line, under a "*** in database" heading.
    problems = [
        line.strip()
        for row in rows
        for line in row.splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if not problems:
        return "integrity_check returned nothing"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def _record_store_integrity(settings: Settings, ok: bool, detail: str, at: float) -> None:
    """Tell the integrity recorder (``oos_tui.integrity``) what the copy's check found.

    The copy is a consistent snapshot of the live store, so its
    ``integrity_check`` is a check of the store: the alert engine reads it.
    Recording is best effort: the backup's outcome does not depend on it.
    """
    try:
        from oos_tui.integrity import record_integrity
    except ImportError:
        return
    with contextlib.suppress(OSError, ValueError):
        record_integrity(settings, ok, detail, "backup", at)


# ------------------------------------------------------------------ locking


@contextlib.contextmanager
def _directory_lock(directory: Path, timeout: float) -> Iterator[None]:
    """Hold ``BACKUPS/.backup.lock`` exclusively: one backup or restore at a time.

    ``flock`` is released by the kernel when a holder dies, so a crash never
    leaves the directory locked.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackupError(_os_line(exc, directory, "creating files"), "prepare") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BackupError(
                        f"another backup or restore is running in {directory}: try again later",
                        "lock",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _sweep(directory: Path) -> list[str]:
    """Delete temporary files of crashed runs and sidecars without their ``.db``.

    Only called with the directory lock held, when no other run can own them.
    """
    removed: list[str] = []
    for entry in os.scandir(directory):
        name = entry.name
        stale = bool(_TEMP.match(name)) or (
            bool(_ORPHAN_SIDECAR.match(name))
            and not (directory / (name.removesuffix(".json") + ".db")).exists()
        )
        if stale and entry.is_file(follow_symlinks=False):
            _unlink_quietly(Path(entry.path))
            removed.append(name)
    if removed:
        _fsync_dir(directory)
    return sorted(removed)


# ------------------------------------------------------------------- taking


@dataclass
class _CopyJob:
    """The blocking part of one backup, run in a worker thread."""

    store: Path
    directory: Path
    prefix: str
    operator: str
    clock_now: Callable[[], float]
    pages_per_step: int
    step_pause: float
    busy_timeout: float
    report: Callable[[int, int], None] | None
    cancel: threading.Event
    pages: int = 0
    integrity_checked: str | None = None
    _busy_since: float | None = None

    def run(self) -> _Made:
        started = self.clock_now()
        t0 = time.monotonic()
        try:
            cleaned = _sweep(self.directory)
        except OSError as exc:
            raise BackupError(_os_line(exc, self.directory, "cleaning up"), "prepare") from exc
        name = self._free_name(started)
        final = self.directory / f"{name}.db"
        sidecar = _sidecar_of(final)
        tmp = self.directory / f"{name}.db.tmp-{secrets.token_hex(4)}"
        sidecar_placed = placed = False
        try:
            self._copy(tmp)
            self._check(tmp)
            try:
                sha, size = _sha256(tmp)
            except OSError as exc:
                raise BackupError(
                    _os_line(exc, self.directory, "reading the copy"), "hash"
                ) from exc
            duration_ms = int((time.monotonic() - t0) * 1000)
            record = {
                "created_at": iso(started),
                "source": str(self.store),
                "bytes": size,
                "sha256": sha,
                "integrity": "ok",
                "duration_ms": duration_ms,
                "operator": self.operator,
                "verified_at": iso(self.clock_now()),
                "verify_ok": True,
            }
            try:
                _write_json_atomically(sidecar, record)
                sidecar_placed = True
                os.rename(tmp, final)
                placed = True
                _fsync_dir(self.directory)
            except OSError as exc:
                raise BackupError(
                    _os_line(exc, self.directory, "writing the sidecar"), "place"
                ) from exc
        except BaseException:
            # The .db goes before its sidecar, as in retention: never a .db without one.
            _unlink_quietly(*((final,) if placed else ()), tmp, *_companions(tmp))
            if sidecar_placed:
                _unlink_quietly(sidecar)
                with contextlib.suppress(OSError):
                    _fsync_dir(self.directory)
            raise
        return _Made(final, sidecar, started, size, sha, duration_ms, self.pages, tuple(cleaned))

    def _free_name(self, started: float) -> str:
        ts = int(started)
        while True:
            name = f"{self.prefix}-{_stamp(ts)}"
            if not any((self.directory / f"{name}{ext}").exists() for ext in (".db", ".json")):
                return name
            ts += 1

    def _source(self) -> sqlite3.Connection:
        """A read-only connection holding one snapshot of the store."""
        try:
            src = open_ro_sync(self.store, busy_timeout_ms=int(self.busy_timeout * 1000))
        except sqlite3.Error as exc:
            raise BackupError(describe_error(exc), "copy") from exc
        try:
            src.execute("BEGIN")
            (version,) = src.execute("PRAGMA user_version").fetchone()
            src.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        except sqlite3.Error as exc:
            src.close()
            raise BackupError(describe_error(exc), "copy") from exc
        if int(version) > SCHEMA_VERSION:
            src.close()
            raise _Refusal(
                f"store schema v{version} is newer than this console (v{SCHEMA_VERSION}): "
                "backup refused, nothing written"
            )
        return src

    def _progress(self, status: int, remaining: int, total: int) -> None:
        if self.cancel.is_set():
            raise BackupError("cancelled", "copy")
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            self._busy_since = self._busy_since or time.monotonic()
            if time.monotonic() - self._busy_since > self.busy_timeout:
                raise BackupError("store busy (locked by another process)", "copy")
        else:
            self._busy_since = None
        self.pages = total
        if self.report is not None:
            self.report(remaining, total)
        if self.step_pause > 0 and remaining > 0:
            time.sleep(self.step_pause)

    def _copy(self, tmp: Path) -> None:
        src = self._source()
        try:
            try:
                dst = sqlite3.connect(tmp, isolation_level=None)
            except sqlite3.Error as exc:
                raise BackupError(_sqlite_dest_line(exc, self.directory), "copy") from exc
            try:
                dst.execute("PRAGMA synchronous=OFF")
                try:
                    src.backup(dst, pages=max(1, self.pages_per_step), progress=self._progress)
                except sqlite3.Error as exc:
                    kind = error_kind(exc)
                    line = (
                        describe_error(exc)
                        if kind in ("busy", "corrupt")
                        else _sqlite_dest_line(exc, self.directory)
                    )
                    raise BackupError(line, "copy") from exc
                src.rollback()
                try:
                    dst.execute("PRAGMA journal_mode=DELETE").fetchone()
                except sqlite3.Error as exc:
                    raise BackupError(_sqlite_dest_line(exc, self.directory), "copy") from exc
            finally:
                dst.close()
        finally:
            src.close()
        try:
            _fsync_file(tmp)
        except OSError as exc:
            raise BackupError(_os_line(exc, self.directory, "writing the backup"), "copy") from exc

    def _check(self, tmp: Path) -> None:
        result = _integrity_of(tmp)
        self.integrity_checked = result
        if result != "ok":
            raise BackupError(
                f"integrity check failed on the copy (the store itself is damaged): {result}",
                "check",
                integrity=result,
            )


def _retain(directory: Path, keep: int) -> list[str]:
    """Delete ``oos-*`` backups beyond the newest ``keep``: each ``.db``, then its sidecar."""
    finals = sorted(
        (p for p in directory.glob(f"{BACKUP_PREFIX}-*.db") if _FINAL.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )
    deleted: list[str] = []
    for old in finals[max(1, keep) :]:
        old.unlink()
        _unlink_quietly(_sidecar_of(old))
        deleted.append(old.name)
    if deleted:
        _fsync_dir(directory)
    return deleted


async def _in_thread(fn: Callable[[], Any], cancel: threading.Event) -> Any:
    """Run ``fn`` in a worker thread; on cancellation, stop it and wait for its cleanup."""
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(None, fn)
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        cancel.set()
        with contextlib.suppress(Exception):
            await fut
        raise


async def _audit(
    store: Path,
    *,
    action: str = "backup",
    target: str,
    outcome: str,
    detail: Mapping[str, Any],
    operator: str,
    busy_timeout: float,
) -> tuple[int | None, str | None]:
    """Insert one audit row in its own short transaction: (row id, or why not)."""
    try:
        conn = await open_rw(store, busy_timeout_ms=int(busy_timeout * 1000))
    except (sqlite3.Error, OSError) as exc:
        return None, describe_error(exc)
    try:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            audit_id = await insert_audit(
                conn, action=action, target=target, detail=detail, outcome=outcome,
                operator=operator,
            )  # fmt: skip
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        return audit_id, None
    except sqlite3.Error as exc:
        return None, describe_error(exc)
    finally:
        await conn.close()


def _not_audited(why: str | None) -> str:
    return "" if why is None else f" (not audited: {why})"


async def take_backup(
    settings: Settings,
    *,
    progress: Callable[[int, int], None] | None = None,
    operator: str | None = None,
    pages_per_step: int = DEFAULT_PAGES_PER_STEP,
    step_pause: float = 0.0,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    clock: Clock | None = None,
) -> ActionResult:
    """Take a verified backup of the store while the producer keeps writing.

    The steps and why they come in this order are in the module docstring.
    Never raises for trouble with the store or the disk: the result's outcome
    says ``ok``, ``refused`` (read-only mode, no store, newer schema: nothing
    written, not audited) or ``error`` (nothing left that looks like a backup;
    audited when the store takes the row).

    Args:
        settings: the workspace (store, backups directory, retention).
        progress: called as ``progress(remaining_pages, total_pages)`` after
            each step, on the event loop's thread.
        operator: who acts (default: the OS user, with the SSH client).
        pages_per_step: pages copied per step.
        step_pause: seconds to sleep between steps, to leave the disk to the
            producer on a busy host (the WAL grows meanwhile).
        busy_timeout: how long to wait for a store locked by another process
            to start the copy, and for another backup to finish (the audit row
            waits at least ``AUDIT_TIMEOUT``).
        clock: the wall clock for the name and the sidecar's times.
    """
    who = operator or operator_identity()
    target = "store"
    if settings.read_only:
        return ActionResult("backup", target, "refused", "read-only mode: no backup taken")
    store = settings.store_path
    if not store.is_file():
        return ActionResult("backup", target, "refused", f"no store at {store}: nothing to back up")
    loop = asyncio.get_running_loop()
    report = None
    if progress is not None:
        cb = progress

        def report(remaining: int, total: int) -> None:
            loop.call_soon_threadsafe(cb, remaining, total)

    cancel = threading.Event()
    now = clock.now if clock is not None else time.time
    job = _CopyJob(
        store, settings.backups_dir, BACKUP_PREFIX, who, now, pages_per_step, step_pause,
        busy_timeout, report, cancel,
    )  # fmt: skip
    keep = settings.backup.retention

    def run() -> tuple[_Made, list[str], str | None]:
        with _directory_lock(settings.backups_dir, busy_timeout):
            try:
                made = job.run()
            finally:
                checked = job.integrity_checked
                if checked is not None:
                    detail = "ok" if checked == "ok" else f"backup copy: {checked}"
                    _record_store_integrity(settings, checked == "ok", detail, now())
            try:
                return made, _retain(settings.backups_dir, keep), None
            except OSError as exc:
                return made, [], f"retention failed: {exc.strerror or exc}"

    try:
        made, deleted, retention_error = await _in_thread(run, cancel)
    except _Refusal as exc:
        return ActionResult("backup", target, "refused", str(exc))
    except asyncio.CancelledError:
        await _audit(
            store, target=target, outcome="error", operator=who, busy_timeout=1.0,
            detail={"error": "cancelled", "stage": "copy"},
        )  # fmt: skip
        raise
    except Exception as exc:
        stage = exc.stage if isinstance(exc, BackupError) else "unexpected"
        line = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
        detail = {"error": line, "stage": stage, "integrity": job.integrity_checked}
        audit_id, why = await _audit(
            store, target=target, outcome="error", detail=detail, operator=who,
            busy_timeout=max(busy_timeout, AUDIT_TIMEOUT),
        )  # fmt: skip
        message = f"backup failed: {line}; no backup kept{_not_audited(why)}"
        return ActionResult("backup", target, "error", message, detail, audit_id)
    detail = made.detail()
    detail["retention"] = {"keep": keep, "deleted": deleted}
    if retention_error:
        detail["retention"]["error"] = retention_error
    mb = made.bytes / 1e6
    message = (
        f"backup {made.path.name}: {mb:.1f} MB, integrity ok, sha256 {made.sha256[:12]}, "
        f"{made.duration_ms} ms"
    )
    if deleted:
        message += f"; retention removed {len(deleted)}"
    if retention_error:
        message += f"; {retention_error}"
    detail["result"] = message
    audit_id, why = await _audit(
        store, target=target, outcome="ok", detail=detail, operator=who,
        busy_timeout=max(busy_timeout, AUDIT_TIMEOUT),
    )  # fmt: skip
    return ActionResult("backup", target, "ok", message + _not_audited(why), detail, audit_id)


# ------------------------------------------------------------------ listing


def _info(path: Path) -> BackupInfo:
    sidecar = _sidecar_of(path)
    st = path.stat()
    m = _FINAL.match(path.name)
    named_at = _stamp_ts(m["stamp"]) if m else None
    fallback = BackupInfo(
        path, sidecar, backup_kind(path), named_at or st.st_mtime, st.st_size, None, "unknown",
        None, None, None, None, None, "sidecar missing",
    )  # fmt: skip
    try:
        data = _read_sidecar(sidecar)
    except FileNotFoundError:
        return fallback
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        return _replace_problem(fallback, f"sidecar unreadable: {reason}")
    created = parse_ts(data["created_at"]) if isinstance(data.get("created_at"), str) else None
    size, sha = data.get("bytes"), data.get("sha256")
    integrity = data.get("integrity")
    verified = data.get("verified_at")
    verify_ok = data.get("verify_ok")
    duration = data.get("duration_ms")
    info = BackupInfo(
        path=path,
        sidecar=sidecar,
        kind=backup_kind(path),
        created_at=created if created is not None else fallback.created_at,
        bytes=size if isinstance(size, int) else st.st_size,
        sha256=sha if isinstance(sha, str) else None,
        integrity=integrity if isinstance(integrity, str) else "unknown",
        duration_ms=duration if isinstance(duration, int) else None,
        operator=data.get("operator") if isinstance(data.get("operator"), str) else None,
        source=data.get("source") if isinstance(data.get("source"), str) else None,
        verified_at=parse_ts(verified) if isinstance(verified, str) else None,
        verify_ok=verify_ok if isinstance(verify_ok, bool) else None,
    )
    missing = [k for k in SIDECAR_FIELDS if k not in data]
    problem = None
    if missing:
        problem = f"sidecar incomplete: no {', '.join(missing)}"
    elif created is None or info.sha256 is None or not isinstance(size, int):
        problem = "sidecar invalid"
    elif size != st.st_size:
        problem = f"size differs from the sidecar ({st.st_size} bytes, recorded {size})"
    elif verify_ok is False:
        why = data.get("verify_error")
        problem = f"last verify failed: {why}" if isinstance(why, str) else "last verify failed"
    return _replace_problem(info, problem)


def _replace_problem(info: BackupInfo, problem: str | None) -> BackupInfo:
    return replace(info, problem=problem)


def list_backups(settings: Settings) -> list[BackupInfo]:
    """Every ``.db`` in the backups directory, newest first, from sidecars and ``stat``.

    Temporary files (a backup in progress or a crashed one) are not listed; a
    ``.db`` without a valid sidecar is listed with its problem, never trusted.
    A missing directory lists nothing.
    """
    directory = settings.backups_dir
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[BackupInfo] = []
    for entry in entries:
        if not entry.name.endswith(".db") or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(FileNotFoundError):
            found.append(_info(Path(entry.path)))
    found.sort(key=lambda b: (b.created_at, b.path.name), reverse=True)
    return found


def newest_verified_at(settings: Settings) -> float | None:
    """When the newest backup that verified was taken (epoch seconds), or None.

    This is the age the stale-backup alert measures: the creation time of the
    newest trustworthy backup, not the time of its last verification, so
    re-verifying an old backup never hides that no new one was taken.
    """
    times = [b.created_at for b in list_backups(settings) if b.ok and b.verified_at is not None]
    return max(times, default=None)


def resolve_backup(settings: Settings, name: str | os.PathLike[str]) -> Path:
    """A backup named by path, or by file name inside the backups directory."""
    path = Path(name).expanduser()
    if path.exists() or path.is_absolute() or len(path.parts) > 1:
        return path
    inside = settings.backups_dir / path
    return inside if inside.exists() else path


# ---------------------------------------------------------------- verifying


def verify_backup(
    path: str | os.PathLike[str], *, record: bool = True, clock: Clock | None = None
) -> VerifyReport:
    """Recompute the sha256 against the sidecar, rerun ``integrity_check``, count rows.

    Blocking (it reads the whole file twice): run it in a worker thread.
    The result is recorded in the sidecar (``verified_at``, ``verify_ok``,
    written atomically) unless ``record`` is false: read-only mode writes
    nothing.

    The live store's integrity record is not fed from here: a damaged old
    backup says nothing about the store, and re-verifying one must not make
    the store look freshly checked.
    """
    path = Path(path)
    sidecar = _sidecar_of(path)
    checked_at = clock.now() if clock is not None else time.time()
    errors: list[str] = []
    expected: str | None = None
    data: dict[str, Any] | None = None
    try:
        data = _read_sidecar(sidecar)
        expected = data.get("sha256") if isinstance(data.get("sha256"), str) else None
        if expected is None:
            errors.append("sidecar has no sha256")
    except FileNotFoundError:
        errors.append(f"sidecar missing ({sidecar.name}): the sha256 cannot be checked")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        errors.append(f"sidecar unreadable: {reason}")
    try:
        sha, size = _sha256(path)
    except OSError as exc:
        return VerifyReport(
            path, sidecar, checked_at, None, None, expected,
            f"cannot read {path}: {exc.strerror or exc}",
            errors=(f"cannot read {path}: {exc.strerror or exc}",),
        )  # fmt: skip
    if expected is not None and sha != expected:
        errors.append(f"sha256 mismatch: file {sha[:16]}…, sidecar {expected[:16]}…")
    recorded_size = data.get("bytes") if data else None
    if isinstance(recorded_size, int) and recorded_size != size:
        errors.append(f"size differs: file {size} bytes, sidecar {recorded_size}")
    integrity = _integrity_of(path)
    if integrity != "ok":
        errors.append(f"integrity check failed: {integrity}")
    counts, version = _row_counts(path, errors)
    report = VerifyReport(
        path, sidecar, checked_at, size, sha, expected, integrity, counts, version,
        tuple(errors),
    )  # fmt: skip
    if not record:
        return _with(report, note="not recorded (read-only mode)")
    if data is None:
        return _with(report, note="not recorded: no sidecar")
    updated = dict(data)
    if report.ok:
        updated.update(verified_at=iso(checked_at), verify_ok=True)
        updated.pop("verify_error", None)
        updated.pop("verify_failed_at", None)
    else:
        updated.update(
            verify_ok=False, verify_error=report.message, verify_failed_at=iso(checked_at)
        )
    try:
        _write_json_atomically(sidecar, updated)
    except OSError as exc:
        return _with(report, note=f"not recorded: {exc.strerror or exc}")
    return _with(report, recorded=True)


def _with(report: VerifyReport, **changes: Any) -> VerifyReport:
    return replace(report, **changes)


def _row_counts(path: Path, errors: list[str]) -> tuple[dict[str, int], int | None]:
    counts: dict[str, int] = {}
    try:
        conn = sqlite3.connect(f"{ro_uri(path)}&immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        errors.append(f"cannot open: {describe_error(exc)}")
        return counts, None
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                counts[table] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            except sqlite3.Error as exc:
                errors.append(f"cannot count {table}: {describe_error(exc)}")
        return counts, int(version)
    except sqlite3.Error as exc:
        errors.append(f"cannot read the schema: {describe_error(exc)}")
        return counts, None
    finally:
        conn.close()


# ---------------------------------------------------------------- restoring


def producer_processes(settings: Settings) -> list[str]:
    """The running processes whose command line matches ``[processes] patterns``.

    Each as ``pid N: command line``, redacted and escaped like everything
    the console shows (a command line may carry a token), cut to 100
    characters. This process is never counted.
    """
    import psutil

    from oos_tui.sanitize import Sanitizer

    patterns = []
    for text in settings.processes.patterns:
        with contextlib.suppress(re.error):
            patterns.append(re.compile(text))
    clean = Sanitizer(settings.redact).clean
    me = os.getpid()
    found: list[str] = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            pid = proc.info["pid"]
            cmdline = " ".join(proc.info.get("cmdline") or [])
        except (psutil.Error, KeyError):
            continue
        if pid == me or not cmdline:
            continue
        if any(p.search(cmdline) for p in patterns):
            found.append(f"pid {pid}: {clean(cmdline)[:100]}")
    return found


def _store_state(store: Path) -> tuple[int, int, bytes]:
    """(size, mtime_ns, header bytes 24..28: the change counter) of the store file."""
    st = store.stat()
    with open(store, "rb") as fh:
        header = fh.read(100)
    return st.st_size, st.st_mtime_ns, header[24:28]


def _is_busy(exc: sqlite3.Error) -> bool:
    return error_kind(exc) == "busy"


_IN_USE = (
    "the store is in use (a producer holds it, or a console has it open): "
    "stop the pipeline and close every console, then retry; nothing changed"
)


def _quiesce(store: Path, timeout: float) -> str:
    """Prove nothing else has the store open, and fold its WAL into the main file.

    Leaving WAL mode needs exclusive access: it fails at once while any
    other connection (the producer, a console's reader) has the store open.
    Success also checkpoints the WAL and deletes ``-wal`` and ``-shm``, so the
    file is then the whole store. Returns the journal mode it had.

    Raises:
        _Refusal: the store stayed in use for ``timeout`` seconds.
        BackupError: SQLite cannot read it (stage ``corrupt`` when damaged).
    """
    deadline = time.monotonic() + timeout
    try:
        conn = sqlite3.connect(rw_uri(store), uri=True, isolation_level=None, timeout=timeout)
    except sqlite3.Error as exc:
        raise BackupError(describe_error(exc), "corrupt" if _corrupt(exc) else "restore") from exc
    try:
        try:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            while mode == "wal":
                try:
                    if str(conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]) == "delete":
                        break
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
                if time.monotonic() >= deadline:
                    raise _Refusal(_IN_USE)
                time.sleep(0.05)
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise _Refusal(_IN_USE) from exc
            raise BackupError(
                describe_error(exc), "corrupt" if _corrupt(exc) else "restore"
            ) from exc
        return mode
    finally:
        conn.close()


def _corrupt(exc: BaseException) -> bool:
    return error_kind(exc) == "corrupt"


def _back_to_wal(store: Path) -> None:
    with contextlib.suppress(sqlite3.Error, OSError):
        conn = sqlite3.connect(rw_uri(store), uri=True, isolation_level=None, timeout=2)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
        finally:
            conn.close()


def _set_aside(store: Path, directory: Path, stamp: str) -> Path:
    """Copy the store's files as they are into ``BACKUPS/pre-restore-<stamp>.raw/``."""
    target = directory / f"{PRE_RESTORE_PREFIX}-{stamp}.raw"
    n = 1
    while target.exists():
        n += 1
        target = directory / f"{PRE_RESTORE_PREFIX}-{stamp}-{n}.raw"
    target.mkdir()
    for f in (*store_files(store), Path(f"{store}-journal")):
        if f.is_file():
            shutil.copyfile(f, target / f.name)
            _fsync_file(target / f.name)
    _fsync_dir(target)
    _fsync_dir(directory)
    return target


def _copy_checked(src: Path, dst: Path, expected_sha: str) -> None:
    """Copy ``src`` to a new ``dst`` while hashing it; fsync; the hash must still match."""
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    if digest.hexdigest() != expected_sha:
        raise BackupError("the backup changed after it was verified: nothing changed", "restore")


@contextlib.contextmanager
def _exclusive(store: Path, timeout: float, expected: tuple[int, int, bytes]) -> Iterator[None]:
    """Hold the store's lock exclusively, and check nobody wrote since it was quiesced.

    In ``locking_mode=EXCLUSIVE`` the lock outlives ``COMMIT``: any process
    that opens the store now waits until this connection closes, which is
    after the new file has been renamed over the old one.
    """
    try:
        conn = sqlite3.connect(rw_uri(store), uri=True, isolation_level=None, timeout=timeout)
    except sqlite3.Error as exc:
        raise BackupError(describe_error(exc), "restore") from exc
    try:
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise _Refusal(_IN_USE) from exc
            raise BackupError(describe_error(exc), "restore") from exc
        if mode == "wal" or _store_state(store) != expected:
            raise _Refusal(
                "the store changed during the restore (did a producer start?): "
                "stop it and retry; nothing changed"
            )
        yield
    finally:
        conn.close()


@dataclass
class _RestoreJob:
    """The blocking part of a restore, run in a worker thread."""

    settings: Settings
    backup: Path
    sha256: str
    operator: str
    clock_now: Callable[[], float]
    busy_timeout: float
    cancel: threading.Event
    notes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    touched: bool = False
    quiet: tuple[int, int, bytes] | None = None

    def run(self) -> None:
        directory = self.settings.backups_dir
        with _directory_lock(directory, self.busy_timeout):
            self._run(directory)

    def _run(self, directory: Path) -> None:
        store = self.settings.store_path
        stamp = _stamp(self.clock_now())
        store.parent.mkdir(parents=True, exist_ok=True)
        for leftover in store.parent.glob(f"{store.name}.restore-tmp*"):
            _unlink_quietly(leftover)
        present = store.is_file()
        corrupt: str | None = None
        if present:
            try:
                self.touched = _quiesce(store, self.busy_timeout) == "wal"
                self.quiet = _store_state(store)
            except BackupError as exc:
                if exc.stage != "corrupt":
                    raise
                corrupt = str(exc)
        try:
            if present and corrupt is None:
                self._pre_restore(store, directory, stamp)
            elif present or any(p.exists() for p in _companions(store)):
                raw = _set_aside(store, directory, stamp)
                self.detail["pre_restore_raw"] = str(raw)
                why = f" ({corrupt})" if corrupt else ""
                self.notes.append(f"the live store's files were set aside as-is in {raw}{why}")
            else:
                self.notes.append("there was no live store")
            if self.cancel.is_set():
                raise BackupError("cancelled: nothing changed", "restore")
            self._place(store)
        except BaseException:
            if self.touched:
                _back_to_wal(store)
            raise

    def _pre_restore(self, store: Path, directory: Path, stamp: str) -> None:
        job = _CopyJob(
            store, directory, PRE_RESTORE_PREFIX, self.operator, self.clock_now,
            DEFAULT_PAGES_PER_STEP, 0.0, self.busy_timeout, None, self.cancel,
        )  # fmt: skip
        try:
            made = job.run()
        except BackupError as exc:
            if exc.stage != "check" and _cause_kind(exc) != "corrupt":
                raise BackupError(
                    f"pre-restore backup failed: {exc}; nothing changed", "restore"
                ) from exc
            raw = _set_aside(store, directory, stamp)
            self.detail["pre_restore_raw"] = str(raw)
            self.notes.append(
                f"the live store is damaged ({exc}): its files were set aside as-is in {raw}"
            )
            return
        self.detail["pre_restore"] = made.detail()
        self.notes.append(f"the previous store was backed up as {made.path.name}")

    def _place(self, store: Path) -> None:
        """Copy, switch to WAL, fsync; take the lock; drop stale WAL files; rename; fsync."""
        tmp = store.parent / f"{store.name}.restore-tmp-{secrets.token_hex(4)}"
        try:
            try:
                _copy_checked(self.backup, tmp, self.sha256)
                conn = sqlite3.connect(tmp, isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode=WAL").fetchone()
                finally:
                    conn.close()
                _fsync_file(tmp)
            except OSError as exc:
                raise BackupError(
                    _os_line(exc, store.parent, "copying the backup") + "; nothing changed",
                    "restore",
                ) from exc
            except sqlite3.Error as exc:
                raise BackupError(
                    f"cannot prepare the restored store: {describe_error(exc)}; nothing changed",
                    "restore",
                ) from exc
            holder = (
                _exclusive(store, self.busy_timeout, self.quiet)
                if self.quiet is not None
                else contextlib.nullcontext()
            )
            with holder:
                for stale in _companions(store):
                    _unlink_quietly(stale)
                os.replace(tmp, store)
                self.touched = False
                try:
                    _fsync_dir(store.parent)
                except OSError as exc:
                    self.notes.append(
                        f"warning: {store.parent} could not be fsynced ({exc.strerror or exc}): "
                        "the rename may not survive a power loss"
                    )
        finally:
            _unlink_quietly(tmp, *_companions(tmp))


def _cause_kind(exc: BaseException) -> str:
    cause = exc.__cause__
    return error_kind(cause) if cause is not None else "error"


async def restore_backup(
    settings: Settings,
    path: str | os.PathLike[str],
    *,
    operator: str | None = None,
    process_check: Callable[[Settings], Sequence[str]] = producer_processes,
    busy_timeout: float = 2.0,
    clock: Clock | None = None,
) -> ActionResult:
    """Replace the store with a backup, deliberately and recoverably.

    Refuses (nothing changed) in read-only mode, unless the backup verifies
    (sha256 against its sidecar, ``integrity_check``, a schema this console
    knows), while any pipeline process runs (``process_check``), or while
    anything has the store open: leaving WAL mode needs exclusive access, so
    it proves that no producer or console is connected, and it folds the WAL
    into the main file. Then, in this order:

    1. The current store is backed up as ``pre-restore-<stamp>.db`` (a normal
       verified backup, outside retention); if it is damaged, its files are
       copied as they are into ``pre-restore-<stamp>.raw/`` instead.
    2. The backup is copied to ``<store>.restore-tmp-<hex>`` beside the store,
       hashed while copying (it must still match), switched to WAL mode and
       fsynced.
    3. The store's lock is taken exclusively and held (anyone opening it now
       waits), after checking nothing was written since step 0; stale
       ``-wal``/``-shm``/``-journal`` files are removed, so no old WAL can
       ever be replayed into the new file; the copy is renamed over the
       store; the directory is fsynced; the lock is released.
    4. The audit row goes into the restored store, which is the new truth.
       A refusal or a failure is audited in the live store, best effort.

    Args:
        settings: the workspace.
        path: the backup's ``.db`` file.
        operator: who acts.
        process_check: returns the running pipeline processes (injectable).
        busy_timeout: how long to wait for the store to become free.
        clock: the wall clock for the pre-restore backup's name.
    """
    who = operator or operator_identity()
    backup = Path(path)
    target = f"restore:{backup.name}"
    action = RESTORE_AUDIT_ACTION
    store = settings.store_path

    def result(
        outcome: str, message: str, detail: Mapping[str, Any], aid: int | None = None
    ) -> ActionResult:
        return ActionResult(action, target, outcome, message, detail, aid)

    async def audited(outcome: str, message: str, detail: dict[str, Any]) -> ActionResult:
        detail = {**detail, "result": message}
        aid: int | None = None
        why: str | None = "no live store"
        if store.is_file():
            aid, why = await _audit(
                store, action=action, target=target, outcome=outcome, detail=detail,
                operator=who, busy_timeout=1.0,
            )  # fmt: skip
        return result(outcome, message + _not_audited(why), detail, aid)

    if settings.read_only:
        return result("refused", "read-only mode: restore refused, nothing changed", {})
    detail: dict[str, Any] = {"backup": str(backup), "store": str(store)}
    if not backup.is_file():
        return result("refused", f"no backup at {backup}: nothing changed", detail)
    with contextlib.suppress(OSError):
        if store.is_file() and os.path.samefile(store, backup):
            return result("refused", "that file is the live store: nothing changed", detail)
    report = await asyncio.to_thread(verify_backup, backup, clock=clock)
    detail["verify"] = {"sha256": report.sha256, "integrity": report.integrity}
    if not report.ok:
        return await audited("refused", f"restore refused: {report.message}", detail)
    if report.schema_version is not None and report.schema_version > SCHEMA_VERSION:
        return await audited(
            "refused",
            f"restore refused: the backup's schema v{report.schema_version} is newer than "
            f"this console (v{SCHEMA_VERSION}); nothing changed",
            detail,
        )
    running = list(await asyncio.to_thread(process_check, settings))
    if running:
        more = f" and {len(running) - 1} more" if len(running) > 1 else ""
        detail["processes"] = running
        return await audited(
            "refused",
            f"restore refused: the pipeline is running ({running[0]}{more}): "
            "stop it first; nothing changed",
            detail,
        )
    cancel = threading.Event()
    job = _RestoreJob(
        settings, backup, str(report.sha256), who,
        clock.now if clock is not None else time.time, busy_timeout, cancel,
    )  # fmt: skip
    try:
        await _in_thread(job.run, cancel)
    except _Refusal as exc:
        return await audited("refused", f"restore refused: {exc}", {**detail, **job.detail})
    except Exception as exc:
        line = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
        if "nothing changed" not in line:
            line += "; the store was not replaced"
        return await audited(
            "error", f"restore failed: {line}", {**detail, **job.detail, "error": line}
        )
    detail.update(job.detail)
    detail["notes"] = job.notes
    message = f"restored {backup.name} over {store}; " + "; ".join(job.notes)
    detail["result"] = message
    aid, why = await _audit(
        store, action=action, target=target, outcome="ok", detail=detail, operator=who,
        busy_timeout=busy_timeout,
    )  # fmt: skip
    return result("ok", message + _not_audited(why), detail, aid)
