"""How much disk the workspace uses (store, WAL, logs, backups, job outputs) and how fast it grows.

Sizes come from ``os.scandir`` walks that never follow symlinks and stop
after a bounded number of entries, because ``out/`` may hold hundreds of
thousands of job files: a walk cut short says so (``out_complete``) and its
figure is a lower bound. A :class:`SizeTracker` keeps the last samples and
turns them into growth rates.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oos_tui.sources.discovery import rotations

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["FIELDS", "SizeTracker", "WorkspaceSizes", "measure_sizes"]

FIELDS: tuple[str, ...] = ("store", "wal", "logs", "backups", "out")
MAX_OUT_ENTRIES = 100_000
MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class WorkspaceSizes:
    """Bytes used by each part of the workspace, at one moment."""

    ts: float
    store: int
    wal: int
    logs: int
    backups: int
    out: int
    log_files: int = 0
    backup_files: int = 0
    out_files: int = 0
    out_complete: bool = True
    """False when the walk of ``out/`` hit its bound: ``out`` is then a lower bound."""
    cost: float = 0.0
    """Seconds the measurement took."""

    @property
    def total(self) -> int:
        """Everything counted here."""
        return self.store + self.wal + self.logs + self.backups + self.out

    def to_json(self, rates: dict[str, float | None] | None = None) -> dict[str, Any]:
        """The ``sizes`` object of ``oos-tui status --json`` (rates in bytes/s when known)."""
        rates = rates or {}
        parts = {
            name: {"bytes": getattr(self, name), "growth_bps": rates.get(name)} for name in FIELDS
        }
        parts["logs"]["files"] = self.log_files
        parts["backups"]["files"] = self.backup_files
        parts["out"]["files"] = self.out_files
        parts["out"]["complete"] = self.out_complete
        return {"total_bytes": self.total, **parts}


def _size(path: Path) -> tuple[int, tuple[int, int] | None]:
    try:
        st = path.stat()
    except OSError:
        return 0, None
    return st.st_size, (st.st_dev, st.st_ino)


def _files_in(directory: Path) -> list[tuple[int, tuple[int, int]]]:
    """Size and identity of each regular file directly in ``directory``."""
    out: list[tuple[int, tuple[int, int]]] = []
    try:
        it = os.scandir(directory)
    except OSError:
        return out
    with it:
        for entry in it:
            try:
                if entry.is_file():
                    st = entry.stat()
                    out.append((st.st_size, (st.st_dev, st.st_ino)))
            except OSError:
                continue
    return out


def _walk(root: Path, max_entries: int, max_depth: int) -> tuple[int, int, bool]:
    """Total size and count of regular files under ``root``, and whether the walk finished."""
    total = files = entries = 0
    stack: list[tuple[str, int]] = [(os.fspath(root), 0)]
    while stack:
        path, depth = stack.pop()
        try:
            it = os.scandir(path)
        except OSError:
            continue
        with it:
            for entry in it:
                entries += 1
                if entries > max_entries:
                    return total, files, False
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth < max_depth:
                            stack.append((entry.path, depth + 1))
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                        files += 1
                except OSError:
                    continue
    return total, files, True


def measure_sizes(
    settings: Settings,
    now: float | None = None,
    *,
    max_out_entries: int = MAX_OUT_ENTRIES,
    max_depth: int = MAX_DEPTH,
) -> WorkspaceSizes:
    """Measure the workspace once (blocking: run it in a thread worker).

    ``logs`` is ``oos.log`` and ``ai_events.log`` with their rotations plus
    every file directly in the log directory; job logs count under ``out``.
    A file reached twice (a log directory that is the workspace) counts once.
    """
    started = time.perf_counter()
    store_path = settings.store_path
    store, _ = _size(store_path)
    wal, _ = _size(Path(f"{store_path}-wal"))
    seen: set[tuple[int, int]] = set()
    logs = log_files = 0
    candidates: list[tuple[int, tuple[int, int] | None]] = []
    for live in (settings.oos_log, settings.ai_events_log):
        candidates.append(_size(live))
        candidates.extend(_size(p) for p in rotations(live))
    candidates.extend(_files_in(settings.logs_dir))
    for size, ident in candidates:
        if ident is None or ident in seen:
            continue
        seen.add(ident)
        logs += size
        log_files += 1
    backup_list = _files_in(settings.backups_dir)
    out, out_files, complete = _walk(settings.out_dir, max_out_entries, max_depth)
    return WorkspaceSizes(
        ts=time.time() if now is None else now,
        store=store,
        wal=wal,
        logs=logs,
        backups=sum(size for size, _ in backup_list),
        out=out,
        log_files=log_files,
        backup_files=len(backup_list),
        out_files=out_files,
        out_complete=complete,
        cost=time.perf_counter() - started,
    )


class SizeTracker:
    """The last samples of :class:`WorkspaceSizes`, and growth rates from them."""

    def __init__(self, maxlen: int = 120) -> None:
        self._samples: deque[WorkspaceSizes] = deque(maxlen=maxlen)

    def add(self, sizes: WorkspaceSizes) -> None:
        """Append a sample; one not newer than the last is ignored."""
        if self._samples and sizes.ts <= self._samples[-1].ts:
            return
        self._samples.append(sizes)

    @property
    def latest(self) -> WorkspaceSizes | None:
        """The newest sample."""
        return self._samples[-1] if self._samples else None

    def history(self) -> tuple[WorkspaceSizes, ...]:
        """An immutable copy, oldest first."""
        return tuple(self._samples)

    def rate(self, name: str, samples: int = 10) -> float | None:
        """Bytes per second of ``name`` over the last ``samples`` samples.

        Negative when it shrank (a rotation, a VACUUM, a retention pass);
        None with fewer than two samples.

        Raises:
            ValueError: ``name`` is not one of :data:`FIELDS`.
        """
        if name not in FIELDS:
            raise ValueError(f"unknown size {name!r}; known: {', '.join(FIELDS)}")
        if len(self._samples) < 2:
            return None
        window = list(self._samples)[-max(2, samples) :]
        first, last = window[0], window[-1]
        dt = last.ts - first.ts
        if dt <= 0:
            return None
        return (getattr(last, name) - getattr(first, name)) / dt

    def rates(self, samples: int = 10) -> dict[str, float | None]:
        """:meth:`rate` of every field."""
        return {name: self.rate(name, samples) for name in FIELDS}
