"""Resident memory of each tool with the 2M-line oos.log open, and of oos-tui after following.

Open: each tool is started in tmux at 200x50 on the benchmark's file (oos-tui
on the whole workspace, ``ours``, and on a workspace holding only oos.log,
``ours-solo``). We read the RSS of its process tree (psutil, children
included) when the file's last line is on screen, then again once it has
settled (CPU under 10 % of a core for three seconds in a row, at most 90 s: oos-tui
finishes its full index in the background after the first screen), and the
peak (``VmHWM`` from /proc) at that point.

Soak: oos-tui (``ours-solo``, Events screen, following) on a copy of the
file while the follow_latency writer appends at ``--soak-rate`` lines/s for
``--soak-minutes``; RSS sampled every 10 s. The target is about an hour of
following; a shorter run is reported as such, with its trend (the medians of
the first and last thirds of the samples) extrapolated in a straight line to
60 minutes.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    SCRATCH,
    TOOLS,
    ProcTree,
    Terminal,
    base_parser,
    emit,
    fmt_triple,
    lnav_file,
    load_workspace,
    open_viewer,
    parse_args,
    summary,
    tool_list,
    uptime,
    versions,
    viewers,
    warm,
)
from follow_latency import start_writer

MB = 1e6


def peak_rss(proc: ProcTree) -> int:
    """The tree's peak resident bytes so far (``VmHWM``), summed over its processes."""
    total = 0
    for p in proc._procs():
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def open_memory(doc: dict[str, Any], tools: list[str], runs: int) -> dict[str, Any]:
    """RSS at first screen, settled, and peak, per tool: min/median/max over runs."""
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(runs):
        warm(Path(doc["workspace"]) / "oos.log")
        warm(lnav_file(doc))
        for viewer in viewers(doc, tools):
            got = samples.setdefault(
                viewer.name,
                {"rss_first_screen_mb": [], "rss_settled_mb": [], "peak_mb": [], "settle_s": []},
            )
            with Terminal() as term:
                opened = open_viewer(term, viewer, doc["markers"]["oos"], 120.0)
                if opened["last_line"] is None:
                    print(f"  {viewer.name}: last line never showed")
                    continue
                proc = ProcTree(term.pane_pid())
                got["rss_first_screen_mb"].append(proc.rss() / MB)
                got["settle_s"].append(proc.settle())
                got["rss_settled_mb"].append(proc.rss() / MB)
                got["peak_mb"].append(peak_rss(proc) / MB)
            print(
                f"  {viewer.name:<10} first screen {got['rss_first_screen_mb'][-1]:7.1f} MB"
                f"  settled {got['rss_settled_mb'][-1]:7.1f} MB"
                f" (after {got['settle_s'][-1]:4.1f} s)  peak {got['peak_mb'][-1]:7.1f} MB",
                flush=True,
            )
    return {name: {k: summary(v) for k, v in got.items()} for name, got in samples.items()}


def soak(doc: dict[str, Any], minutes: float, rate: int) -> dict[str, Any]:
    """oos-tui following a growing copy of oos.log: RSS over time."""
    folder = SCRATCH / "soak"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    file = folder / "oos.log"
    shutil.copyfile(Path(doc["workspace"]) / "oos.log", file)
    viewer = viewers(doc, ["ours-solo"], follow_file=file)[0]
    seconds = minutes * 60
    samples: list[tuple[float, float]] = []
    result: dict[str, Any] = {"minutes": minutes, "rate": rate, "scaled": minutes < 60}
    with Terminal() as term:
        opened = open_viewer(term, viewer, doc["markers"]["oos"], 120.0)
        if opened["last_line"] is None:
            return result | {"error": "the last line never showed"}
        proc = ProcTree(term.pane_pid())
        proc.settle()
        writer = start_writer(file, rate, seconds, doc["end_ts"], folder / "writer.json")
        began = time.monotonic()
        cpu0 = proc.cpu()
        step = min(10.0, max(1.0, seconds / 10))
        while writer.poll() is None:
            samples.append((time.monotonic() - began, proc.rss() / MB))
            time.sleep(step)
        samples.append((time.monotonic() - began, proc.rss() / MB))
        result["cpu_percent"] = 100 * (proc.cpu() - cpu0) / (time.monotonic() - began)
        result["still_following"] = "FW" in term.capture()
        result["peak_mb"] = peak_rss(proc) / MB
    shutil.rmtree(folder, ignore_errors=True)
    slope = _trend(samples) * 60
    end_mb = samples[-1][1]
    result.update(
        {
            "samples": samples,
            "start_mb": samples[0][1],
            "end_mb": end_mb,
            "max_mb": max(mb for _, mb in samples),
            "slope_mb_per_min": slope,
            "extrapolated_60min_mb": end_mb + max(0.0, slope) * max(0.0, 60 - minutes),
        }
    )
    return result


def _trend(points: list[tuple[float, float]]) -> float:
    """MB per second between the medians of the first and last thirds of the samples.

    RSS saw-tooths by 100 MB as temporaries come and go; medians of thirds
    follow the trend where a least-squares line over a few minutes follows
    the teeth.
    """
    if len(points) < 3:
        return 0.0
    third = len(points) // 3
    first, last = points[:third], points[-third:]
    dt = statistics.median(p[0] for p in last) - statistics.median(p[0] for p in first)
    dm = statistics.median(p[1] for p in last) - statistics.median(p[1] for p in first)
    return dm / dt if dt > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--tools", default=",".join(TOOLS), help="tools for the open measure")
    parser.add_argument("--soak-minutes", type=float, default=5.0, help="following time (0: skip)")
    parser.add_argument("--soak-rate", type=int, default=2000, help="lines/s while following")
    args = parse_args(parser, argv)
    doc = load_workspace(args.workspace)
    runs = 1 if args.smoke else args.runs
    minutes = 0.04 if args.smoke else args.soak_minutes
    print(f"memory: {runs} run(s), soak {minutes:g} min at {args.soak_rate}/s; {uptime()}")
    result: dict[str, Any] = {
        "what": "resident set size of the tool's process tree, MB (10^6 bytes)",
        "load_before": uptime(),
        "runs": runs,
        "versions": versions(),
        "open": open_memory(doc, tool_list(args.tools), runs),
    }
    for name, res in result["open"].items():
        print(f"{name:<10} settled {fmt_triple(res['rss_settled_mb'], unit='MB')}")
    if minutes > 0:
        result["soak"] = soak(doc, minutes, args.soak_rate)
        s = result["soak"]
        if "error" in s:
            print(f"soak: {s['error']}")
        else:
            print(
                f"soak {minutes:g} min at {args.soak_rate}/s: {s['start_mb']:.0f} -> "
                f"{s['end_mb']:.0f} MB (max {s['max_mb']:.0f}), "
                f"{s['slope_mb_per_min']:+.2f} MB/min, "
                f"60 min extrapolated {s['extrapolated_60min_mb']:.0f} MB"
            )
    emit(result, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
