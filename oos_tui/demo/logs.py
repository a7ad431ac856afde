"""The workspace's live logs, written only through the format modules' writers.

A line is produced by :mod:`oos_tui.formats` (one definition of each format)
and then appended here. Two things happen on the way:

* While the simulation is inside a store transaction the lines are held, and
  written only once it commits, so the logs never describe an action the
  store rolled back.
* A small share of lines is deliberately damaged (a JSON object cut short, a
  pipe line missing a field) so the console's parse-error path has real work.
  That damage is the one place bytes are shaped by hand rather than by a
  writer, on purpose: no writer can be asked to write a broken line.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oos_tui.demo.rotation import LogFile
from oos_tui.formats import ai, applog, pipe

__all__ = ["APP_LOGS", "Logs"]

APP_LOGS: tuple[str, ...] = ("worker", "api", "collector")
"""The application logs under ``logs/``; ``collector`` holds container-variant lines."""


class Logs:
    """``oos.log``, ``ai_events.log`` and ``logs/*.log`` of one workspace.

    Args:
        workspace: The workspace directory.
        noise: The random stream that decides which lines are damaged.
        malformed_share: Share of lines damaged (about 0.5 % by default).
        rotate_bytes: Rotation size of ``ai_events.log`` (numbered rotation).
        app_rotate_bytes: Rotation size of each application log (stamped rotation)
            and of ``oos.log`` (numbered), so a long demo never fills the disk.
        keep: Rotated files kept per log.
    """

    def __init__(
        self,
        workspace: Path,
        noise: random.Random,
        *,
        malformed_share: float,
        rotate_bytes: int,
        app_rotate_bytes: int,
        keep: int = 5,
    ) -> None:
        self.workspace = workspace
        self._noise = noise
        self._share = malformed_share
        self.oos = LogFile(
            workspace / "oos.log", max_bytes=app_rotate_bytes, keep=keep, style="numbered"
        )
        self.ai_events = LogFile(
            workspace / "ai_events.log", max_bytes=rotate_bytes, keep=keep, style="numbered"
        )
        self.app: dict[str, LogFile] = {
            name: LogFile(
                workspace / "logs" / f"{name}.log",
                max_bytes=app_rotate_bytes,
                keep=keep,
                style="stamped",
            )
            for name in APP_LOGS
        }
        self.malformed: dict[str, int] = {}
        self._held: list[tuple[LogFile, bytes, float]] | None = None

    def files(self) -> dict[str, LogFile]:
        """Every live log by its path relative to the workspace."""
        out = {"oos.log": self.oos, "ai_events.log": self.ai_events}
        out.update({f"logs/{name}.log": log for name, log in self.app.items()})
        return out

    def hold(self) -> None:
        """Keep lines back until :meth:`release` (a store transaction is open)."""
        self._held = []

    def release(self) -> None:
        """The transaction committed: write the held lines in order."""
        held, self._held = self._held, None
        for log, data, ts in held or ():
            log.write(data, ts)

    def discard(self) -> None:
        """The transaction rolled back: forget the held lines."""
        self._held = None

    def _put(self, log: LogFile, data: bytes, ts: float, kind: str) -> None:
        if self._share and self._noise.random() < self._share:
            data = self._damage(data, kind)
            key = str(log.path.relative_to(self.workspace))
            self.malformed[key] = self.malformed.get(key, 0) + 1
        if self._held is not None:
            self._held.append((log, data, ts))
        else:
            log.write(data, ts)

    def _damage(self, line: bytes, kind: str) -> bytes:
        body = line.rstrip(b"\n")
        if kind == "pipe" and self._noise.random() < 0.5:
            fields = body.split(b"|", 5)
            del fields[2]  # a producer that forgot the content type: five fields
            return b"|".join(fields) + b"\n"
        # A write cut short: the JSON object never closes.
        start = body.find(b"{") + 1 if kind == "pipe" else 1
        cut = self._noise.randrange(max(start, 1), max(start + 1, len(body) - 1))
        return body[:cut] + b"\n"

    def pipe(
        self,
        ts: float,
        event_type: str,
        content_type: str,
        source: str,
        item_id: str | None,
        data: Any,
    ) -> None:
        """One ``oos.log`` line (see :func:`oos_tui.formats.pipe.write_line`)."""
        line = pipe.write_line(ts, event_type, content_type, source, item_id, data)
        self._put(self.oos, line, ts, "pipe")

    def ai(
        self,
        ts: float,
        event_type: str,
        category: str,
        source: str,
        details: Mapping[str, Any] | None,
        system_metrics: Mapping[str, Any] | None = None,
        ai_analysis: Any = None,
    ) -> None:
        """One ``ai_events.log`` line (see :func:`oos_tui.formats.ai.write_line`)."""
        line = ai.write_line(
            ts, event_type, category, source, details, system_metrics, None, ai_analysis
        )
        self._put(self.ai_events, line, ts, "json")

    def app_line(
        self,
        log: str,
        ts: float,
        level: str,
        source: str,
        message: str,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """One application line in ``logs/<log>.log``."""
        line = applog.write_line(ts, level, source, message, context, metadata)
        self._put(self.app[log], line, ts, "json")

    def container(
        self,
        ts: float,
        level: str | None,
        service: str,
        content: str,
        stream: str = "stdout",
        **extra: Any,
    ) -> None:
        """One collected container line in ``logs/collector.log``."""
        line = applog.write_container_line(ts, level, service, content, stream, **extra)
        self._put(self.app["collector"], line, ts, "json")

    def counts(self) -> dict[str, int]:
        """Lines written per live log (all rotations included)."""
        return {key: log.lines for key, log in self.files().items()}

    def rotations(self) -> dict[str, int]:
        """Rotations per live log."""
        return {key: log.rotations for key, log in self.files().items()}

    def close(self) -> None:
        """Close every file; lines held for an unfinished transaction are dropped with it."""
        self._held = None
        for log in self.files().values():
            log.close()
