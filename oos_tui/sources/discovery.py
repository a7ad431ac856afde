"""Finds the workspace's log files and ties each rotated file to the live file it came from.

Rotated names accepted (CONTRACT §1), for a live file ``NAME`` = ``STEM`` + ``SUFFIX``
(``oos.log`` = ``oos`` + ``.log``):

- ``NAME.<n>``: ``n`` of 1 to 6 digits; higher is older (``oos.log.1``, ``oos.log.2``).
- ``NAME.<ts>``, ``NAME.<ts>.log``, ``STEM.<ts>SUFFIX``: a timestamp; later is newer
  (``oos.log.20250929T020019Z``, ``oos.log.2025-09-29.log``, ``worker.2025-09-29T02-00-19.log``).

A timestamp ``<ts>`` starts with a digit, holds only digits and ``- T _ : Z``, and at least
8 digits (so ``worker.1.log`` is not mistaken for one). Timestamps are compared by their
digits alone, left-aligned (``20250929`` sorts as ``20250929000000``), which orders any
year-first shape; two rotations with the same digits, and numbered against stamped
rotations of one file, are ordered by modification time. Compressed rotations
(``.gz``) are not text and are never listed.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from oos_tui.config import Settings

__all__ = ["SourceFile", "discover", "rotation_key", "rotations"]

_TS = r"(?P<ts>[0-9][0-9TZ:_\-]*)"
_MIN_TS_DIGITS = 8
_STAMP_WIDTH = 32

# Tried in this order; the first reading whose live name fits wins.
_NUMBERED = re.compile(r"(?P<live>.+)\.(?P<n>[0-9]{1,6})")
_DOT_STAMP = re.compile(rf"(?P<live>.+)\.{_TS}")
_NAME_STAMP_LOG = re.compile(rf"(?P<live>.+)\.{_TS}\.log")
_STEM_STAMP_SUFFIX = re.compile(rf"(?P<stem>.+)\.{_TS}(?P<suffix>\.[^.]+)")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One log file to read, and the live file whose history it is part of."""

    path: Path
    format: str
    group: str
    rotation_rank: int
    live: bool


@dataclass(frozen=True, slots=True)
class _Rotation:
    live: str
    index: int | None
    stamp: str | None


@dataclass(frozen=True, slots=True)
class _Entry:
    path: Path
    mtime_ns: int
    ident: tuple[int, int]


def _stamp(ts: str) -> str | None:
    digits = "".join(ch for ch in ts if ch.isdigit())
    if len(digits) < _MIN_TS_DIGITS:
        return None
    return digits[:_STAMP_WIDTH].ljust(_STAMP_WIDTH, "0")


def _readings(name: str) -> list[_Rotation]:
    """Every way ``name`` can be read as a rotated file, most specific first."""
    out: list[_Rotation] = []
    m = _NUMBERED.fullmatch(name)
    if m:
        out.append(_Rotation(m["live"], int(m["n"]), None))
    for pattern in (_DOT_STAMP, _NAME_STAMP_LOG):
        m = pattern.fullmatch(name)
        if m and (stamp := _stamp(m["ts"])) is not None:
            out.append(_Rotation(m["live"], None, stamp))
    m = _STEM_STAMP_SUFFIX.fullmatch(name)
    if m and (stamp := _stamp(m["ts"])) is not None:
        out.append(_Rotation(m["stem"] + m["suffix"], None, stamp))
    return out


def rotation_key(live_name: str, name: str) -> tuple[int | None, str | None] | None:
    """How old ``name`` is as a rotation of ``live_name``, or None if it is not one.

    Returns:
        ``(n, None)`` for ``NAME.<n>``, ``(None, digits)`` for a timestamped name.
        Exposed so that callers and tests agree with :func:`rotations` on what a
        rotated name looks like.
    """
    for reading in _readings(name):
        if reading.live == live_name:
            return reading.index, reading.stamp
    return None


