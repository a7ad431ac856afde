"""The OOS pipeline's processes (and the console's own), found by command-line patterns.

A :class:`ProcessScanner` is a plain object called from a thread worker, less
often than the host sampler (``[refresh] process_scan_seconds``): listing
every process's command line is the expensive part. It keeps one psutil
``Process`` object per matched process across scans, because a process's
CPU % is the time it used since the previous call on the same object.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

__all__ = ["ProcInfo", "ProcessScanner", "compile_patterns"]

CMDLINE_MAX = 240
"""Command lines are cut to this many characters (the UI shows one row each)."""


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """One process as of one scan."""

    pid: int
    name: str
    cmdline: str
    """Joined, redacted, escaped and cut to :data:`CMDLINE_MAX`: safe to show."""
    cpu_percent: float | None
    """Since the previous scan; None on the first sight of a process or when denied."""
    rss: int | None
    threads: int | None
    started_at: float | None
    status: str
    is_self: bool
    """The console itself: always listed, so its own cost is visible."""
    matched: str | None
    """The pattern that matched the command line (None for the console alone)."""
    access_denied: bool = False

    def uptime(self, now: float) -> float | None:
        """Seconds since the process started."""
        return None if self.started_at is None else max(0.0, now - self.started_at)

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``processes`` entries of ``oos-tui status --json``."""
        return {
            "pid": self.pid,
            "name": self.name,
            "cmdline": self.cmdline,
            "cpu_percent": self.cpu_percent,
            "rss": self.rss,
            "threads": self.threads,
            "started_at": self.started_at,
            "uptime_seconds": None if self.started_at is None else round(self.uptime(now) or 0),
            "status": self.status,
            "is_self": self.is_self,
            "matched": self.matched,
            "access_denied": self.access_denied,
        }


def compile_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """Compile ``[processes] patterns``.

    Raises:
        ValueError: a pattern is not a valid regular expression (the message names it).
    """
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise ValueError(f"[processes] patterns: {p!r} is not a valid regex: {exc}") from None
    return tuple(out)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Identity:
    """What a pid was when first seen: reading a command line is the costly part of a scan."""

    created: float | None
    name: str
    cmdline: str
    matched: str | None
    proc: Any
    """Our own Process object: its CPU baseline must survive from scan to scan."""


