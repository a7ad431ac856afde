"""A deterministic, psutil-shaped stand-in for tests, snapshots and the demo's screenshots.

:class:`FakePsutil` offers the functions and classes the console's samplers
call (``cpu_percent``, ``getloadavg``, ``virtual_memory``, ``swap_memory``,
``disk_usage``, ``disk_io_counters``, ``Process``, ``process_iter`` and the
exception classes), with stable, plausible values: a small host running the
OOS producer and three workers. Every figure is an attribute a test may
change between calls (``fake.load = (5.2, 4.8, 3.0)``), and processes can be
added, removed or made unreadable to exercise vanished pids and access
denied. The console's own process is whatever pid the caller asks for as
``os.getpid()``, reported under the fixed :attr:`FakePsutil.self_pid` so
rendered output never depends on the real pid.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

__all__ = [
    "AccessDenied",
    "Error",
    "FakeProc",
    "FakeProcess",
    "FakePsutil",
    "NoSuchProcess",
    "ZombieProcess",
    "default_processes",
]

GiB = 1024**3
MiB = 1024**2
BASE_TIME = 1_800_000_000.0  # 2027-01-15T08:00:00Z: every fake process started before it


class Error(Exception):
    """Base of the fake's exceptions, like ``psutil.Error``."""


class NoSuchProcess(Error):
    """The process is gone (``psutil.NoSuchProcess``)."""

    def __init__(self, pid: int, name: str | None = None, msg: str | None = None) -> None:
        super().__init__(msg or f"process no longer exists (pid={pid})")
        self.pid = pid
        self.name = name


class ZombieProcess(NoSuchProcess):
    """The process is a zombie (``psutil.ZombieProcess``)."""


class AccessDenied(Error):
    """Not allowed to read the process (``psutil.AccessDenied``)."""

    def __init__(self, pid: int | None = None, name: str | None = None) -> None:
        super().__init__(f"access denied (pid={pid})")
        self.pid = pid
        self.name = name


class _VirtualMemory(NamedTuple):
    total: int
    available: int
    percent: float
    used: int
    free: int


class _Swap(NamedTuple):
    total: int
    used: int
    free: int
    percent: float
    sin: int
    sout: int


class _DiskUsage(NamedTuple):
    total: int
    used: int
    free: int
    percent: float


class _DiskIO(NamedTuple):
    read_count: int
    write_count: int
    read_bytes: int
    write_bytes: int
    read_time: int
    write_time: int


class _MemInfo(NamedTuple):
    rss: int
    vms: int


@dataclass(frozen=True)
class FakeProc:
    """What one fake process reports."""

    pid: int
    name: str
    cmdline: tuple[str, ...]
    cpu_percent: float = 0.0
    rss: int = 48 * MiB
    threads: int = 4
    create_time: float = BASE_TIME - 3600.0
    status: str = "sleeping"
    denied: bool = False
    """Every figure raises :class:`AccessDenied`, as another user's process may."""


def default_processes(self_pid: int = 4242) -> tuple[FakeProc, ...]:
    """The host of the snapshots: the console, the producer, three workers and bystanders."""
    return (
        FakeProc(1, "systemd", ("/sbin/init",), 0.0, 12 * MiB, 1, BASE_TIME - 86400.0 * 12),
        FakeProc(812, "sshd", ("sshd: operator@pts/0",), 0.0, 9 * MiB, 1, BASE_TIME - 7200.0),
        FakeProc(
            901, "postgres", ("postgres", "-D", "/var/lib/pg"), 0.0, 0, 0, BASE_TIME, denied=True
        ),
        FakeProc(
            4100,
            "python3",
            ("/usr/bin/python3", "-m", "oos_tui.demo", "--workspace", "/srv/oos"),
            14.0,
            64 * MiB,
            5,
            BASE_TIME - 5400.0,
            "running",
        ),
        FakeProc(
            4101,
            "oos-worker",
            ("/srv/oos/.venv/bin/oos-worker", "--queue", "ingest"),
            31.5,
            212 * MiB,
            8,
            BASE_TIME - 5390.0,
            "running",
        ),
        FakeProc(
            4102,
            "oos-worker",
            ("/srv/oos/.venv/bin/oos-worker", "--queue", "transcribe"),
            87.2,
            1400 * MiB,
            12,
            BASE_TIME - 5380.0,
            "running",
        ),
        FakeProc(
            4103,
            "oos-worker",
            ("/srv/oos/.venv/bin/oos-worker", "--queue", "publish"),
            0.0,
            96 * MiB,
            4,
            BASE_TIME - 5370.0,
        ),
        FakeProc(
            self_pid,
            "oos-tui",
            ("/srv/oos/.venv/bin/python3", "/srv/oos/.venv/bin/oos-tui", "-w", "/srv/oos"),
            1.8,
            92 * MiB,
            6,
            BASE_TIME - 600.0,
            "running",
        ),
    )