def _file_entry(path: Path) -> _Entry | None:
    """``path`` if it is a regular file we may read (symlinks followed), else None."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode) or not os.access(path, os.R_OK):
        return None
    return _Entry(path, st.st_mtime_ns, (st.st_dev, st.st_ino))


def _list_files(directory: Path, keep: Callable[[str], bool] | None = None) -> list[_Entry]:
    """The regular, readable files directly in ``directory`` whose names pass ``keep``."""
    try:
        with os.scandir(directory) as it:
            names = [e.name for e in it if keep is None or keep(e.name)]
    except OSError:
        return []
    out = [e for name in sorted(names) if (e := _file_entry(directory / name)) is not None]
    return out


def _in_family(live_name: str) -> Callable[[str], bool]:
    return lambda name: name == live_name or rotation_key(live_name, name) is not None


def _newest_first(members: list[tuple[_Entry, _Rotation]]) -> list[_Entry]:
    numbered = sorted((m for m in members if m[1].index is not None), key=lambda m: m[1].index or 0)
    stamped = sorted(
        (m for m in members if m[1].index is None),
        key=lambda m: (m[1].stamp or "", m[0].mtime_ns, m[0].path.name),
        reverse=True,
    )
    out: list[_Entry] = []
    i = j = 0
    while i < len(numbered) and j < len(stamped):
        if numbered[i][0].mtime_ns >= stamped[j][0].mtime_ns:
            out.append(numbered[i][0])
            i += 1
        else:
            out.append(stamped[j][0])
            j += 1
    out.extend(m[0] for m in numbered[i:])
    out.extend(m[0] for m in stamped[j:])
    return out


def _family(listing: Iterable[_Entry], live_name: str) -> list[_Entry]:
    members: list[tuple[_Entry, _Rotation]] = []
    for entry in listing:
        for reading in _readings(entry.path.name):
            if reading.live == live_name:
                members.append((entry, reading))
                break
    return _newest_first(members)


def rotations(live: str | os.PathLike[str]) -> list[Path]:
    """The rotated files of ``live`` in its directory, newest first.

    The tailer uses this to find the files rotated after the one it was reading,
    so no file is skipped when several rotations happen between two polls.
    """
    live = Path(live)
    return [e.path for e in _family(_list_files(live.parent, _in_family(live.name)), live.name)]


def _group_name(workspace: Path, live: Path) -> str:
    try:
        return live.relative_to(workspace).as_posix()
    except ValueError:
        return live.as_posix()


class _Collector:
    """Builds the result, keeping the first claim on a file reached by two paths."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.seen: set[tuple[int, int]] = set()
        self.files: list[SourceFile] = []

    def add_family(self, live: Path, fmt: str, listing: list[_Entry]) -> None:
        group = _group_name(self.workspace, live)
        rank = 0
        for entry in _family(listing, live.name):
            if entry.ident in self.seen:
                continue
            self.seen.add(entry.ident)
            rank += 1
            self.files.append(SourceFile(entry.path, fmt, group, rank, False))
        for entry in listing:
            if entry.path.name == live.name and entry.ident not in self.seen:
                self.seen.add(entry.ident)
                self.files.append(SourceFile(entry.path, fmt, group, 0, True))

    def add_single(self, entry: _Entry, fmt: str) -> None:
        if entry.ident in self.seen:
            return
        self.seen.add(entry.ident)
        group = _group_name(self.workspace, entry.path)
        self.files.append(SourceFile(entry.path, fmt, group, 0, True))


def _app_live_name(name: str) -> str | None:
    """The live ``*.log`` that a file in the log directory belongs to (itself if live)."""
    for reading in _readings(name):
        if reading.live.endswith(".log"):
            return reading.live
    return name if name.endswith(".log") else None


def _subdirs(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except OSError:
        return []
    out = []
    for entry in entries:
        try:
            if entry.is_dir():
                out.append((entry.is_symlink(), entry.name, Path(entry.path)))
        except OSError:
            continue
    return [p for _, _, p in sorted(out)]


def discover(settings: Settings, *, jobs: bool = True) -> list[SourceFile]:
    """Every log file of the workspace, grouped by live file, in the order to read history.

    Sorted by group; within a group the oldest rotated file comes first and the live
    file last. Missing directories and unreadable entries are skipped: discovery runs
    on a heartbeat and must never stop the console. Directories are visited to a
    fixed depth, so symlink loops cannot recurse; a file reached twice (through a
    symlink, or a log directory that is the workspace) is listed once, under its
    first claim, in the order ``oos.log``, ``ai_events.log``, app logs, job logs.

    Args:
        settings: the workspace.
        jobs: also the job logs under ``out/`` (hundreds of directories; the
            console's first look leaves them for its second).

    Returns:
        The files found; rotated files have ``rotation_rank`` 1 for the newest.
    """
    found = _Collector(settings.workspace)
    for live, fmt in ((settings.oos_log, "pipe"), (settings.ai_events_log, "ai")):
        found.add_family(live, fmt, _list_files(live.parent, _in_family(live.name)))

    logs_dir = settings.logs_dir
    listing = _list_files(logs_dir, lambda name: _app_live_name(name) is not None)
    live_names = sorted({n for e in listing if (n := _app_live_name(e.path.name)) is not None})
    for name in live_names:
        found.add_family(logs_dir / name, "app", listing)

    for job in _subdirs(settings.out_dir) if jobs else ():
        for entry in _list_files(job / "logs", lambda name: name.endswith(".log")):
            found.add_single(entry, "pylog")
        for stage_dir in _subdirs(job):
            if (stage_log := _file_entry(stage_dir / "stage.log")) is not None:
                found.add_single(stage_log, "pylog")

    found.files.sort(key=lambda f: (f.group, -f.rotation_rank))
    return found.files
