"""Overview panel: host CPU, memory, disk and load at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from oos_tui.sources.system import HostSample
from oos_tui.units import format_rate
from oos_tui.widgets.panel import Panel
from oos_tui.widgets.spark import spark

__all__ = ["HostGlance", "render_host_glance"]


def _gib(n: int) -> str:
    return f"{n / 2**30:.0f}G" if n >= 10 * 2**30 else f"{n / 2**30:.1f}G"


def render_host_glance(
    samples: Sequence[HostSample],
    width: int,
    *,
    disk_limit: float,
    load_limit: float,
    mem_floor: float,
    height: int = 4,
) -> Content:
    """CPU with a sparkline, load averages, memory and disk; past a limit: ▲ and colour.

    Taller panels (large terminals) also get swap, disk I/O and per-core CPU.
    Figures are shown at glance precision (whole percent, one decimal of
    load) so a quiet host produces identical content and nothing repaints;
    the Resources screen has the fine figures.
    """
    if not samples:
        return Content("sampling…")
    s = samples[-1]
    cpu_hist = [x.cpu_percent for x in samples]
    w = max(4, width - 14)

    def warn(flag: bool) -> str:
        return "bold $alert-warning" if flag else ""

    lines = [
        Content.assemble(
            (f"cpu {s.cpu_percent:3.0f}% ", ""), (spark(cpu_hist, w, top=100.0), "$primary")
        ),
        Content.assemble(
            (f"load {s.load1:.1f} {s.load5:.1f} {s.load15:.1f}", warn(s.load1 > load_limit)),
            (" ▲" if s.load1 > load_limit else "", warn(True)),
        ),
        Content.assemble(
            (
                f"mem  {s.mem_percent:.0f}% used, {s.mem_available_percent:.0f}% avail",
                warn(s.mem_available_percent < mem_floor),
            ),
            (" ▲" if s.mem_available_percent < mem_floor else "", warn(True)),
        ),
        Content.assemble(
            (
                f"disk {s.disk_percent:.0f}% of {_gib(s.disk_total)}",
                warn(s.disk_percent > disk_limit),
            ),
            (" ▲" if s.disk_percent > disk_limit else "", warn(True)),
        ),
    ]
    if height > len(lines):
        lines.append(Content(f"swap {s.swap_percent:.0f}%"))
    if height > len(lines) and s.disk_read_bps is not None:
        read, write = format_rate(s.disk_read_bps), format_rate(s.disk_write_bps or 0.0)
        lines.append(Content(f"io   read {read}  write {write}"))
    if height > len(lines) and s.per_cpu:
        cores = " ".join(f"{c:.0f}%" for c in s.per_cpu)
        lines.append(Content(f"cores {cores}"[:width]))
    return Content("\n").join(lines)


class HostGlance(Panel):
    """The host at a glance; ``enter`` opens Resources."""

    SOURCE = "psutil on this host: cpu, load, memory, disk of the workspace's filesystem"
    TARGET = "resources"
