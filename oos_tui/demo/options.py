"""The producer's settings, checked once, and their round trip to command-line flags."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from oos_tui.formats.base import format_ts

__all__ = [
    "DEFAULT_APP_ROTATE_BYTES",
    "DEFAULT_RATE",
    "DEFAULT_ROTATE_BYTES",
    "DemoOptions",
]

DEFAULT_RATE = 40.0
"""Ticks (simulated actions) per second: lively on screen, light on the CPU."""

DEFAULT_ROTATE_BYTES = 256 * 1024
"""``ai_events.log`` rotates small, so rotation shows within a session."""

DEFAULT_APP_ROTATE_BYTES = 10 * 1024 * 1024
"""``logs/*.log`` rotate at the contract's 10 MB."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """Everything one producer run needs.

    Attributes:
        workspace: The workspace directory (created if missing).
        seed: Seeds every random choice; same seed, same sequence of events.
        rate: Ticks per second of simulated time. Each tick is at most one
            worker or discovery action (one short store transaction) plus
            whatever periodic work falls due.
        speed: Every simulated delay (backoff, breaker retry window, task and
            stage durations, episode cadences) is divided by this.
        duration: Stop after this many wall-clock seconds.
        ticks: Stop after this many ticks.
        fixed_time: Start simulated time at this instant (epoch seconds)
            instead of now; metrics then come from a seeded model.
        rotate_bytes: Size at which ``ai_events.log`` rotates (``.1``…).
        app_rotate_bytes: Size at which ``oos.log`` and each ``logs/*.log`` rotate.
        rotate_keep: Rotated files kept per log.
        keep_jobs: Job directories kept under ``out/`` (oldest finished go first).
        malformed_share: Share of log lines deliberately written broken.
    """

    workspace: Path
    seed: int
    rate: float = DEFAULT_RATE
    speed: float = 1.0
    duration: float | None = None
    ticks: int | None = None
    fixed_time: float | None = None
    rotate_bytes: int = DEFAULT_ROTATE_BYTES
    app_rotate_bytes: int = DEFAULT_APP_ROTATE_BYTES
    rotate_keep: int = 5
    keep_jobs: int = 30
    malformed_share: float = 0.005

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.rate) and self.rate > 0):
            problems.append(f"--rate must be a positive number, got {self.rate}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            problems.append(f"--speed must be a positive number, got {self.speed}")
        if self.duration is not None and not (math.isfinite(self.duration) and self.duration >= 0):
            problems.append(f"--duration must not be negative, got {self.duration}")
        if self.ticks is not None and self.ticks < 0:
            problems.append(f"--ticks must not be negative, got {self.ticks}")
        if self.rotate_bytes < 1024 or self.app_rotate_bytes < 1024:
            problems.append("rotation sizes must be at least 1024 bytes")
        if self.rotate_keep < 1:
            problems.append(f"rotate_keep must be at least 1, got {self.rotate_keep}")
        if self.keep_jobs < 1:
            problems.append(f"--keep-jobs must be at least 1, got {self.keep_jobs}")
        if not 0 <= self.malformed_share <= 1:
            problems.append("malformed_share must be between 0 and 1")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def paced(self) -> bool:
        """False only for ``--fixed-time`` with ``--ticks``: then run as fast as possible."""
        return self.fixed_time is None or self.ticks is None

    def scaled(self, nominal: float) -> float:
        """A nominal delay of the real pipeline, in simulated seconds at this speed."""
        return nominal / self.speed

    def argv(self) -> list[str]:
        """The ``oos-tui demo --headless`` flags that reproduce these options."""
        out = [
            "--workspace",
            str(self.workspace),
            "--seed",
            str(self.seed),
            "--rate",
            repr(self.rate),
            "--speed",
            repr(self.speed),
            "--rotate-bytes",
            str(self.rotate_bytes),
            "--app-rotate-bytes",
            str(self.app_rotate_bytes),
            "--keep-jobs",
            str(self.keep_jobs),
        ]
        if self.duration is not None:
            out += ["--duration", repr(self.duration)]
        if self.ticks is not None:
            out += ["--ticks", str(self.ticks)]
        if self.fixed_time is not None:
            out += ["--fixed-time", format_ts(self.fixed_time, digits=6)]
        return out