class ProcessScanner:
    """Lists the processes whose command line matches a pattern, plus the console itself.

    A process's name and command line are read once, when its pid first
    appears, and again when psutil finds the pid reused (checked on every
    scan for the matched processes); every ``rescan_every`` scans all of
    them are read again, to catch a reused pid among those that did not
    match. A scan of an unchanged host is
    then a pid listing and the figures of the matched processes.
    """

    def __init__(
        self,
        patterns: Sequence[str],
        psutil_module: ModuleType | Any | None = None,
        *,
        self_pid: int | None = None,
        clean: Callable[[str], str] | None = None,
        cmdline_max: int = CMDLINE_MAX,
        rescan_every: int = 6,
    ) -> None:
        """Set up a scanner; nothing is read until :meth:`scan`.

        Args:
            patterns: regexes searched in the space-joined command line (or the
                process name when the command line cannot be read).
            psutil_module: ``psutil`` or a look-alike (:mod:`oos_tui.sources.fake_psutil`).
            self_pid: the console's pid (default: this process).
            clean: makes a command line safe to show; default the shared
                sanitizer (secrets in arguments are masked, controls escaped).
            cmdline_max: the length command lines are cut to.
            rescan_every: read every command line again after this many scans.

        Raises:
            ValueError: a pattern is not a valid regular expression.
        """
        if psutil_module is None:
            import psutil

            psutil_module = psutil
        if clean is None:
            from oos_tui.sanitize import default_sanitizer

            clean = default_sanitizer().clean
        ps: Any = psutil_module
        self._ps = ps
        self._patterns = compile_patterns(patterns)
        self._self_pid = os.getpid() if self_pid is None else self_pid
        self._clean = clean
        self._max = cmdline_max
        self._rescan_every = max(1, rescan_every)
        self._known: dict[int, _Identity] = {}
        self._primed: dict[int, Any] = {}  # pid -> the Process object with a CPU baseline
        self._scans = 0
        self._lost = (ps.NoSuchProcess,)
        self._denied = (ps.AccessDenied,)
        self._zombie = (getattr(ps, "ZombieProcess", ps.AccessDenied),)
        self.last_cost = 0.0
        """Seconds the last scan took (the console's own cost of watching)."""
        self.last_seen = 0
        """Processes looked at in the last scan."""

    def _match(self, text: str) -> str | None:
        for p in self._patterns:
            if p.search(text):
                return p.pattern
        return None

    def _identify(self, proc: Any) -> _Identity:
        """Read a process's name, start time and command line, and match it.

        Raises:
            NoSuchProcess: it is gone (the module's own exception class).
        """
        try:
            name = str(proc.name())
        except self._denied:
            name = ""
        try:
            created: float | None = float(proc.create_time())
        except self._denied:
            created = None
        try:
            cmd = proc.cmdline() or []
        except self._denied + self._zombie:
            cmd = []  # matched by name alone
        joined = " ".join(str(c) for c in cmd) if cmd else name
        cmdline = _shorten(self._clean(joined), self._max) if joined else ""
        return _Identity(created, name, cmdline, self._match(joined), proc)

    def scan(self) -> tuple[ProcInfo, ...]:
        """List the matching processes and the console, pipeline processes by pid first.

        A process that vanishes during the scan is left out; one whose figures
        cannot be read is listed with ``access_denied`` and no figures.
        """
        started = time.perf_counter()
        full = self._scans % self._rescan_every == 0
        self._scans += 1
        found: list[ProcInfo] = []
        listed: set[int] = set()
        for proc in self._ps.process_iter():
            pid = int(proc.pid)
            listed.add(pid)
            known = self._known.get(pid)
            try:
                if known is None or full:
                    fresh = self._identify(proc)
                    # Keep the old object (and its CPU baseline) for the same process.
                    same = known is not None and known.created == fresh.created
                    known = replace(fresh, proc=known.proc) if same and known else fresh
                    self._known[pid] = known
            except self._lost:
                self._known.pop(pid, None)
                continue
            if known.matched is None and pid != self._self_pid:
                continue
            got = self._figures(pid, known)
            if got is not None:
                found.append(got)
        if not any(p.is_self for p in found):
            # The console may not be listed (hidepid, a restricted container).
            try:
                me = self._ps.Process(self._self_pid)
                pid = int(me.pid)
                known = self._known.get(pid) or self._identify(me)
                self._known[pid] = known
                listed.add(pid)
                got = self._figures(pid, known, is_self=True)
            except self._lost + self._denied:
                got = None
            if got is not None:
                found.append(got)
        for pid in list(self._known):
            if pid not in listed:
                del self._known[pid]
        for pid in list(self._primed):
            if pid not in self._known:
                del self._primed[pid]
        found.sort(key=lambda p: (p.is_self, p.pid))
        self.last_seen = len(listed)
        self.last_cost = time.perf_counter() - started
        return tuple(found)

    def _figures(
        self, pid: int, known: _Identity, *, is_self: bool = False, again: bool = True
    ) -> ProcInfo | None:
        is_self = is_self or pid == self._self_pid
        proc = known.proc
        if again and not proc.is_running():
            # Gone, or the pid now belongs to another process: judge what is there.
            try:
                known = self._identify(self._ps.Process(pid))
            except self._lost:
                self._known.pop(pid, None)
                return None
            self._known[pid] = known
            if known.matched is None and not is_self:
                return None
            return self._figures(pid, known, is_self=is_self, again=False)
        first = self._primed.get(pid) is not proc
        try:
            with proc.oneshot():
                created = float(proc.create_time())
                status = str(proc.status())
                try:
                    cpu: float | None = float(proc.cpu_percent(None))
                    self._primed[pid] = proc
                    rss: int | None = int(proc.memory_info().rss)
                    threads: int | None = int(proc.num_threads())
                    denied = False
                except self._lost:
                    if status != "zombie":
                        raise
                    cpu = rss = threads = None
                    denied = False
                except self._denied:
                    cpu = rss = threads = None
                    denied = True
        except self._denied:
            return ProcInfo(
                pid, known.name, known.cmdline, None, None, None, known.created, "?",
                is_self, known.matched, True,
            )  # fmt: skip
        except self._lost:
            self._known.pop(pid, None)
            return None
        return ProcInfo(
            pid=pid,
            name=known.name,
            cmdline=known.cmdline,
            cpu_percent=None if first else cpu,
            rss=rss,
            threads=threads,
            started_at=created,
            status=status,
            is_self=is_self,
            matched=known.matched,
            access_denied=denied,
        )
