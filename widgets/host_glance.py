"""Overview panel: host CPU, memory, disk and load at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from oos_tui.sources.system import HostSample
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
) -> Content:
    """CPU with a sparkline, load averages, memory and disk; past a limit: ▲ and colour."""
    if not samples:
        return Content("sampling…")
    s = samples[-1]
    cpu_hist = [x.cpu_percent for x in samples]
    w = max(4, width - 16)

    def warn(flag: bool) -> str:
        return "bold $alert-warning" if flag else ""

    lines = [
        Content.assemble(
            (f"cpu {s.cpu_percent:5.1f}% ", ""), (spark(cpu_hist, w, top=100.0), "$primary")
        ),
        Content.assemble(
            (f"load {s.load1:.2f} {s.load5:.2f} {s.load15:.2f}", warn(s.load1 > load_limit)),
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
    return Content("\n").join(lines)


class HostGlance(Panel):
    """The host at a glance; ``enter`` opens Resources."""

    SOURCE = (
        "from psutil on this host: cpu_percent, getloadavg, virtual_memory, disk_usage(workspace)"
    )
    TARGET = "resources"
