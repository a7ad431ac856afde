"""Idle cost: CPU and bytes written to the terminal per second, on a quiet workspace.

Nothing writes to the workspace while we measure. Each tool is opened in
tmux at 200x50 on the benchmark workspace (oos-tui on the whole workspace:
its store polls, job scans and host sampling are part of its idle cost; and
on the workspace holding only oos.log), left to settle after the last line
shows (CPU under 10 % of a core for three seconds in a row, at most 90 s), then
observed for ``--seconds``: CPU % of one core from psutil's CPU times of the
process tree, and the bytes it wrote to its terminal, taken with
``tmux pipe-pane -O 'cat >> FILE'``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    TOOLS,
    ProcTree,
    Terminal,
    base_parser,
    emit,
    load_workspace,
    open_viewer,
    parse_args,
    tool_list,
    uptime,
    versions,
    viewers,
)


def idle_once(doc: dict[str, Any], tool: str, seconds: float) -> dict[str, Any] | None:
    """One tool: CPU % and terminal bytes/s over ``seconds`` once settled."""
    found = viewers(doc, [tool])
    if not found:
        return None
    with Terminal() as term, tempfile.TemporaryDirectory(prefix="oosbench-idle-") as tmp:
        opened = open_viewer(term, found[0], doc["markers"]["oos"], 120.0)
        if opened["last_line"] is None:
            return {"error": "the last line never showed"}
        proc = ProcTree(term.pane_pid())
        settle = proc.settle()
        out = Path(tmp) / "pane.out"
        out.touch()
        term.pipe_output(out)
        cpu0, t0 = proc.cpu(), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = proc.cpu(), time.monotonic()
        term.pipe_output(None)
        time.sleep(0.1)
        written = out.stat().st_size
        return {
            "settle_s": settle,
            "seconds": t1 - t0,
            "cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0),
            "bytes": written,
            "bytes_per_s": written / (t1 - t0),
            "rss_mb": proc.rss() / 1e6,
        }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--seconds", type=float, default=30.0, help="observation time per tool")
    args = parse_args(parser, argv)
    doc = load_workspace(args.workspace)
    seconds = 1.0 if args.smoke else args.seconds
    print(f"idle cost: {seconds:g} s per tool; {uptime()}")
    result: dict[str, Any] = {
        "what": "CPU % of one core and bytes/s to the terminal, quiet workspace",
        "load_before": uptime(),
        "seconds": seconds,
        "versions": versions(),
        "tools": {},
    }
    for tool in tool_list(args.tools):
        res = idle_once(doc, tool, seconds)
        if res is None:
            continue
        result["tools"][tool] = res
        if "error" in res:
            print(f"  {tool:<10} {res['error']}")
        else:
            print(
                f"  {tool:<10} cpu {res['cpu_percent']:5.2f} %  "
                f"{res['bytes_per_s']:9,.0f} B/s to the terminal  rss {res['rss_mb']:6.1f} MB"
                f"  (settled after {res['settle_s']:.1f} s)",
                flush=True,
            )
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