class FakeProcess:
    """A ``psutil.Process`` look-alike over a :class:`FakePsutil`'s process table."""

    def __init__(self, owner: FakePsutil, pid: int) -> None:
        self._owner = owner
        self.pid = owner.self_pid if pid == os.getpid() else pid
        self._primed = False
        self.info: dict[str, Any] = {}
        spec = owner.processes.get(self.pid)
        if spec is None:
            raise NoSuchProcess(self.pid)
        # Like psutil, the start time is read once: it is the process's identity.
        self._created = spec.create_time

    def _spec(self, *, figures: bool = True) -> FakeProc:
        spec = self._owner.processes.get(self.pid)
        if spec is None or spec.create_time != self._created:
            raise NoSuchProcess(self.pid)
        if spec.denied and figures:
            raise AccessDenied(self.pid, spec.name)
        if spec.status == "zombie" and figures:
            raise ZombieProcess(self.pid, spec.name)
        return spec

    @contextlib.contextmanager
    def oneshot(self) -> Iterator[None]:
        """A no-op, as the real one is a cache."""
        yield

    def name(self) -> str:
        """The process name (readable even when its figures are not)."""
        return self._spec(figures=False).name

    def cmdline(self) -> list[str]:
        """The command line."""
        return list(self._spec().cmdline)

    def cpu_percent(self, interval: float | None = None) -> float:
        """0.0 on the first call on this object (psutil's baseline), then the fixed figure."""
        spec = self._spec()
        if not self._primed:
            self._primed = True
            return 0.0
        return spec.cpu_percent

    def memory_info(self) -> _MemInfo:
        """RSS and VMS."""
        spec = self._spec()
        return _MemInfo(spec.rss, spec.rss * 3)

    def num_threads(self) -> int:
        """Thread count."""
        return self._spec().threads

    def create_time(self) -> float:
        """When it started (epoch seconds), as first read."""
        return self._created

    def status(self) -> str:
        """``running``, ``sleeping``, ``zombie``…"""
        return self._spec(figures=False).status

    def is_running(self) -> bool:
        """Whether this process still runs: the pid exists with the same start time."""
        spec = self._owner.processes.get(self.pid)
        return spec is not None and spec.create_time == self._created


@dataclass
class FakePsutil:
    """The fake module: pass an instance wherever a ``psutil_module`` is accepted."""

    cpu: float = 23.5
    per_cpu: tuple[float, ...] = (31.0, 18.0, 27.5, 17.5)
    load: tuple[float, float, float] = (0.62, 0.55, 0.48)
    mem_total: int = 16 * GiB
    mem_available: int = 9 * GiB + 512 * MiB
    swap_total: int = 4 * GiB
    swap_percent: float = 1.5
    disk_total: int = 500 * 10**9
    disk_used: int = 210 * 10**9
    io_step: tuple[int, int] = (3 * MiB, 5 * MiB)
    """Bytes read and written between two ``disk_io_counters`` calls."""
    self_pid: int = 4242
    processes: dict[int, FakeProc] = field(default_factory=dict)

    NoSuchProcess = NoSuchProcess
    AccessDenied = AccessDenied
    ZombieProcess = ZombieProcess
    Error = Error

    def __post_init__(self) -> None:
        if not self.processes:
            self.processes = {p.pid: p for p in default_processes(self.self_pid)}
        self._io_calls = 0

    # -- the host ----------------------------------------------------------

    def cpu_percent(self, interval: float | None = None, percpu: bool = False) -> Any:
        """System CPU %, or one figure per core."""
        return list(self.per_cpu) if percpu else self.cpu

    def cpu_count(self, logical: bool = True) -> int:
        """Core count, from ``per_cpu``."""
        return len(self.per_cpu)

    def getloadavg(self) -> tuple[float, float, float]:
        """1-, 5- and 15-minute load averages."""
        return self.load

    def virtual_memory(self) -> _VirtualMemory:
        """Memory, with ``percent`` as psutil computes it (used share of total)."""
        used = self.mem_total - self.mem_available
        percent = round(100.0 * used / self.mem_total, 1) if self.mem_total else 0.0
        return _VirtualMemory(self.mem_total, self.mem_available, percent, used, 0)

    def swap_memory(self) -> _Swap:
        """Swap use."""
        used = int(self.swap_total * self.swap_percent / 100.0)
        return _Swap(self.swap_total, used, self.swap_total - used, self.swap_percent, 0, 0)

    def disk_usage(self, path: str) -> _DiskUsage:
        """Usage of the filesystem holding ``path`` (the same figures for every path)."""
        percent = round(100.0 * self.disk_used / self.disk_total, 1) if self.disk_total else 0.0
        return _DiskUsage(
            self.disk_total, self.disk_used, self.disk_total - self.disk_used, percent
        )

    def disk_io_counters(self, perdisk: bool = False) -> _DiskIO:
        """Counters that advance by :attr:`io_step` per call."""
        n = self._io_calls
        self._io_calls += 1
        read, write = self.io_step
        return _DiskIO(
            1000 + 10 * n, 2000 + 20 * n, 10 * GiB + n * read, 20 * GiB + n * write, 0, 0
        )

    # -- processes ---------------------------------------------------------

    def Process(self, pid: int | None = None) -> FakeProcess:
        """The process ``pid`` (default: the caller itself).

        Raises:
            NoSuchProcess: no such pid in the table.
        """
        return FakeProcess(self, os.getpid() if pid is None else pid)

    def pids(self) -> list[int]:
        """Every pid, ascending."""
        return sorted(self.processes)

    def process_iter(
        self, attrs: Sequence[str] | None = None, ad_value: Any = None
    ) -> Iterator[FakeProcess]:
        """Every process in pid order, with ``info`` filled for ``attrs`` as psutil does."""
        for pid in self.pids():
            try:
                proc = FakeProcess(self, pid)
            except NoSuchProcess:
                continue
            for name in attrs or ():
                try:
                    proc.info[name] = pid if name == "pid" else getattr(proc, name)()
                except (AccessDenied, NoSuchProcess):
                    proc.info[name] = ad_value
            yield proc

    # -- helpers for tests -------------------------------------------------

    def add(self, procs: Iterable[FakeProc]) -> None:
        """Start processes (replacing any with the same pid)."""
        for p in procs:
            self.processes[p.pid] = p

    def kill(self, pid: int) -> None:
        """Make a process vanish."""
        self.processes.pop(pid, None)

    def change(self, pid: int, **figures: Any) -> None:
        """Change some figures of a running process."""
        self.processes[pid] = replace(self.processes[pid], **figures)
