"""Resources pane: the workspace's disk use (store, WAL, logs, backups, job outputs), growth."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.content import Content

from oos_tui.sources.sizes import WorkspaceSizes
from oos_tui.sources.system import HostSample
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.panel import Panel

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["SizeTable", "growth_text", "render_sizes"]

_ROWS: tuple[tuple[str, str], ...] = (
    ("store", "store"),
    ("wal", "WAL"),
    ("logs", "logs"),
    ("backups", "backups"),
    ("out", "out"),
)
_FILES = {"logs": "log_files", "backups": "backup_files", "out": "out_files"}
_HORIZON = 90 * 86400.0
"""Beyond this, "full in" is noise: growth rates over minutes say nothing about months."""


def growth_text(rate: float | None) -> str:
    """A growth rate in bytes/s as the operator reads it: per minute when fast, else per hour.

    None means only one measurement so far; a rate under one byte a minute
    is "steady" rather than a misleading ``+0 B/h``.
    """
    if rate is None:
        return "…"
    per_min = rate * 60.0
    if abs(per_min) < 1.0:
        return "steady"
    sign = "+" if rate > 0 else "-"
    if abs(per_min) >= 1000.0:
        return f"{sign}{format_bytes(abs(per_min))}/min"
    return f"{sign}{format_bytes(abs(rate * 3600.0))}/h"


def _full_in(host: HostSample | None, rates: Mapping[str, float | None]) -> str | None:
    if host is None or not host.disk_total:
        return None
    growth = sum(r for r in rates.values() if r is not None and r > 0)
    if growth <= 0:
        return None
    seconds = (host.disk_total - host.disk_used) / growth
    return None if seconds > _HORIZON else format_duration(seconds)


def render_sizes(
    sizes: WorkspaceSizes | None,
    rates: Mapping[str, float | None],
    host: HostSample | None,
    width: int,
    height: int,
) -> Content:
    """One line per part: size, growth rate, file count; then the filesystem when room allows.

    The last line answers the question behind a disk alert: how much room is
    left, and how long the workspace's current growth takes to fill it.
    """
    if sizes is None:
        return Content("measuring… (the workspace is measured every 30 s)")
    lines: list[Content] = []
    show_head = height >= len(_ROWS) + 2
    with_files = width >= 40
    if show_head:
        lines.append(
            Content.styled(
                f"{'':<8}{'size':>9} {'growth':<13}" + ("files" if with_files else ""),
                "$text-muted",
            )
        )
    for key, label in _ROWS:
        size = getattr(sizes, key)
        shown = format_bytes(size)
        if key == "out" and not sizes.out_complete:
            shown = "≥" + shown
        rate = rates.get(key)
        growing = rate is not None and rate * 60.0 >= 1.0
        files = getattr(sizes, _FILES[key]) if key in _FILES else None
        lines.append(
            Content.assemble(
                (f"{label:<8}", "bold"),
                f"{shown:>9} ",
                (f"{growth_text(rate):<13}", "$accent" if growing else "$text-muted"),
                ("" if files is None or not with_files else f"{files} files", "$text-muted"),
            ).truncate(width, ellipsis=True)
        )
    if host is not None and host.disk_total and len(lines) < height:
        free = host.disk_total - host.disk_used
        full = _full_in(host, rates)
        lines.append(
            Content.styled(
                f"filesystem {host.disk_percent:.0f}% used, {format_bytes(free)} free"
                + (f", full in ~{full} at this growth" if full else ""),
                "$text-muted",
            ).truncate(width, ellipsis=True)
        )
    if len(lines) < height:
        lines.append(
            Content.styled(
                f"total {format_bytes(sizes.total)}, measured in {sizes.cost * 1000:.0f} ms",
                "$text-muted",
            ).truncate(width, ellipsis=True)
        )
    return Content("\n").join(lines[:height])


class SizeTable(Panel):
    """Bytes per part of the workspace and how fast each grows."""

    SOURCE = "os.scandir walks of the workspace every 30 s"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Workspace sizes", id=id)
        self._sizes: WorkspaceSizes | None = None
        self._rates: Mapping[str, float | None] = {}
        self._host: HostSample | None = None

    def source(self, settings: Settings) -> str:
        """The provenance line: what is measured, and how."""
        return "os.scandir every 30 s: store, its -wal, logs with rotations, backups, out/"

    def show_sizes(
        self,
        sizes: WorkspaceSizes | None,
        rates: Mapping[str, float | None],
        host: HostSample | None,
    ) -> None:
        """The latest measurement, its growth rates and the filesystem's figures."""
        self._sizes, self._rates, self._host = sizes, rates, host
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        region = self.content_region
        self.show(
            render_sizes(
                self._sizes, self._rates, self._host, region.width or 36, region.height or 5
            )
        )
